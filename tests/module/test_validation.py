"""Request validation (docs/validation.md): every bad input gets its exact
status, error code and field, and the backend receives nothing; valid
inputs are forwarded, normalised where documented."""

import json

import pytest

from ngxtest import (API_KEY, assert_error, assert_nothing_sent, auth,
                     final, raw_request)

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
U = "https://a.example"


def reject(ngx, backend, body, status, code, field, path=PDF,
           headers=None):
    hdrs = {**auth(), **(headers or {})}
    if isinstance(body, bytes):
        hdrs.setdefault("Content-Type", "application/json")
    before = len(backend.messages())
    resp = ngx.request("POST", path, body, hdrs)
    err = assert_error(resp, status, code, field)
    assert_nothing_sent(ngx, backend, before)
    return err


def forwarded(ngx, backend, body, path=PDF, headers=None):
    """Sends a valid body, returns the message the backend got."""
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    before = len(backend.messages())
    resp = ngx.request("POST", path, body, {**auth(), **(headers or {})})
    assert resp.status == 202, resp.body
    msgs = backend.messages()
    assert len(msgs) == before + 1
    return msgs[-1]


# --- pdf_options -----------------------------------------------------------

PDF_BAD = [
    ({"page_size": "A7"}, "invalid_value", "pdf_options.page_size"),
    ({"page_size": "B6"}, "invalid_value", "pdf_options.page_size"),
    ({"page_size": "A4 "}, "invalid_value", "pdf_options.page_size"),
    ({"page_size": 4}, "invalid_type", "pdf_options.page_size"),
    ({"page_size": "A4\u0000"}, "invalid_value", "pdf_options.page_size"),
    ({"page_width": 210}, "missing_field", "pdf_options.page_height"),
    ({"page_height": 297}, "missing_field", "pdf_options.page_width"),
    ({"page_width": 0, "page_height": 297}, "out_of_range",
     "pdf_options.page_width"),
    ({"page_width": 210, "page_height": -1}, "out_of_range",
     "pdf_options.page_height"),
    ({"page_width": 5080.5, "page_height": 10}, "out_of_range",
     "pdf_options.page_width"),
    ({"page_width": 9.9, "page_height": 10}, "out_of_range",
     "pdf_options.page_width"),
    ({"page_width": "210", "page_height": 297}, "invalid_type",
     "pdf_options.page_width"),
    ({"page_width": True, "page_height": 297}, "invalid_type",
     "pdf_options.page_width"),
    ({"orientation": "upside-down"}, "invalid_value",
     "pdf_options.orientation"),
    ({"margins": [1, 2, 3, 4]}, "invalid_type", "pdf_options.margins"),
    ({"margins": 10}, "invalid_type", "pdf_options.margins"),
    ({"margins": {"top": -1}}, "out_of_range", "pdf_options.margins.top"),
    ({"margins": {"right": -0.01}}, "out_of_range",
     "pdf_options.margins.right"),
    ({"margins": {"bottom": 1001}}, "out_of_range",
     "pdf_options.margins.bottom"),
    ({"margins": {"left": "5mm"}}, "invalid_type", "pdf_options.margins.left"),
    ({"margins": {"middle": 5}}, "unknown_field", "pdf_options.margins.middle"),
    ({"margins": {"Top": 5}}, "unknown_field", "pdf_options.margins.Top"),
    ({"scale": 0.09}, "out_of_range", "pdf_options.scale"),
    ({"scale": 2.01}, "out_of_range", "pdf_options.scale"),
    ({"scale": 0}, "out_of_range", "pdf_options.scale"),
    ({"scale": "1"}, "invalid_type", "pdf_options.scale"),
    ({"print_background": "true"}, "invalid_type",
     "pdf_options.print_background"),
    ({"print_background": 1}, "invalid_type", "pdf_options.print_background"),
    ({"grayscale": 0}, "invalid_type", "pdf_options.grayscale"),
    ({"layout_width": "Viewport"}, "invalid_value",
     "pdf_options.layout_width"),
    ({"layout_width": "wide"}, "invalid_value", "pdf_options.layout_width"),
    ({"layout_width": True}, "invalid_type", "pdf_options.layout_width"),
    ({"header": "<b>x</b>"}, "invalid_type", "pdf_options.header"),
    ({"header": {"content": "x" * 2001}}, "out_of_range",
     "pdf_options.header.content"),
    ({"footer": {"content": "\u00fc" * 2001}}, "out_of_range",
     "pdf_options.footer.content"),
    ({"header": {"content": 5}}, "invalid_type", "pdf_options.header.content"),
    ({"header": {"content": "a\u0000b"}}, "invalid_value",
     "pdf_options.header.content"),
    ({"header": {"content": "x", "height": -1}}, "out_of_range",
     "pdf_options.header.height"),
    ({"footer": {"content": "x", "height": "1cm"}}, "invalid_type",
     "pdf_options.footer.height"),
    ({"footer": {"content": "x", "color": "red"}}, "unknown_field",
     "pdf_options.footer.color"),
    ({"outline": "false"}, "invalid_type", "pdf_options.outline"),
    ({"outline": 0}, "invalid_type", "pdf_options.outline"),
    ({"metadata": "Title"}, "invalid_type", "pdf_options.metadata"),
    ({"metadata": {"title": 5}}, "invalid_type", "pdf_options.metadata.title"),
    ({"metadata": {"author": "x" * 1001}}, "out_of_range",
     "pdf_options.metadata.author"),
    ({"metadata": {"subject": "\u00fc" * 1001}}, "out_of_range",
     "pdf_options.metadata.subject"),
    ({"metadata": {"keywords": "a\nb"}}, "invalid_value",
     "pdf_options.metadata.keywords"),
    ({"metadata": {"title": "a\u0000b"}}, "invalid_value",
     "pdf_options.metadata.title"),
    ({"metadata": {"creator": "x"}}, "unknown_field",
     "pdf_options.metadata.creator"),
    ({"paper": "A4"}, "unknown_field", "pdf_options.paper"),
    ({"landscape": True}, "unknown_field", "pdf_options.landscape"),
]


