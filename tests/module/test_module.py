"""Module tests: real nginx + enconvert module + scripted fake worker."""

import json
import os
import time

import pytest

import ngxtest

from ngxtest import (API_KEY, SECRET, accepted, assert_error,
                     assert_nothing_sent, auth, final, nginx_t, presign,
                     wait_for)

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"



# --- convert ---------------------------------------------------------------

def test_async_convert_sends_request_and_relays_final(env):
    ngx, backend = env
    reply_body = json.dumps({"success": True, "job_id": "job_abc",
                             "status": "processing"}).encode()
    backend.responder = lambda m: [(0, final(
        m, status=202, body=reply_body,
        headers=[["X-Job-Id", "job_abc"]]))]

    body = {"url": "https://example.com/page?q=1", "async_mode": True,
            "notification_email": "user@example.com",
            "callback_url": "https://hooks.example.com/x",
            "viewport_width": 1280, "pdf_options": {"page_size": "A4",
                                                    "scale": 0.5}}
    resp = ngx.request("POST", PDF, body, {
        **auth(), "Host": "localhost:8443",
        "Idempotency-Key": "abc-123"})

    assert resp.status == 202
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["x-job-id"] == "job_abc"
    assert resp.body == reply_body

    msgs = backend.messages()
    assert len(msgs) == 1
    assert backend.received[0]["frames"] == 1
    m = msgs[0]
    assert m["v"] == 1 and isinstance(m["id"], int)
    assert m["op"] == "convert"
    assert m["key"] == API_KEY
    assert m["base_url"] == "http://localhost:8443"
    assert m["endpoint"] == "url-to-pdf"
    assert m["urls"] == ["https://example.com/page?q=1"]
    assert m["batch"] is False
    assert m["async"] is True
    assert m["idempotency_key"] == "abc-123"
    assert m["options"] == {
        "notification_email": "user@example.com",
        "callback_url": "https://hooks.example.com/x",
        "viewport_width": 1280,
        "pdf_options": {"page_size": "A4", "scale": 0.5}}


def test_batch_is_async_and_x_api_key(env):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", SHOT, {"url": ["http://a.example",
                                              "https://b.example:8080/x"],
                                      "image_format": "webp"},
                       {"X-API-Key": API_KEY})
    assert resp.status == 202
    m = backend.messages()[0]
    assert m["endpoint"] == "url-to-screenshot"
    assert m["batch"] is True and m["async"] is True
    assert m["urls"] == ["http://a.example", "https://b.example:8080/x"]
    assert m["options"] == {"image_format": "webp"}
    assert "idempotency_key" not in m


def test_sync_convert_accepted_then_final(env):
    ngx, backend = env
    result = json.dumps({"success": True, "job_id": "job_s1",
                         "status": "completed"}).encode()
    backend.responder = lambda m: [(0, accepted(m, "job_s1")),
                                   (0.3, final(m, status=200, body=result,
                                               job_id="job_s1"))]
    resp = ngx.request("POST", PDF, {"url": "https://example.com"}, auth())
    assert resp.status == 200
    assert resp.body == result
    m = backend.messages()[0]
    assert m["async"] is False and m["batch"] is False
    assert m["options"] == {}


def test_sync_wait_expires_after_accepted(make_env):
    ngx, backend = make_env(timeout="1s", sync_timeout="700ms")
    backend.responder = lambda m: [(0, accepted(m, "job_slow"))]
    t0 = time.monotonic()
    resp = ngx.request("POST", PDF, {"url": "https://example.com"}, auth())
    elapsed = time.monotonic() - t0
    assert resp.status == 202
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {
        "success": True,
        "message": "Job is still processing. Poll GET "
                   "/v1/convert/status/job_slow for the result.",
        "job_id": "job_slow", "batch_id": "job_slow", "url_count": 1,
        "status": "processing"}
    assert 0.5 < elapsed < 1.5


def test_sync_wait_expires_with_a_client_job_id_is_504_still_processing(
        make_env):
    """The vendor's SDKs send their own job_id, read any 2xx as the
    finished result (a 202 gave their callers an empty link: "undefined"
    in Node, "" in Go, Java, PHP, C#) and poll that id's status after a
    5xx: so a body with a job_id gets a 504 when the wait ends."""
    ngx, backend = make_env(timeout="1s", sync_timeout="300ms")
    backend.responder = lambda m: [(0, accepted(m, "job_slow"))]
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "job_id": "0f" * 16}, auth())
    body = assert_error(resp, 504, "still_processing")
    assert "/v1/convert/status/job_slow" in body["detail"], body
    assert "field" not in body
    # a website capture keeps its 202: the SDKs send it no job_id and
    # read its answer as a batch
    resp = ngx.request("POST", "/v1/convert/website-to-pdf",
                       {"url": "https://example.com", "job_id": "0e" * 16},
                       auth())
    assert resp.status == 202, resp.body
    assert resp.json()["status"] == "processing"


