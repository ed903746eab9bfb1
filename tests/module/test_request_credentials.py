"""cookies, headers and auth of url-to-pdf / url-to-screenshot
(docs/validation.md): the vendor's types and limits, our error shape, and
valid values forwarded unchanged."""

import os

import pytest
import yaml

from ngxtest import assert_error, assert_nothing_sent, auth, final

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
U = "https://a.example"


def reject(ngx, backend, body, code, field, path=PDF):
    before = len(backend.messages())
    resp = ngx.request("POST", path, {"url": U, **body}, auth())
    err = assert_error(resp, 400, code, field)
    assert_nothing_sent(ngx, backend, before)
    return err


def forwarded(ngx, backend, body, path=PDF):
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    before = len(backend.messages())
    resp = ngx.request("POST", path, {"url": U, **body}, auth())
    assert resp.status == 202, resp.body
    msgs = backend.messages()
    assert len(msgs) == before + 1
    return msgs[-1]["options"]


COOKIE = {"name": "session", "value": "abc123", "domain": "a.example"}


@pytest.mark.parametrize("path", [PDF, SHOT])
def test_all_three_forwarded_unchanged(env, path):
    ngx, backend = env
    body = {
        "cookies": [
            {"name": "sid", "value": "s3cr3t", "domain": ".a.example",
             "path": "/app", "expires": 1893456000, "httpOnly": True,
             "secure": True, "sameSite": "Lax"},
            {"name": "theme", "value": "dark", "url": "https://a.example/x"},
            {"name": "x", "value": "1", "domain": "a.example",
             "expires": -1},
        ],
        "headers": {"X-Tenant": "acme", "Accept-Language": "de-DE,de;q=0.9",
                    "Authorization": "Bearer t0k3n", "X-Empty": ""},
        "auth": {"username": "alice", "password": "p@ss word:1"},
    }
    body.pop("auth")  # auth and an Authorization header exclude each other
    assert forwarded(ngx, backend, body, path) == body
    body = {"auth": {"username": "alice", "password": "p@ss word:1"},
            "headers": {"X-Tenant": "acme"}}
    assert forwarded(ngx, backend, body, path) == body


def test_same_site_is_case_insensitive_and_canonical(env):
    ngx, backend = env
    opts = forwarded(ngx, backend,
                     {"cookies": [{**COOKIE, "sameSite": "strict"}]})
    assert opts["cookies"][0]["sameSite"] == "Strict"


def test_fifty_cookies_and_twenty_headers_are_the_limits(env):
    ngx, backend = env
    cookies = [{**COOKIE, "name": f"c{i}"} for i in range(50)]
    headers = {f"X-H{i}": str(i) for i in range(20)}
    opts = forwarded(ngx, backend, {"cookies": cookies, "headers": headers})
    assert len(opts["cookies"]) == 50 and len(opts["headers"]) == 20
    reject(ngx, backend, {"cookies": cookies + [COOKIE]}, "out_of_range",
           "cookies")
    reject(ngx, backend, {"headers": {**headers, "X-H20": "x"}},
           "out_of_range", "headers")


@pytest.mark.parametrize("cookies,code,field", [
    ({"name": "a"}, "invalid_type", "cookies"),
    ("a=b", "invalid_type", "cookies"),
    (["a=b"], "invalid_type", "cookies[0]"),
    ([COOKIE, {"value": "v", "domain": "a.example"}], "missing_field",
     "cookies[1].name"),
    ([{"name": "n", "domain": "a.example"}], "missing_field",
     "cookies[0].value"),
    ([{"name": "n", "value": "v"}], "missing_field", "cookies[0]"),
    ([{**COOKIE, "url": "https://a.example/"}], "invalid_value",
     "cookies[0]"),
    ([{**COOKIE, "name": ""}], "out_of_range", "cookies[0].name"),
    ([{**COOKIE, "value": ""}], "out_of_range", "cookies[0].value"),
    ([{**COOKIE, "name": "a b"}], "invalid_value", "cookies[0].name"),
    ([{**COOKIE, "name": "a=b"}], "invalid_value", "cookies[0].name"),
    ([{**COOKIE, "value": "v;Path=/"}], "invalid_value",
     "cookies[0].value"),
    ([{**COOKIE, "value": "v\r\nX: y"}], "invalid_value",
     "cookies[0].value"),
    ([{**COOKIE, "domain": "a.example/x"}], "invalid_value",
     "cookies[0].domain"),
    ([{**COOKIE, "domain": "."}], "invalid_value", "cookies[0].domain"),
    ([{"name": "n", "value": "v", "url": "ftp://a.example/"}],
     "invalid_value", "cookies[0].url"),
    ([{**COOKIE, "path": "app"}], "invalid_value", "cookies[0].path"),
    ([{**COOKIE, "expires": "tomorrow"}], "invalid_type",
     "cookies[0].expires"),
    ([{**COOKIE, "expires": -2}], "out_of_range", "cookies[0].expires"),
    ([{**COOKIE, "httpOnly": "yes"}], "invalid_type", "cookies[0].httpOnly"),
    ([{**COOKIE, "secure": 1}], "invalid_type", "cookies[0].secure"),
    ([{**COOKIE, "sameSite": "Relaxed"}], "invalid_value",
     "cookies[0].sameSite"),
    ([{**COOKIE, "partitioned": True}], "unknown_field",
     "cookies[0].partitioned"),
])
def test_cookie_rules(env, cookies, code, field):
    ngx, backend = env
    reject(ngx, backend, {"cookies": cookies}, code, field)