@pytest.mark.parametrize("opts,code,field", PDF_BAD)
def test_pdf_options_rejected(env, opts, code, field):
    ngx, backend = env
    err = reject(ngx, backend, {"url": U, "pdf_options": opts}, 400, code,
                 field)
    assert field in err["detail"]


def test_pdf_options_all_members_forwarded(env):
    ngx, backend = env
    opts = {"page_size": "Letter", "page_width": 210, "page_height": 297.5,
            "orientation": "landscape",
            "margins": {"top": 0, "right": 12.5, "bottom": 1000, "left": 3},
            "scale": 0.1, "print_background": False, "grayscale": True,
            "layout_width": "viewport",
            "header": {"content": "<span>{{page}}/{{total_pages}}</span>",
                       "height": 1},
            # 2000 characters, 4000 bytes
            "footer": {"content": "\u00fc" * 2000, "height": 12.5},
            "outline": False,
            # 1000 characters each; empty strings are values too
            "metadata": {"title": "\u00fc" * 1000, "author": "A. Writer",
                         "subject": "", "keywords": "port, harbour"}}
    m = forwarded(ngx, backend, {"url": U, "pdf_options": opts})
    assert m["options"] == {"pdf_options": opts}


@pytest.mark.parametrize("given,canonical", [
    ("a4", "A4"), ("A4", "A4"), ("b5", "B5"), ("letter", "Letter"),
    ("LEGAL", "Legal"), ("tabloid", "Tabloid"), ("LeDgEr", "Ledger"),
    ("A0", "A0"), ("a6", "A6"), ("B0", "B0"),
])
def test_page_size_case_insensitive_canonical(env, given, canonical):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U,
                                 "pdf_options": {"page_size": given}})
    assert m["options"]["pdf_options"] == {"page_size": canonical}


@pytest.mark.parametrize("given", ["landscape", "Landscape", "LANDSCAPE"])
def test_orientation_case_insensitive_canonical(env, given):
    """As the hosted service, which lower-cases it."""
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U,
                                 "pdf_options": {"orientation": given}})
    assert m["options"]["pdf_options"] == {"orientation": "landscape"}