@pytest.mark.parametrize("notice", [
    "You will be notified at a@example.com when complete.",
    "Results will be sent to your callback URL."])
def test_sync_wait_expires_202_names_where_notifications_go(make_env,
                                                           notice):
    # as every 202 of a job does (the worker's own answers)
    ngx, backend = make_env(timeout="1s", sync_timeout="300ms")
    backend.responder = lambda m: [(0, accepted(m, "job_slow", notice))]
    resp = ngx.request("POST", PDF, {"url": "https://example.com"}, auth())
    assert resp.status == 202
    assert resp.json()["message"] == (
        "Job is still processing. " + notice + " Poll GET "
        "/v1/convert/status/job_slow for the result.")


@pytest.mark.parametrize("notice", [7, "x" * 1025])
def test_a_notice_that_is_no_short_string_is_left_out(make_env, notice):
    ngx, backend = make_env(timeout="1s", sync_timeout="300ms")
    backend.responder = lambda m: [(0, accepted(m, "job_slow", notice))]
    resp = ngx.request("POST", PDF, {"url": "https://example.com"}, auth())
    assert resp.status == 202
    assert resp.json()["message"] == (
        "Job is still processing. Poll GET /v1/convert/status/job_slow "
        "for the result.")


def test_sync_without_accepted_times_out_504(make_env):
    ngx, backend = make_env(timeout="500ms", sync_timeout="5s")
    t0 = time.monotonic()
    resp = ngx.request("POST", PDF, {"url": "https://example.com"}, auth())
    assert_error(resp, 504, "backend_timeout")
    assert time.monotonic() - t0 < 2


def test_direct_download_internal_redirect(env):
    ngx, backend = env
    key = "live/files/acc1/url-to-pdf/example-com_20260101T000000Z_1.pdf"
    path = os.path.join(ngx.storage, key)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4 fake")
    backend.responder = lambda m: [(0, {
        "v": 1, "id": m["id"], "kind": "final", "status": 200,
        "internal_redirect": key,
        "headers": [["Content-Disposition",
                     'attachment; filename="example-com.pdf"'],
                    ["X-Job-Id", "job_dd"]]})]
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "direct_download": True}, auth())
    assert resp.status == 200
    assert resp.body == b"%PDF-1.4 fake"
    assert resp.headers["x-job-id"] == "job_dd"
    assert "attachment" in resp.headers["content-disposition"]


def test_no_backend_bound_503_quickly(make_env):
    ngx, _ = make_env(bind=False)
    t0 = time.monotonic()
    resp = ngx.request("POST", PDF, {"url": "https://example.com"}, auth())
    assert time.monotonic() - t0 < 1
    assert_error(resp, 503, "backend_unavailable")
    assert resp.headers["retry-after"] == "1"


def test_backend_never_replies_504(make_env):
    ngx, backend = make_env(timeout="600ms")
    t0 = time.monotonic()
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "async_mode": True}, auth())
    elapsed = time.monotonic() - t0
    assert_error(resp, 504, "backend_timeout")
    assert 0.5 < elapsed < 2
    assert len(backend.messages()) == 1


def test_late_and_garbage_replies_are_dropped(make_env):
    ngx, backend = make_env(timeout="400ms")
    # reply after the timeout, plus garbage, then the next request works
    backend.responder = lambda m: [(0, b"\xc1not msgpack"),
                                   (0, {"v": 1, "kind": "final"}),
                                   (0.8, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "async_mode": True}, auth())
    assert resp.status == 504
    time.sleep(0.6)
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "async_mode": True}, auth())
    assert resp.status == 202
    assert "dropped an undecodable backend reply" in ngx.log()


def test_client_gone_before_reply(make_env):
    import socket
    ngx, backend = make_env(timeout="2s")
    backend.responder = lambda m: [(0.5, final(m, status=202, body=b"{}"))]
    body = json.dumps({"url": "https://example.com",
                       "async_mode": True}).encode()
    s = socket.create_connection(("127.0.0.1", ngx.port))
    s.sendall(b"POST " + PDF.encode() + b" HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
              + body)
    assert wait_for(lambda: len(backend.messages()) == 1, 2.0)
    s.close()
    time.sleep(0.8)     # the late reply arrives for a finished request
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "async_mode": True}, auth())
    assert resp.status == 202


# --- status and health -----------------------------------------------------