@pytest.mark.parametrize("name", [
    "Connection", "keep-alive", "Proxy-Authorization", "proxy-connection",
    "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "content-length",
])
def test_hop_by_hop_and_framing_headers_refused(env, name):
    ngx, backend = env
    err = reject(ngx, backend, {"headers": {name: "x"}}, "invalid_value",
                 f"headers.{name}")
    assert name in err["detail"]


@pytest.mark.parametrize("headers,code,field", [
    (["X-A: b"], "invalid_type", "headers"),
    ({"X-A": 1}, "invalid_type", "headers.X-A"),
    ({"X-A": ["b"]}, "invalid_type", "headers.X-A"),
    ({"X A": "b"}, "invalid_value", "headers.X A"),
    ({"X-A:": "b"}, "invalid_value", "headers.X-A:"),
    ({"": "b"}, "invalid_value", "headers."),
    ({"X-" + "a" * 127: "b"}, "invalid_value", "headers.X-" + "a" * 127),
    ({"X-A": "b\r\nX-Injected: 1"}, "invalid_value", "headers.X-A"),
    ({"X-A": "b\nc"}, "invalid_value", "headers.X-A"),
    ({"X-A": "b\u0000c"}, "invalid_value", "headers.X-A"),
    ({"X-A": "x" * 8193}, "out_of_range", "headers.X-A"),
    ({"X-A": "1", "x-a": "2"}, "invalid_value", "headers.X-A"),
])
def test_header_rules(env, headers, code, field):
    ngx, backend = env
    reject(ngx, backend, {"headers": headers}, code, field)


@pytest.mark.parametrize("auth_value,code,field", [
    ("alice:pw", "invalid_type", "auth"),
    ({"username": "alice"}, "missing_field", "auth.password"),
    ({"password": "pw"}, "missing_field", "auth.username"),
    ({"username": "", "password": "pw"}, "out_of_range", "auth.username"),
    ({"username": "alice", "password": ""}, "out_of_range", "auth.password"),
    ({"username": "a:b", "password": "pw"}, "invalid_value",
     "auth.username"),
    ({"username": "alice", "password": "p\nw"}, "invalid_value",
     "auth.password"),
    ({"username": 7, "password": "pw"}, "invalid_type", "auth.username"),
    ({"username": "a", "password": "p", "realm": "x"}, "unknown_field",
     "auth.realm"),
])
def test_auth_rules(env, auth_value, code, field):
    ngx, backend = env
    reject(ngx, backend, {"auth": auth_value}, code, field)


@pytest.mark.parametrize("name", ["Authorization", "authorization"])
def test_auth_and_an_authorization_header_exclude_each_other(env, name):
    ngx, backend = env
    err = reject(ngx, backend,
                 {"auth": {"username": "a", "password": "p"},
                  "headers": {name: "Bearer x"}}, "invalid_field", "auth")
    assert "Authorization" in err["detail"]


def test_secret_values_are_not_echoed_in_errors(env):
    ngx, backend = env
    err = reject(ngx, backend, {"headers": {"X-A": "s3cr3t\n"}},
                 "invalid_value", "headers.X-A")
    assert "s3cr3t" not in str(err)
    err = reject(ngx, backend,
                 {"cookies": [{**COOKIE, "value": "s3cr3t;"}]},
                 "invalid_value", "cookies[0].value")
    assert "s3cr3t" not in str(err)


def test_documented_limits_are_the_enforced_ones():
    """docs/openapi.yaml gives the limits the tests above enforce."""
    spec_file = os.path.join(os.path.dirname(__file__), "..", "..", "docs",
                             "openapi.yaml")
    with open(spec_file) as f:
        spec = yaml.safe_load(f)["components"]["schemas"]
    common = spec["CommonFields"]["properties"]
    assert common["cookies"]["maxItems"] == 50
    assert common["headers"]["maxProperties"] == 20
    assert common["headers"]["additionalProperties"]["maxLength"] == 8192
    cookie = spec["RequestCookie"]
    assert cookie["required"] == ["name", "value"]
    assert cookie["properties"]["sameSite"]["enum"] == ["Strict", "Lax",
                                                         "None"]
    assert set(spec["BasicAuth"]["required"]) == {"username", "password"}