def test_band_without_content_forwarded(env):
    """The vendor's SDKs type a band's content as optional and may send only
    its height (the band's room is then kept empty); it was refused as
    missing_field."""
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "pdf_options": {
        "header": {"height": 15}, "footer": {}}})
    assert m["options"]["pdf_options"] == {"header": {"height": 15},
                                           "footer": {}}


def test_scale_bounds_and_nulls_dropped(env):
    ngx, backend = env
    for scale in (0.1, 2, 1):
        m = forwarded(ngx, backend, {
            "url": U, "pdf_options": {"scale": scale, "margins": {
                "top": None, "left": 1}, "header": None}})
        assert m["options"] == {"pdf_options": {"scale": scale,
                                                "margins": {"left": 1}}}


# --- endpoint-only fields --------------------------------------------------

@pytest.mark.parametrize("path,field,value", [
    (SHOT, "pdf_options", {}),
    (SHOT, "single_page", True),
    (PDF, "image_format", "png"),
    (PDF, "image_quality", 80),
    (PDF, "full_page", False),
])
def test_field_for_other_endpoint_rejected(env, path, field, value):
    ngx, backend = env
    err = reject(ngx, backend, {"url": U, field: value}, 400,
                 "invalid_field", field, path=path)
    assert field in err["detail"]


def test_endpoint_fields_accepted_on_their_endpoint(env):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "single_page": True,
                                 "pdf_options": {}})
    assert m["options"] == {"single_page": True, "pdf_options": {}}
    m = forwarded(ngx, backend, {"url": U, "image_format": "jpeg",
                                 "image_quality": 100, "full_page": False},
                  path=SHOT)
    assert m["options"] == {"image_format": "jpeg", "image_quality": 100,
                            "full_page": False}


# --- fail_on_http_error (extension) ----------------------------------------

@pytest.mark.parametrize("path", [PDF, SHOT])
def test_fail_on_http_error_forwarded(env, path):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "fail_on_http_error": True},
                  path=path)
    assert m["options"] == {"fail_on_http_error": True}


def test_fail_on_http_error_must_be_bool(env):
    ngx, backend = env
    reject(ngx, backend, {"url": U, "fail_on_http_error": "yes"}, 400,
           "invalid_type", "fail_on_http_error")


# --- the vendor clients' page fields (docs/rendering.md, "Page fields") ---

PAGE_FIELDS = ["load_media", "wait_for_images", "enable_scroll", "block_media",
               "handle_cookies", "handle_sticky_header", "block_ads"]


@pytest.mark.parametrize("path", [PDF, SHOT])
def test_page_fields_forwarded(env, path):
    ngx, backend = env
    body = {"url": U}
    for i, name in enumerate(PAGE_FIELDS):
        body[name] = i % 2 == 0
    m = forwarded(ngx, backend, body, path=path)
    assert m["options"] == {k: v for k, v in body.items() if k != "url"}


@pytest.mark.parametrize("name", PAGE_FIELDS)
@pytest.mark.parametrize("value", ["true", 1, 0, [], {}])
def test_page_field_must_be_bool(env, name, value):
    ngx, backend = env
    reject(ngx, backend, {"url": U, name: value}, 400, "invalid_type", name,
           path=SHOT if name == "block_media" else PDF)


def test_page_field_null_is_not_given(env):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "enable_scroll": None})
    assert "enable_scroll" not in m["options"]


# --- other scalar fields ---------------------------------------------------