def test_status_route(env):
    ngx, backend = env
    status = json.dumps({"job_id": "job_x1", "status": "completed"}).encode()
    backend.responder = lambda m: [(0, final(m, status=200, body=status))]
    resp = ngx.request("GET", "/v1/convert/status/job_x1", None,
                       {"X-API-Key": API_KEY, "Host": "LocalHost"})
    assert resp.status == 200
    assert resp.body == status
    m = backend.messages()[0]
    assert m["op"] == "status"
    assert m["job_id"] == "job_x1"
    assert m["key"] == API_KEY
    assert m["base_url"] == "http://localhost"


@pytest.mark.parametrize("host", [
    "a@evil.example", "evil.example", "evil.example:8443", "localhost.evil.example",
    "localhost@evil.example:1", "localhos"])
def test_forged_host_never_becomes_the_link_base(env, host):
    # Presigned links follow the Host header only when it names one of the
    # server's server_name entries (hardening, defect 8); otherwise the
    # first server_name and the port the connection came in on.
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=200, body=b"{}"))]
    n = len(backend.messages())
    resp = ngx.request("GET", "/v1/convert/status/job_x1", None,
                       {"X-API-Key": API_KEY, "Host": host})
    if resp.status == 200:
        assert backend.messages()[n]["base_url"] == f"http://localhost:{ngx.port}"
    else:  # nginx refuses some forms itself: nothing reaches the worker
        assert resp.status == 400 and len(backend.messages()) == n


def test_named_host_keeps_its_port_and_case_insensitive_match(env):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=200, body=b"{}"))]
    ngx.request("GET", "/v1/convert/status/job_x1", None,
                {"X-API-Key": API_KEY, "Host": "LOCALHOST:8080"})
    assert backend.messages()[-1]["base_url"] == "http://localhost:8080"
    n = len(backend.messages())
    resp = ngx.request("GET", "/v1/convert/status/job_x1", None,
                       {"X-API-Key": API_KEY, "Host": "localhost:80x"})
    if resp.status == 200:  # nginx may refuse such a Host itself (400)
        assert backend.messages()[n]["base_url"] == "http://localhost"
    else:
        assert resp.status == 400 and len(backend.messages()) == n


@pytest.mark.parametrize("host,base", [
    # a port that cannot exist is no port (before: copied into every link)
    ("localhost:99999999999999999999", "http://localhost"),
    ("localhost:65536", "http://localhost"),
    ("localhost:0", "http://localhost"),
    ("localhost:08080", "http://localhost"),
    ("localhost:65535", "http://localhost:65535"),
    # the name's trailing dot, which nginx drops (before: the port too)
    ("localhost.:8443", "http://localhost:8443"),
])
def test_the_hosts_port_is_kept_only_when_it_can_exist(env, host, base):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=200, body=b"{}"))]
    n = len(backend.messages())
    resp = ngx.request("GET", "/v1/convert/status/job_x1", None,
                       {"X-API-Key": API_KEY, "Host": host})
    if resp.status == 400:  # nginx may refuse such a Host itself
        assert len(backend.messages()) == n
        return
    assert backend.messages()[n]["base_url"] == base


@pytest.mark.parametrize("target,host,base", [
    # absolute form: the request line's authority, not the Host header
    # (RFC 9112 3.2.2), its port included (before: the Host header's)
    ("http://localhost:8443/v1/convert/status/job_x1", "localhost:9999",
     "http://localhost:8443"),
    ("http://localhost/v1/convert/status/job_x1", "localhost:9999",
     "http://localhost"),
    ("http://evil.example:8443/v1/convert/status/job_x1", "localhost:9999",
     "http://localhost:{port}"),
])
def test_an_absolute_form_request_names_the_link_base_in_its_line(
        env, target, host, base):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=200, body=b"{}"))]
    n = len(backend.messages())
    resp = ngxtest.raw_request(ngx.port, (
        f"GET {target} HTTP/1.1\r\nHost: {host}\r\n"
        f"X-API-Key: {API_KEY}\r\nConnection: close\r\n\r\n").encode())
    assert resp.status == 200, resp.body
    assert backend.messages()[n]["base_url"] == base.format(port=ngx.port)


