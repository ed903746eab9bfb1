"""$enconvert_api_key_hash: the SHA-256 of the presented key, usable by
stock nginx modules such as limit_req (preaccess phase)."""

import base64
import hashlib
import os

from ngxtest import API_KEY, REPO, assert_error, auth, final

PDF = "/v1/convert/url-to-pdf"
OTHER_KEY = "sk_live_" + "Z9y8X7w6V5" * 4


def sha(key):
    return hashlib.sha256(key.encode()).hexdigest()


def test_key_hash_variable_value(make_env):
    ngx, backend = make_env(
        extra_api="add_header X-Key-Hash \"[$enconvert_api_key_hash]\" "
                  "always;")
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    body = {"url": "https://a.example"}

    resp = ngx.request("POST", PDF, body, auth())
    assert resp.status == 202
    assert resp.headers["x-key-hash"] == "[%s]" % sha(API_KEY)

    resp = ngx.request("POST", PDF, body, {"X-API-Key": OTHER_KEY})
    assert resp.headers["x-key-hash"] == "[%s]" % sha(OTHER_KEY)

    # the presented key, even when the module then rejects it
    resp = ngx.request("POST", PDF, body, {"X-API-Key": "sk_live_bad"})
    assert_error(resp, 401, "invalid_api_key")
    assert resp.headers["x-key-hash"] == "[%s]" % sha("sk_live_bad")

    # no key, or no Bearer key: empty
    resp = ngx.request("POST", PDF, body)
    assert_error(resp, 401, "missing_api_key")
    assert resp.headers["x-key-hash"] == "[]"
    resp = ngx.request("POST", PDF, body, {"Authorization": "Basic eDp5"})
    assert resp.headers["x-key-hash"] == "[]"
    resp = ngx.request("GET", "/v1/health")
    assert resp.headers["x-key-hash"] == "[]"


def test_limit_req_per_key(make_env):
    ngx, backend = make_env(
        extra_http="limit_req_zone $enconvert_api_key_hash zone=perkey:1m "
                   "rate=1r/m; limit_req_status 429;",
        extra_api="limit_req zone=perkey burst=2 nodelay;")
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    body = {"url": "https://a.example", "async_mode": True}

    statuses = [ngx.request("POST", PDF, body, auth()).status
                for _ in range(6)]
    assert statuses == [202, 202, 202, 429, 429, 429]

    # another key has its own budget
    statuses = [ngx.request("POST", PDF, body,
                            {"X-API-Key": OTHER_KEY}).status
                for _ in range(3)]
    assert statuses == [202, 202, 202]

    # requests without a key are not counted (the empty value)
    for _ in range(5):
        resp = ngx.request("GET", "/v1/health")
        assert resp.status != 429

    keys = [m.get("key") for m in backend.messages() if m["op"] == "convert"]
    assert keys == [API_KEY] * 3 + [OTHER_KEY] * 3


def test_rate_limited_requests_get_the_api_json_429(make_env):
    ngx, backend = make_env(
        extra_http="limit_req_zone $enconvert_api_key_hash zone=perkey:1m "
                   "rate=1r/m; limit_req_status 429;",
        extra_api="limit_req zone=perkey burst=1 nodelay; "
                  "error_page 429 = @enconvert_rate_limited;",
        extra_server="location @enconvert_rate_limited "
                     "{ enconvert_rate_limited; }")
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    body = {"url": "https://a.example", "async_mode": True}

    statuses = [ngx.request("POST", PDF, body, auth()).status
                for _ in range(2)]
    assert statuses == [202, 202]
    resp = ngx.request("POST", PDF, body, auth())
    assert resp.status == 429
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["retry-after"] == "1"
    assert resp.json() == {
        "success": False, "error": "rate_limited",
        "detail": "too many requests for this API key; "
                  "retry after the Retry-After delay"}
    # the refused request never reached the worker
    assert len([m for m in backend.messages() if m["op"] == "convert"]) == 2


def test_variable_in_log_format(make_env, tmp_path):
    log = tmp_path / "keys.log"
    ngx, backend = make_env(
        extra_http="log_format keys '$enconvert_api_key_hash';",
        extra_api=f"access_log {log} keys;")
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    ngx.request("POST", PDF, {"url": "https://a.example"}, auth())
    ngx.stop()
    assert log.read_text().split() == [sha(API_KEY)]


def test_nginx_own_errors_under_the_api_are_json(make_env):
    """A body over client_max_body_size and a missing stored file used to
    get nginx's HTML pages (hardening, defect 11)."""
    ngx, backend = make_env(
        extra_api="client_max_body_size 1k; "
                  "error_page 400 404 413 414 500 @enconvert_error;",
        extra_server="location @enconvert_error { enconvert_error; }")
    resp = ngx.request("POST", PDF, {"url": "https://a.example/" + "x" * 4000}, auth())
    assert resp.status == 413
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {
        "success": False, "error": "body_too_large",
        "detail": "the request body is larger than the configured limit"}
    assert backend.messages() == []



def test_packaged_log_format_records_no_secret(make_env, tmp_path):
    """The documented access-log format (conf/enconvert-log.conf) never
    writes a key: not sent as a Basic user name, not in a query string, not
    as a bearer token (issue: installable, logs)."""
    log = tmp_path / "access.log"
    with open(os.path.join(REPO, "conf", "enconvert-log.conf")) as f:
        log_format = f.read()
    ngx, backend = make_env(extra_http=log_format,
                            extra_api=f"access_log {log} enconvert;")
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    body = {"url": "https://a.example", "async_mode": True}
    basic = base64.b64encode(f"{API_KEY}:x".encode()).decode()
    ngx.request("POST", PDF, body, auth())
    ngx.request("POST", PDF, body, {"Authorization": f"Basic {basic}"})
    ngx.request("GET", f"/v1/convert/status/job_x1?key={API_KEY}&api_key={API_KEY}")
    ngx.request("GET", f"/v1/files/live/a.pdf?expires=1&signature={'ab' * 32}")
    ngx.stop()
    text = log.read_text()
    assert len(text.splitlines()) == 4, text
    assert API_KEY not in text and "sk_live_" not in text
    assert "ab" * 32 not in text and "?" not in text
    assert '"POST /v1/convert/url-to-pdf HTTP/1.1" 202' in text