@pytest.mark.parametrize("path,body,code,field", [
    (PDF, {"viewport_height": 239}, "out_of_range", "viewport_height"),
    (PDF, {"viewport_height": 16385}, "out_of_range", "viewport_height"),
    (SHOT, {"viewport_height": 32768, "full_page": False}, "out_of_range",
     "viewport_height"),
    (PDF, {"viewport_width": 7681}, "out_of_range", "viewport_width"),
    (PDF, {"wait_for_selector": ""}, "out_of_range", "wait_for_selector"),
    (PDF, {"wait_for_selector": "#a\n"}, "invalid_value",
     "wait_for_selector"),
    (PDF, {"wait_for_selector": "#a\u0000"}, "invalid_value",
     "wait_for_selector"),
    (PDF, {"wait_for_selector_timeout": 0}, "out_of_range",
     "wait_for_selector_timeout"),
    (PDF, {"wait_for_selector_timeout": 60001}, "out_of_range",
     "wait_for_selector_timeout"),
    (PDF, {"wait_until": "Load"}, "invalid_value", "wait_until"),
    (PDF, {"delay": -1}, "out_of_range", "delay"),
    (PDF, {"delay": 30001}, "out_of_range", "delay"),
    (PDF, {"timeout": 0}, "out_of_range", "timeout"),
    (PDF, {"timeout": 10.0}, "invalid_type", "timeout"),
    (PDF, {"single_page": "false"}, "invalid_type", "single_page"),
    (SHOT, {"image_format": "gif"}, "invalid_value", "image_format"),
    (SHOT, {"image_format": "PNG"}, "invalid_value", "image_format"),
    (SHOT, {"image_quality": 0}, "out_of_range", "image_quality"),
    (SHOT, {"image_quality": 101}, "out_of_range", "image_quality"),
    (SHOT, {"full_page": "no"}, "invalid_type", "full_page"),
    (PDF, {"async_mode": 1}, "invalid_type", "async_mode"),
])
def test_scalar_rules(env, path, body, code, field):
    ngx, backend = env
    reject(ngx, backend, {"url": U, **body}, 400, code, field, path=path)


def test_every_documented_field_forwarded(env):
    ngx, backend = env
    body = {"url": U, "async_mode": True,
            "notification_email": "ops@example.com",
            "callback_url": "https://hooks.example/cb",
            "direct_download": False, "output_filename": "report",
            "viewport_width": 320, "viewport_height": 16384,
            "wait_for_selector": "#ready", "wait_for_selector_timeout": 60000,
            "wait_until": "load", "delay": 30000, "timeout": 300,
            "fail_on_http_error": False, "single_page": False,
            "pdf_options": {"page_size": "A4"}}
    m = forwarded(ngx, backend, body)
    expected = dict(body)
    del expected["url"], expected["async_mode"]
    assert m["options"] == expected
    assert m["urls"] == [U] and m["async"] is True


def test_unknown_top_level_field_named(env):
    ngx, backend = env
    err = reject(ngx, backend, {"url": U, "pdf_option": {}}, 400,
                 "unknown_field", "pdf_option")
    assert "pdf_option" in err["detail"]


# --- output_filename -------------------------------------------------------

@pytest.mark.parametrize("name,code", [
    ("a/b", "invalid_value"),
    ("a\\b", "invalid_value"),
    ("..", "invalid_value"),
    ("report..pdf", "invalid_value"),
    (".", "invalid_value"),
    ("x\u0001y", "invalid_value"),
    ("x\u007fy", "invalid_value"),
    ("x\ty", "invalid_value"),
    ("x\u0000y", "invalid_value"),
    ("x" * 201, "out_of_range"),
    ("\u00fc" * 101, "out_of_range"),         # 202 bytes
    ("", "out_of_range"),
])
def test_output_filename_rejected(env, name, code):
    ngx, backend = env
    reject(ngx, backend, {"url": U, "output_filename": name}, 400, code,
           "output_filename")


@pytest.mark.parametrize("name", ["report", "Q1 report.v2", "x" * 200,
                                  "Bericht-\u00dcbersicht", ".hidden",
                                  "\u00fc" * 100])
def test_output_filename_accepted(env, name):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "output_filename": name})
    assert m["options"]["output_filename"] == name


# --- notification_email ----------------------------------------------------

D190 = "a" * 63 + "." + "b" * 63 + "." + "c" * 62     # 190 bytes