@pytest.mark.parametrize("names,host,base", [
    # Debian's default server: "_" names no host, the address stands in
    ("_", "pdf.example.com", "http://127.0.0.1:{port}"),
    ("_", "_", "http://127.0.0.1:{port}"),
    # a server alone on its port claims what its wildcards match, as
    # nginx's name table does for several servers
    ("*.example.com", "pdf.example.com:8080", "http://pdf.example.com:8080"),
    ("*.example.com", "example.com", "http://127.0.0.1:{port}"),
    ("*.example.com", "evil.example.org", "http://127.0.0.1:{port}"),
    (".example.com", "example.com", "http://example.com"),
    (".example.com", "a.b.example.com", "http://a.b.example.com"),
    # nginx's first name of ".example.com" is "example.com"
    (".example.com", "badexample.com", "http://example.com:{port}"),
    ("www.example.*", "www.example.org", "http://www.example.org"),
    ("www.example.* pdf.example.net", "PDF.example.net",
     "http://pdf.example.net"),
    ("*.example.com pdf.example.net", "other.net", "http://127.0.0.1:{port}"),
    ("pdf.example.net *.example.com", "other.net",
     "http://pdf.example.net:{port}"),
    ("~^(?<sub>.+)\\.example\\.com$", "a.example.com",
     "http://127.0.0.1:{port}"),
])
def test_link_base_of_a_server_named_by_wildcards_or_underscore(
        make_env, names, host, base):
    # Links are built on a name the server claims or on its address, never
    # on "_", a wildcard or a regular expression taken literally.
    ngx, backend = make_env(server_name=names)
    backend.responder = lambda m: [(0, final(m, status=200, body=b"{}"))]
    resp = ngx.request("GET", "/v1/convert/status/job_x1", None,
                       {"X-API-Key": API_KEY, "Host": host})
    assert resp.status == 200, resp.body
    assert backend.messages()[-1]["base_url"] == base.format(port=ngx.port)


def test_status_unknown_job_relayed_and_bad_id(env):
    ngx, backend = env
    err = b'{"success":false,"error":"not_found","detail":"no such job"}'
    backend.responder = lambda m: [(0, final(m, status=404, body=err))]
    resp = ngx.request("GET", "/v1/convert/status/job_nope", None, auth())
    assert resp.status == 404 and resp.body == err
    resp = ngx.request("GET", "/v1/convert/status/bad.id", None, auth())
    assert_error(resp, 404, "not_found")
    assert len(backend.messages()) == 1


def test_status_requires_key(env):
    ngx, backend = env
    resp = ngx.request("GET", "/v1/convert/status/job_x1")
    assert_error(resp, 401, "missing_api_key")
    assert_nothing_sent(ngx, backend)


def test_health_ok(env):
    ngx, backend = env
    ok = b'{"status":"ok","nginx":"ok","worker":"ok","database":"ok"}'
    backend.responder = lambda m: [(0, final(m, status=200, body=ok))]
    resp = ngx.request("GET", "/v1/health")
    assert resp.status == 200 and resp.body == ok
    assert backend.messages() == [{"v": 1, "id": backend.messages()[0]["id"],
                                   "op": "health"}]


def test_health_worker_down(make_env):
    ngx, backend = make_env(timeout="500ms")
    resp = ngx.request("GET", "/v1/health")
    assert resp.status == 503
    assert resp.headers["retry-after"] == "1"
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["nginx"] == "ok" and body["worker"] == "down"


def test_health_no_backend(make_env):
    ngx, _ = make_env(bind=False)
    t0 = time.monotonic()
    resp = ngx.request("GET", "/v1/health")
    assert time.monotonic() - t0 < 1
    assert resp.status == 503 and resp.json()["worker"] == "down"


# --- auth ------------------------------------------------------------------

def test_missing_key_401(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": "https://example.com"})
    assert_error(resp, 401, "missing_api_key")
    assert_nothing_sent(ngx, backend)


@pytest.mark.parametrize("key", [
    "sk_live_short",
    "pk_live_" + "a" * 40,
    "sk_live_" + "a" * 30 + "-" + "b" * 10,
    "sk_live_" + "a" * 121,
])
def test_malformed_key_401(env, key):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": "https://example.com"}, auth(key))
    assert_error(resp, 401, "invalid_api_key")
    assert_nothing_sent(ngx, backend)


def test_non_bearer_authorization_401(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": "https://example.com"},
                       {"Authorization": "Basic " + API_KEY})
    assert_error(resp, 401, "invalid_api_key")
    assert_nothing_sent(ngx, backend)


def test_origin_with_key_403(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": "https://example.com"},
                       {**auth(), "Origin": "https://evil.example"})
    assert_error(resp, 403, "private_key_in_browser")
    assert_nothing_sent(ngx, backend)


# --- body validation -------------------------------------------------------

@pytest.mark.parametrize("raw", [b"[1,2]", b'"x"', b"42", b"{bad json",
                                 b"", b'{"url": "\xff"}'])
def test_body_not_json_object_400(env, raw):
    ngx, backend = env
    resp = ngx.request("POST", PDF, raw, {**auth(),
                                          "Content-Type": "application/json"})
    assert_error(resp, 400, "invalid_json")
    assert_nothing_sent(ngx, backend)


def test_duplicate_key_400(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF,
                       b'{"url":"https://a.example","url":"https://b"}',
                       {**auth(), "Content-Type": "application/json"})
    assert_error(resp, 400, "duplicate_key")
    assert_nothing_sent(ngx, backend)


def test_a_long_unknown_field_cut_inside_a_character_still_explains(env):
    # The field path is kept in a fixed buffer; a key of 2-byte characters
    # cut there ended mid-character and the whole detail became "" (not
    # valid UTF-8). Cut at a character boundary, it names the field.
    ngx, backend = env
    name = "\u00e9" * 200
    resp = ngx.request("POST", PDF,
                       json.dumps({"url": "https://example.com", name: 1},
                                  ensure_ascii=False).encode(),
                       {**auth(), "Content-Type": "application/json"})
    assert_error(resp, 400, "unknown_field")
    body = resp.json()
    assert body["detail"].startswith('unknown field "\u00e9\u00e9'), body
    assert body["field"] and set(body["field"]) == {"\u00e9"}, body
    assert_nothing_sent(ngx, backend)


def test_unknown_field_400(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "viewport_widht": 800}, auth())
    body = assert_error(resp, 400, "unknown_field", "viewport_widht")
    assert "viewport_widht" in body["detail"]
    assert_nothing_sent(ngx, backend)