@pytest.mark.parametrize("email", [
    "",
    "plain",
    "a@b@example.com",
    "@example.com",
    "user@",
    "user@localhost",
    "user@-example.com",
    "user@example-.com",
    "user@exa_mple.com",
    "user@example..com",
    "user@.example.com",
    "user@example.com.",
    "user@" + "a" * 64 + ".com",
    "a..b@example.com",
    ".a@example.com",
    "a.@example.com",
    "a b@example.com",
    "user@example.com\r\nBcc: x@example.com",
    "user@example.com\n",
    "Bob <bob@example.com>",
    "<bob@example.com>",
    '"bob"@example.com',
    "bob@example.com, eve@example.com",
    "bob@example.com;eve@example.com",
    "user@[192.0.2.1]",
    "\u00fc@example.com",
    "x" * 65 + "@example.com",
    "x" * 64 + "@" + D190,                   # 255 bytes
    "user@\u2603.example",                   # invalid IDN
])
def test_email_rejected(env, email):
    ngx, backend = env
    reject(ngx, backend, {"url": U, "notification_email": email}, 400,
           "invalid_email", "notification_email")


def test_email_wrong_type(env):
    ngx, backend = env
    reject(ngx, backend, {"url": U, "notification_email": ["a@b.example"]},
           400, "invalid_type", "notification_email")


@pytest.mark.parametrize("email,sent", [
    ("first.last+tag@sub.example.co.uk", None),
    ("o'hara!#$%&*=?^_`{|}~-@example.com", None),
    ("x" * 64 + "@" + D190[:-1], None),      # 254 bytes
    ("User@Example.COM", None),
    ("user@b\u00fccher.example", "user@xn--bcher-kva.example"),
])
def test_email_accepted(env, email, sent):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "notification_email": email})
    assert m["options"]["notification_email"] == (sent or email)


# --- URLs ------------------------------------------------------------------

URL_BAD = [
    "http://",
    "https://:443/",
    "https://example.com:0/",
    "https://example.com:65536/",
    "https://example.com:/",
    "https://example.com:8o/",
    "https://example.com:123456/",
    "https://a..example/",
    "https://.example/",
    "https://-a.example/",
    "https://a-.example/",
    "https://" + "a" * 64 + ".example/",
    "https://" + ("a" * 60 + ".") * 5 + "example/",   # host > 253
    "https://exa%6dple.com/",
    "https://[zz::1]/",
    "https://[::1/",
    "https://[]/",
    "https://u@example.com/",
    "https://u:p@example.com/",
    "https://example.com\\@evil.example/",
    "//example.com/",
    "example.com",
    "file:///etc/passwd",
    "data:text/html,hi",
    "javascript:alert(1)",
    "https:example.com",
    "https://example.com/a b",
    "https://example.com/\ta",
    "https://example.com/a\u0000",
    "https://example.com/\u0085",              # C1 control
    "https://example.com/a\u00a0b",            # no-break space
    "https://example.com/a\u2028b",            # line separator
    "https://example.com/a\u200bb",            # zero width space
    "https://example.com/\ufeff",
    "https://exa\u3000mple.com/",
    "https://\u2603.example/",                 # not IDNA2008
    "https://-b\u00fccher.example/",
    "https://" + "\u00fc" * 64 + ".example/",  # label too long
    "https://b\u00fccher..example/",
    "https://example.com/" + "a" * 2029,       # 2049 bytes
]


@pytest.mark.parametrize("url", URL_BAD)
def test_url_rejected(env, url):
    ngx, backend = env
    reject(ngx, backend, {"url": url}, 400, "invalid_url", "url")


@pytest.mark.parametrize("url", URL_BAD[:8])
def test_url_rejected_in_array_names_index(env, url):
    ngx, backend = env
    reject(ngx, backend, {"url": [U, U, url]}, 400, "invalid_url", "url[2]")


@pytest.mark.parametrize("url", [
    "https://example.com:65535/",
    "http://example.com:1",
    "HTTPS://EXAMPLE.COM/Path?Q=1#frag",
    "https://exa_mple.example/",
    "https://example.com./",
    "https://192.0.2.1/",
    "https://[2001:db8::1]:8443/x",
    "https://example.com/caf\u00e9?q=\u00fc",
    "https://example.com/" + "a" * 2028,       # 2048 bytes
    "http://xn--bcher-kva.example/",
])
def test_url_accepted_unchanged(env, url):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": url})
    assert m["urls"] == [url]