def test_http_callback_url_400(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "callback_url": "http://hooks.example"},
                       auth())
    assert_error(resp, 400, "invalid_callback_url", "callback_url")
    assert_nothing_sent(ngx, backend)


@pytest.mark.parametrize("body,status,code,field", [
    ({}, 400, "missing_field", "url"),
    ({"url": "ftp://example.com"}, 400, "invalid_url", "url"),
    ({"url": "https://user:pw@example.com/"}, 400, "invalid_url", "url"),
    ({"url": "https:///path"}, 400, "invalid_url", "url"),
    ({"url": "https://exa mple.com"}, 400, "invalid_url", "url"),
    ({"url": "https://example.com:99999"}, 400, "invalid_url", "url"),
    ({"url": "https://example.com/" + "a" * 2040}, 400, "invalid_url", "url"),
    ({"url": ["https://ok.example", "javascript:alert(1)"]}, 400,
     "invalid_url", "url[1]"),
    ({"url": ["https://ok.example", 5]}, 400, "invalid_type", "url[1]"),
    ({"url": []}, 400, "invalid_url", "url"),
    ({"url": 5}, 400, "invalid_type", "url"),
    ({"url": ["https://a.example"] * 101}, 400, "too_many_urls", "url"),
    ({"url": "https://a.example", "async_mode": "yes"}, 400, "invalid_type",
     "async_mode"),
    ({"url": "https://a.example", "notification_email": "a@b@c"}, 400,
     "invalid_email", "notification_email"),
    ({"url": "https://a.example", "notification_email": "a@b.c\r\nBcc: x"},
     400, "invalid_email", "notification_email"),
    ({"url": "https://a.example", "notification_email": "Bob <a@b.c>"},
     400, "invalid_email", "notification_email"),
    ({"url": "https://a.example", "direct_download": 1}, 400,
     "invalid_type", "direct_download"),
    ({"url": "https://a.example", "output_filename": 7}, 400,
     "invalid_type", "output_filename"),
    ({"url": "https://a.example", "viewport_width": 100}, 400,
     "out_of_range", "viewport_width"),
    ({"url": "https://a.example", "viewport_width": 1280.5}, 400,
     "invalid_type", "viewport_width"),
    ({"url": "https://a.example", "timeout": 301}, 400, "out_of_range",
     "timeout"),
    ({"url": "https://a.example", "wait_until": "domready"}, 400,
     "invalid_value", "wait_until"),
    ({"url": "https://a.example", "image_format": "png"}, 400,
     "invalid_field", "image_format"),
    ({"url": "https://a.example", "pdf_options": []}, 400, "invalid_type",
     "pdf_options"),
    ({"url": "https://a.example",
      "pdf_options": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}}},
     400, "nesting_too_deep", None),
])
def test_field_validation(env, body, status, code, field):
    ngx, backend = env
    resp = ngx.request("POST", PDF, body, auth())
    assert_error(resp, status, code, field)
    assert_nothing_sent(ngx, backend)


def test_max_urls_directive(make_env):
    ngx, backend = make_env(extra_api="enconvert_max_urls 2;")
    resp = ngx.request("POST", PDF, {"url": ["https://a.example"] * 3},
                       auth())
    assert_error(resp, 400, "too_many_urls", "url")
    assert_nothing_sent(ngx, backend)