@pytest.mark.parametrize("url,sent", [
    ("https://b\u00fccher.example/p\u00e4th?x=\u00fc",
     "https://xn--bcher-kva.example/p\u00e4th?x=\u00fc"),
    ("http://M\u00dcNCHEN.example:8080/x",
     "http://xn--mnchen-3ya.example:8080/x"),
    ("https://\u4f8b\u3048.\u30c6\u30b9\u30c8",
     "https://xn--r8jz45g.xn--zckzah"),
    ("https://b\u00fccher\u3002example/",          # ideographic full stop
     "https://xn--bcher-kva.example/"),
    ("https://b\u00fccher.example",
     "https://xn--bcher-kva.example"),
])
def test_idn_host_converted(env, url, sent):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": url})
    assert m["urls"] == [sent]
    m = forwarded(ngx, backend, {"url": [U, url]})
    assert m["urls"] == [U, sent]


def test_idn_making_url_too_long_rejected(env):
    ngx, backend = env
    prefix = "https://b\u00fccher.example/"
    url = prefix + "a" * (2048 - len(prefix.encode()))
    assert len(url.encode()) == 2048
    reject(ngx, backend, {"url": url}, 400, "invalid_url", "url")


@pytest.mark.parametrize("cb,sent", [
    ("https://hooks.example/x", "https://hooks.example/x"),
    ("https://h\u00f6\u00f6ks.example/x", "https://xn--hks-snaa.example/x"),
])
def test_callback_url_accepted(env, cb, sent):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "callback_url": cb})
    assert m["options"]["callback_url"] == sent


@pytest.mark.parametrize("cb", [
    "http://hooks.example/x",
    "HTTP://hooks.example/x",
    "ftp://hooks.example/x",
    "https://user:pw@hooks.example/x",
    "https://hooks.example:0/",
    "https:///x",
    "https://hooks example/",
    "",
    "https://\u2603.example/",
    "https://hooks.example/" + "a" * 2030,
])
def test_callback_url_rejected(env, cb):
    ngx, backend = env
    reject(ngx, backend, {"url": U, "callback_url": cb}, 400,
           "invalid_callback_url", "callback_url")


def test_callback_url_wrong_type(env):
    ngx, backend = env
    reject(ngx, backend, {"url": U, "callback_url": True}, 400,
           "invalid_type", "callback_url")


def test_url_array_limits(make_env):
    ngx, backend = make_env(extra_api="enconvert_max_urls 3;")
    m = forwarded(ngx, backend, {"url": [U] * 3})
    assert m["urls"] == [U] * 3 and m["batch"] is True
    reject(ngx, backend, {"url": [U] * 4}, 400, "too_many_urls", "url")
    reject(ngx, backend, {"url": [U, None]}, 400, "invalid_type", "url[1]")
    reject(ngx, backend, {"url": None}, 400, "missing_field", "url")


# --- body level ------------------------------------------------------------

@pytest.mark.parametrize("raw,code", [
    (b'{"url":"https://a.example","x":"\xc3"}', "invalid_json"),
    (b'{"url":"https://a.example\xed\xa0\x80"}', "invalid_json"),   # surrogate
    (b'{"url":"https://a.example","\xff":1}', "invalid_json"),
    (b'{"u\\u0000rl":"https://a.example"}', "invalid_json"),
    (b'{"url":"https://a.exa\x00mple"}', "invalid_json"),
    (b'{"url":"https://a.example"} {}', "invalid_json"),
    (b'{"url":"https://a.example",}', "invalid_json"),
    (b'null', "invalid_json"),
    (b'{"url":"https://a.example","pdf_options":{"scale":1,"scale":2}}',
     "duplicate_key"),
    (b'{"url":[[[[[[[[["x"]]]]]]]]]}', "nesting_too_deep"),
    (b'{"a":' * 3000 + b'1' + b'}' * 3000, "nesting_too_deep"),
    (b'[' * 5000 + b']' * 5000, "nesting_too_deep"),
    (b'{"url":"https://a.example","delay":1e400}', "invalid_json"),
    (b'{"url":"https://a.example","delay":99999999999999999999999}',
     "invalid_json"),
])
def test_body_level_errors(env, raw, code):
    ngx, backend = env
    reject(ngx, backend, raw, 400, code, None)