def test_body_too_large_413(make_env):
    ngx, backend = make_env(extra_api="enconvert_max_body_size 1k;")
    big = {"url": "https://a.example", "output_filename": "x" * 2000}
    resp = ngx.request("POST", PDF, big, auth())
    assert_error(resp, 413, "body_too_large")
    assert_nothing_sent(ngx, backend)


def test_body_in_temp_file(make_env):
    ngx, backend = make_env(extra_api="client_body_buffer_size 1k;")
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    urls = ["https://example.com/" + "p" * 100 + str(i) for i in range(50)]
    resp = ngx.request("POST", PDF, {"url": urls}, auth())
    assert resp.status == 202
    assert backend.messages()[0]["urls"] == urls


def test_wrong_content_type_415(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, b'{"url":"https://a.example"}',
                       {**auth(), "Content-Type": "text/plain"})
    assert_error(resp, 415, "unsupported_media_type")
    assert_nothing_sent(ngx, backend)


def test_charset_content_type_accepted(env):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, b'{"url":"https://a.example"}',
                       {**auth(),
                        "Content-Type": "application/json; charset=utf-8"})
    assert resp.status == 202


# --- routing ---------------------------------------------------------------

def test_wrong_method_405(env):
    ngx, _ = env
    resp = ngx.request("GET", PDF, None, auth())
    assert_error(resp, 405, "method_not_allowed")
    assert resp.headers["allow"] == "POST"
    resp = ngx.request("POST", "/v1/health", b"{}")
    assert_error(resp, 405, "method_not_allowed")
    assert resp.headers["allow"] == "GET, HEAD"


def test_unknown_route_404(env):
    ngx, _ = env
    for path in ("/v1/nope", "/v1/convert/url-to-docx", "/v1/convert/"):
        resp = ngx.request("GET", path)
        assert_error(resp, 404, "not_found")


# --- presigned downloads ---------------------------------------------------

KEY = "live/files/acc1/url-to-pdf/example-com_20260101T000000Z_7.pdf"


def put_file(ngx, key=KEY):
    return ngxtest.put_file(ngx, key)


def test_presigned_download_valid(env):
    ngx, backend = env
    data = put_file(ngx)
    exp = int(time.time()) + 600
    resp = ngx.request("GET", f"/v1/files/{KEY}?expires={exp}"
                              f"&signature={presign(KEY, exp)}")
    assert resp.status == 200
    assert resp.body == data
    assert resp.headers["content-length"] == str(len(data))
    assert_nothing_sent(ngx, backend)


def test_presigned_download_range(env):
    ngx, _ = env
    put_file(ngx)
    exp = int(time.time()) + 600
    resp = ngx.request("GET", f"/v1/files/{KEY}?expires={exp}"
                              f"&signature={presign(KEY, exp)}",
                       headers={"Range": "bytes=0-3"})
    assert resp.status == 206 and resp.body == b"%PDF"


def test_presigned_bad_signature_403(env):
    ngx, _ = env
    put_file(ngx)
    exp = int(time.time()) + 600
    sig = presign(KEY, exp)
    bad = ("0" if sig[0] != "0" else "1") + sig[1:]
    for q in (f"expires={exp}&signature={bad}",
              f"expires={exp + 1}&signature={sig}",
              f"expires={exp}",
              f"signature={sig}",
              f"expires={exp}&signature={sig[:-2]}"):
        resp = ngx.request("GET", f"/v1/files/{KEY}?{q}")
        assert_error(resp, 403, "invalid_signature")
    other = KEY.replace("_7.pdf", "_8.pdf")
    put_file(ngx, other)
    resp = ngx.request("GET", f"/v1/files/{other}?expires={exp}"
                              f"&signature={sig}")
    assert_error(resp, 403, "invalid_signature")


def test_presigned_expired_403(env):
    ngx, _ = env
    put_file(ngx)
    exp = int(time.time()) - 5
    resp = ngx.request("GET", f"/v1/files/{KEY}?expires={exp}"
                              f"&signature={presign(KEY, exp)}")
    assert_error(resp, 403, "expired_url")


def test_presigned_bad_key_400_and_missing_file_404(env):
    ngx, _ = env
    exp = int(time.time()) + 600
    key = "live/files/a b.pdf"
    resp = ngx.request("GET", f"/v1/files/live/files/a%20b.pdf?expires={exp}"
                              f"&signature={presign(key, exp)}")
    assert_error(resp, 400, "invalid_object_key")
    key = "live/files/missing.pdf"
    resp = ngx.request("GET", f"/v1/files/{key}?expires={exp}"
                              f"&signature={presign(key, exp)}")
    assert resp.status == 404
    # a folder that exists (signed as any key would be): refused, not a
    # 301 to the internal files location
    put_file(ngx)
    for key in ("live/files/acc1/url-to-pdf", "live/files/acc1/url-to-pdf/"):
        resp = ngx.request("GET", f"/v1/files/{key}?expires={exp}"
                                  f"&signature={presign(key, exp)}")
        assert_error(resp, 400, "invalid_object_key")