def test_nul_in_string_names_field(env):
    ngx, backend = env
    reject(ngx, backend, b'{"url":"https://a.example/\\u0000"}', 400,
           "invalid_url", "url")
    reject(ngx, backend,
           b'{"url":"https://a.example","output_filename":"a\\u0000"}',
           400, "invalid_value", "output_filename")


def test_nesting_at_limit_is_not_too_deep(env):
    ngx, backend = env
    # 8 levels: the first error is about the field, not the depth
    body = {"url": U, "pdf_options": {"header": {"content": [[[[["x"]]]]]}}}
    reject(ngx, backend, body, 400, "invalid_type",
           "pdf_options.header.content")


def test_body_size_limit_exact(make_env):
    ngx, backend = make_env(extra_api="enconvert_max_body_size 200;")
    base = json.dumps({"url": U, "output_filename": ""})
    pad = 200 - len(base)
    ok = json.dumps({"url": U, "output_filename": "x" * pad}).encode()
    assert len(ok) == 200
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, ok, {**auth(),
                                         "Content-Type": "application/json"})
    assert resp.status == 202
    assert len(backend.messages()) == 1
    resp = ngx.request("POST", PDF, ok[:-1] + b' }',
                       {**auth(), "Content-Type": "application/json"})
    assert_error(resp, 413, "body_too_large")
    assert_nothing_sent(ngx, backend, before=1)


def test_chunked_body_over_limit_413(make_env):
    ngx, backend = make_env(extra_api="enconvert_max_body_size 100;")
    body = json.dumps({"url": U, "output_filename": "x" * 150}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 40]),
                                        body[i:i + 40])
                      for i in range(0, len(body), 40)) + b"0\r\n\r\n"
    resp = raw_request(ngx.port,
                       b"POST " + PDF.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n"
                       b"Connection: close\r\n\r\n" + chunks)
    assert_error(resp, 413, "body_too_large")
    assert_nothing_sent(ngx, backend)


def test_chunked_body_within_limit(env):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    body = json.dumps({"url": U}).encode()
    resp = raw_request(ngx.port,
                       b"POST " + PDF.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"X-API-Key: " + API_KEY.encode() + b"\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Transfer-Encoding: chunked\r\n"
                       b"Connection: close\r\n\r\n"
                       + b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    assert resp.status == 202
    assert backend.messages()[0]["urls"] == [U]


@pytest.mark.parametrize("ctype", [None, "text/json", "application/jsonx",
                                   "multipart/form-data; boundary=x",
                                   "application/x-www-form-urlencoded"])
def test_content_type_415(env, ctype):
    ngx, backend = env
    hdrs = {**auth()}
    if ctype:
        hdrs["Content-Type"] = ctype
    resp = ngx.request("POST", PDF, json.dumps({"url": U}).encode(), hdrs)
    assert_error(resp, 415, "unsupported_media_type")
    assert_nothing_sent(ngx, backend)


# --- Idempotency-Key -------------------------------------------------------

@pytest.mark.parametrize("key", ["", "a b", "x" * 256, "tab\there",
                                 "caf\u00e9"])
def test_idempotency_key_rejected(env, key):
    ngx, backend = env
    resp = raw_request(ngx.port,
                       b"POST " + PDF.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"X-API-Key: " + API_KEY.encode() + b"\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Idempotency-Key: " + key.encode() + b"\r\n"
                       b"Content-Length: 27\r\nConnection: close\r\n\r\n"
                       b'{"url":"https://a.example"}')
    assert_error(resp, 400, "invalid_idempotency_key", "Idempotency-Key")
    assert_nothing_sent(ngx, backend)


def test_idempotency_key_sent_twice_rejected(env):
    ngx, backend = env
    resp = raw_request(ngx.port,
                       b"POST " + PDF.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"X-API-Key: " + API_KEY.encode() + b"\r\n"
                       b"Content-Type: application/json\r\n"
                       b"Idempotency-Key: a\r\nIdempotency-Key: b\r\n"
                       b"Content-Length: 27\r\nConnection: close\r\n\r\n"
                       b'{"url":"https://a.example"}')
    assert_error(resp, 400, "invalid_idempotency_key", "Idempotency-Key")
    assert_nothing_sent(ngx, backend)


@pytest.mark.parametrize("key", ["k", "x" * 255,
                                 "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"])
def test_idempotency_key_forwarded(env, key):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U}, headers={"Idempotency-Key": key})
    assert m["idempotency_key"] == key