# --- configuration ---------------------------------------------------------

@pytest.mark.parametrize("lines,directive", [
    ("enconvert_backend ipc:///x; enconvert_timeout abc;",
     "enconvert_timeout"),
    ("enconvert_backend ipc:///x; enconvert_timeout 0;", "enconvert_timeout"),
    ("enconvert_backend ipc:///x; enconvert_sync_timeout -1;",
     "enconvert_sync_timeout"),
    ("enconvert_backend ipc:///x; enconvert_max_urls 0;",
     "enconvert_max_urls"),
    ("enconvert_backend ipc:///x; enconvert_max_body_size 0;",
     "enconvert_max_body_size"),
    ("enconvert_backend ipc:///x; enconvert_files_location files;",
     "enconvert_files_location"),
    ("enconvert_backend http://x;", "enconvert_backend"),
    ("enconvert_backend;", "enconvert_backend"),
    ("enconvert_backend ipc:///x; "
     "enconvert_signing_secret_file /nonexistent/secret;",
     "enconvert_signing_secret_file"),
    ("enconvert_backend ipc:///x; enconvert_timeout 5x;",
     "enconvert_timeout"),
    ("enconvert_backend ipc:///x; enconvert_timeout 1s 2s;",
     "enconvert_timeout"),
    ("enconvert_backend ipc:///x; enconvert_timeout 1s; "
     "enconvert_timeout 2s;", "enconvert_timeout"),
    ("enconvert_backend ipc:///x; enconvert_sync_timeout 0;",
     "enconvert_sync_timeout"),
    ("enconvert_backend ipc:///x; enconvert_sync_timeout soon;",
     "enconvert_sync_timeout"),
    # the worker takes at most 1000 URLs in one request
    ("enconvert_backend ipc:///x; enconvert_max_urls 1001;",
     "enconvert_max_urls"),
    ("enconvert_backend ipc:///x; enconvert_max_urls -1;",
     "enconvert_max_urls"),
    ("enconvert_backend ipc:///x; enconvert_max_urls many;",
     "enconvert_max_urls"),
    ("enconvert_backend ipc:///x; enconvert_max_body_size 65m;",
     "enconvert_max_body_size"),
    ("enconvert_backend ipc:///x; enconvert_max_body_size 1x;",
     "enconvert_max_body_size"),
    ("enconvert_backend ipc:///x; enconvert_files_location /files;",
     "enconvert_files_location"),
    ("enconvert_backend ipc:///x; enconvert_files_location /;",
     "enconvert_files_location"),
    ("enconvert_backend ipc:///x; enconvert_backend ipc:///y;",
     "enconvert_backend"),
    ("enconvert_backend ipc://;", "enconvert_backend"),
    ("enconvert_backend ipc:///x tcp://;", "enconvert_backend"),
    ("enconvert_backend ipc:///x; enconvert_api;", "enconvert_api"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; enconvert_backend ipc:///y; }",
     "enconvert_backend"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; location / { enconvert_api on; } }",
     "enconvert_api"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; location / { enconvert_api; "
     "enconvert_api; } }", "enconvert_api"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; enconvert_signing_secret_file /s; }",
     "enconvert_signing_secret_file"),
    ("enconvert_backend ipc:///x; enconvert_signing_secret_file;",
     "enconvert_signing_secret_file"),
    ("enconvert_backend ipc:///x; enconvert_rate_limited;",
     "enconvert_rate_limited"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; location / { enconvert_error x; } }",
     "enconvert_error"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; location / { enconvert_api; "
     "enconvert_error; } }", "enconvert_error"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; location / { enconvert_rate_limited x; } }",
     "enconvert_rate_limited"),
    ("enconvert_backend ipc:///x; "
     "server { listen 127.0.0.1:2; location / { enconvert_api; "
     "enconvert_rate_limited; } }", "enconvert_rate_limited"),
])
def test_bad_directives_rejected(tmp_path, module_so, lines, directive):
    res = nginx_t(tmp_path, module_so, lines)
    assert res.returncode != 0
    assert directive in res.stderr, res.stderr


def test_api_alone_uses_the_packaged_backend_and_secret(tmp_path, module_so):
    # enconvert_api with no main-level directive: the backend defaults to
    # the packaged worker's socket and the secret to its file, which must
    # then exist (docs/directives.md).
    res = nginx_t(tmp_path, module_so, "")
    if os.path.exists("/etc/enconvert/secret"):
        assert res.returncode == 0, res.stderr
    else:
        assert res.returncode != 0
        assert ('"enconvert_signing_secret_file" cannot open '
                '"/etc/enconvert/secret"') in res.stderr, res.stderr


def test_empty_secret_file_rejected(tmp_path, module_so):
    (tmp_path / "empty").write_text("\n")
    res = nginx_t(tmp_path, module_so, "enconvert_backend ipc:///x; "
                  f"enconvert_signing_secret_file {tmp_path}/empty;")
    assert res.returncode != 0
    assert "enconvert_signing_secret_file" in res.stderr
    assert "empty" in res.stderr


def test_short_secret_file_rejected(tmp_path, module_so):
    """A short secret can be found by trying, and with it links to every
    tenant's files signed: 31 bytes are refused, 32 accepted."""
    (tmp_path / "short").write_text("k" * 31 + "\n")
    res = nginx_t(tmp_path, module_so, "enconvert_backend ipc:///x; "
                  f"enconvert_signing_secret_file {tmp_path}/short;")
    assert res.returncode != 0
    assert (f'"enconvert_signing_secret_file" file "{tmp_path}/short" holds 31 '
            'bytes, at least 32 are needed') in res.stderr, res.stderr
    (tmp_path / "enough").write_text("k" * 32 + "\n")
    res = nginx_t(tmp_path, module_so, "enconvert_backend ipc:///x; "
                  f"enconvert_signing_secret_file {tmp_path}/enough;")
    assert res.returncode == 0, res.stderr


def test_large_secret_file_rejected(tmp_path, module_so):
    (tmp_path / "big").write_text("x" * 5000)
    res = nginx_t(tmp_path, module_so, "enconvert_backend ipc:///x; "
                  f"enconvert_signing_secret_file {tmp_path}/big;")
    assert res.returncode != 0
    assert "enconvert_signing_secret_file" in res.stderr


def test_good_config_accepted(tmp_path, module_so):
    (tmp_path / "secret").write_text(SECRET + "\n")
    res = nginx_t(tmp_path, module_so,
                  "enconvert_backend ipc:///a tcp://127.0.0.1:5555; "
                  f"enconvert_signing_secret_file {tmp_path}/secret; "
                  "enconvert_timeout 5s; enconvert_sync_timeout 60s; "
                  "enconvert_max_urls 10; enconvert_max_body_size 2m; "
                  "enconvert_files_location /_files/;")
    assert res.returncode == 0, res.stderr


# --- connection handling -----------------------------------------------------

def test_keepalive_connection_reused(env):
    """Each request is finalized exactly once: a second request on the
    same connection is served (a leaked reference would hang it)."""
    import http.client
    ngx, backend = env
    backend.responder = lambda m: [(0.05, final(m, status=202, body=b"{}"))]
    conn = http.client.HTTPConnection("127.0.0.1", ngx.port, timeout=3)
    body = json.dumps({"url": "https://a.example"}).encode()
    hdrs = {**auth(), "Content-Type": "application/json"}
    for method, path, data in (("POST", PDF, body),
                               ("GET", "/v1/convert/status/job_1", None),
                               ("GET", "/v1/health", None),
                               ("POST", PDF, body)):
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 202
    conn.close()
    assert len(backend.messages()) == 4


def test_graceful_quit_with_pending_request(make_env):
    """SIGQUIT while a request waits: the request still gets its answer."""
    import signal
    import threading
    ngx, backend = make_env(timeout="2s")
    backend.responder = lambda m: [(0.5, final(m, status=202, body=b"{}"))]
    result = {}

    def call():
        result["resp"] = ngx.request("POST", PDF, {"url": "https://a.example",
                                                   "async_mode": True},
                                     auth())

    t = threading.Thread(target=call)
    t.start()
    assert wait_for(lambda: len(backend.messages()) == 1, 2.0)
    ngx.proc.send_signal(signal.SIGQUIT)
    t.join(5)
    assert result["resp"].status == 202
    ngx.proc.wait(5)


def test_concurrent_requests_get_their_own_reply(env):
    """Replies arrive out of order; each goes to the request of its id."""
    import random
    from concurrent.futures import ThreadPoolExecutor
    ngx, backend = env
    backend.responder = lambda m: [(random.random() * 0.2, final(
        m, status=202, body=json.dumps(
            {"url": m["urls"][0]}).encode()))]

    def one(i):
        url = f"https://example.com/{i}"
        resp = ngx.request("POST", PDF, {"url": url, "async_mode": True},
                           auth())
        return resp.status == 202 and resp.json()["url"] == url

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, range(300)))
    assert all(results)
    assert len(backend.messages()) == 300