def test_retried_post_returns_first_job(env):
    """The worker answers a retry with the first job; the module forwards
    the same key both times and relays what the worker says."""
    ngx, backend = env
    jobs = {}

    def respond(m):
        job = jobs.setdefault(m.get("idempotency_key"),
                              "job_%d" % (len(jobs) + 1))
        return [(0, final(m, status=202, body=json.dumps(
            {"success": True, "job_id": job}).encode()))]

    backend.responder = respond
    hdrs = {**auth(), "Idempotency-Key": "order-42"}
    first = ngx.request("POST", PDF, {"url": U, "async_mode": True}, hdrs)
    again = ngx.request("POST", PDF, {"url": U, "async_mode": True}, hdrs)
    assert first.json()["job_id"] == again.json()["job_id"] == "job_1"
    assert [m["idempotency_key"] for m in backend.messages()] == \
        ["order-42", "order-42"]


# --- auth ------------------------------------------------------------------

@pytest.mark.parametrize("headers,status,code", [
    ({}, 401, "missing_api_key"),
    ({"X-API-Key": "sk_live_short"}, 401, "invalid_api_key"),
    ({"X-API-Key": "sk_test_" + "a" * 40}, 401, "invalid_api_key"),
    ({"Authorization": "Bearer"}, 401, "invalid_api_key"),
    ({"Authorization": "Token " + API_KEY}, 401, "invalid_api_key"),
    ({"X-API-Key": API_KEY, "Origin": "null"}, 403,
     "private_key_in_browser"),
    ({"Authorization": "Bearer " + API_KEY,
      "Origin": "https://app.example"}, 403, "private_key_in_browser"),
    # A malformed key is no private key: 401, with a browser's Origin too
    # (before: 403 private_key_in_browser).
    ({"X-API-Key": "pk_live_" + "a" * 40, "Origin": "https://app.example"},
     401, "invalid_api_key"),
    ({"Authorization": "Bearer garbage", "Origin": "null"}, 401,
     "invalid_api_key"),
])
def test_auth_rejections(env, headers, status, code):
    ngx, backend = env
    resp = ngx.request("POST", PDF, json.dumps({"url": U}).encode(),
                       {**headers, "Content-Type": "application/json"})
    assert_error(resp, status, code)
    resp = ngx.request("GET", "/v1/convert/status/job_1", None, headers)
    assert_error(resp, status, code)
    assert_nothing_sent(ngx, backend)


@pytest.mark.parametrize("status,code", [(401, "invalid_api_key"),
                                         (404, "not_found")])
def test_worker_auth_answers_relayed(env, status, code):
    """Unknown or revoked keys (401) and another account's job (404) are
    decided by the worker; the module relays its answer unchanged."""
    ngx, backend = env
    body = json.dumps({"success": False, "error": code,
                       "detail": "x"}).encode()
    backend.responder = lambda m: [(0, final(m, status=status, body=body))]
    resp = ngx.request("GET", "/v1/convert/status/job_other", None, auth())
    assert resp.status == status and resp.body == body
    resp = ngx.request("POST", PDF, {"url": U, "async_mode": True}, auth())
    assert resp.status == status and resp.body == body
