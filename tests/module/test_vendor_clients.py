"""What the vendor's clients need of the module: the key is
judged before the body (a bad key on a POST is 401, never 400), job_id is
accepted and forwarded, direct_download with async_mode or a URL array is
refused naming the field, and the routes the clients call reach the worker
with the right op."""

import pytest

from ngxtest import API_KEY, assert_error, auth, final

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
U = "https://a.example"
UNKNOWN = {"success": False, "error": "invalid_api_key",
           "detail": "The API key is not valid or has been revoked."}


def worker_knows_no_key(backend):
    """The worker answers every question about the key with 401."""
    backend.knows_keys = False
    backend.responder = lambda m: [(0, final(
        m, status=401,
        body=b'{"success":false,"error":"invalid_api_key",'
             b'"detail":"The API key is not valid or has been revoked."}'))]


@pytest.mark.parametrize("body,headers", [
    ({"url": U, "no_such_field": 1}, {}),
    ({"url": "ftp://a.example"}, {}),
    (b"not json", {"Content-Type": "application/json"}),
    ({"url": U}, {"Content-Type": "text/plain"}),
    ({"url": U}, {"Idempotency-Key": "has space"}),
    ({"url": [U, U], "direct_download": True}, {}),
])
def test_unknown_key_is_401_before_the_body(env, body, headers):
    ngx, backend = env
    worker_knows_no_key(backend)
    resp = ngx.request("POST", PDF, body, {**auth(), **headers})
    assert_error(resp, 401, "invalid_api_key")
    assert resp.json() == UNKNOWN
    assert [m["op"] for m in backend.messages()] == ["whoami"]
    assert backend.messages()[0]["key"] == API_KEY


def test_unknown_key_with_too_large_body_is_401(make_env):
    ngx, backend = make_env(extra_api="enconvert_max_body_size 1k;")
    worker_knows_no_key(backend)
    resp = ngx.request("POST", PDF, {"url": U, "output_filename": "x" * 2000},
                       auth())
    assert_error(resp, 401, "invalid_api_key")


def test_known_key_gets_the_validation_error(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": U, "no_such_field": 1}, auth())
    assert_error(resp, 400, "unknown_field", "no_such_field")
    assert len(backend.key_checks) == 1
    assert backend.key_checks[0]["op"] == "whoami"
    assert backend.messages() == []


def test_refusal_is_sent_when_no_worker_answers(make_env):
    ngx, backend = make_env(timeout="300ms")
    backend.knows_keys = False          # and the responder answers nothing
    resp = ngx.request("POST", PDF, {"url": U, "no_such_field": 1}, auth())
    assert_error(resp, 400, "unknown_field", "no_such_field")


def test_malformed_key_is_401_without_asking(env):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": U, "x": 1},
                       {"Authorization": "Bearer nope"})
    assert_error(resp, 401, "invalid_api_key")
    assert backend.messages() == [] and backend.key_checks == []


@pytest.mark.parametrize("body,why", [
    ({"url": U, "async_mode": True, "direct_download": True}, "async_mode"),
    ({"url": [U], "direct_download": True}, "array"),
    ({"url": [U, U], "direct_download": True, "async_mode": False},
     "array"),
])
@pytest.mark.parametrize("route", [PDF, SHOT])
def test_direct_download_needs_a_sync_single_url(env, body, why, route):
    ngx, backend = env
    resp = ngx.request("POST", route, body, auth())
    err = assert_error(resp, 400, "invalid_value", "direct_download")
    assert why in err["detail"]
    assert backend.messages() == []


def test_direct_download_false_with_async_is_fine(env):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": [U], "direct_download": False},
                       auth())
    assert resp.status == 202


def test_job_id_is_forwarded_among_the_options(env):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    jid = "0123456789abcdef0123456789abcdef"
    resp = ngx.request("POST", PDF, {"url": U, "job_id": jid,
                                     "direct_download": False}, auth())
    assert resp.status == 202
    m = backend.messages()[-1]
    assert m["op"] == "convert" and m["options"]["job_id"] == jid


@pytest.mark.parametrize("value,code", [
    (7, "invalid_type"),
    ("", "out_of_range"),
    ("a" * 129, "out_of_range"),
    ("has space", "invalid_value"),
    ("../x", "invalid_value"),
])
def test_bad_job_id_is_refused(env, value, code):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": U, "job_id": value}, auth())
    assert_error(resp, 400, code, "job_id")
    assert backend.messages() == []


def test_null_job_id_is_no_job_id(env):
    ngx, backend = env
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": U, "job_id": None,
                                     "async_mode": True}, auth())
    assert resp.status == 202
    assert "job_id" not in backend.messages()[-1]["options"]


@pytest.mark.parametrize("path,op,target", [
    ("/v1/convert/batch/batch_0123", "batch", ("job_id", "batch_0123")),
    ("/v1/convert/batch/abcdef0123", "batch", ("job_id", "abcdef0123")),
    ("/v1/convert/download/live/files/a1/url-to-pdf/x_1.pdf", "download",
     ("object_key", "live/files/a1/url-to-pdf/x_1.pdf")),
    ("/v1/whoami", "whoami", None),
    ("/v1/auth/verify", "verify", None),
])
def test_client_routes_ask_the_worker(env, path, op, target):
    ngx, backend = env
    backend.knows_keys = False
    backend.responder = lambda m: [(0, final(m, status=200, body=b'{"a":1}'))]
    resp = ngx.request("GET", path, headers={"X-API-Key": API_KEY})
    assert resp.status == 200 and resp.json() == {"a": 1}
    m = backend.messages()[-1]
    assert m["op"] == op and m["key"] == API_KEY
    if target:
        assert m[target[0]] == target[1]


@pytest.mark.parametrize("path", ["/v1/convert/batch/x", "/v1/whoami",
                                  "/v1/auth/verify",
                                  "/v1/convert/download/live/a.pdf"])
def test_client_routes_need_a_key(env, path):
    ngx, backend = env
    assert_error(ngx.request("GET", path), 401, "missing_api_key")
    assert_error(ngx.request("POST", path, {"x": 1}, auth()), 405,
                 "method_not_allowed")
    assert backend.messages() == []


def test_batch_id_that_cannot_be_one_is_404(env):
    ngx, backend = env
    resp = ngx.request("GET", "/v1/convert/batch/" + "a" * 129, headers=auth())
    assert_error(resp, 404, "not_found")
    assert backend.messages() == []


def test_download_of_a_malformed_key_is_400(env):
    ngx, backend = env
    resp = ngx.request("GET", "/v1/convert/download/live/a%20b.pdf",
                       headers=auth())
    assert_error(resp, 400, "invalid_object_key")
    assert backend.messages() == []


def test_download_is_served_by_internal_redirect(env):
    ngx, backend = env
    import os
    key = "live/files/acc1/url-to-pdf/example-com_20260101T000000Z_1.pdf"
    path = os.path.join(ngx.storage, key)
    os.makedirs(os.path.dirname(path))
    with open(path, "wb") as f:
        f.write(b"%PDF-1.4 fake")
    name = "example-com_20260101T000000Z_1.pdf"
    backend.responder = lambda m: [(0, {
        "v": 1, "id": m["id"], "kind": "final", "status": 200,
        "internal_redirect": key,
        "headers": [["Content-Disposition", f'attachment; filename="{name}"'],
                    ["X-Filename", name]]})]
    resp = ngx.request("GET", "/v1/convert/download/" + key, headers=auth())
    assert resp.status == 200 and resp.body == b"%PDF-1.4 fake"
    assert resp.headers["x-filename"] == name
    assert resp.headers["content-disposition"] == \
        f'attachment; filename="{name}"'


def test_a_download_whose_file_is_gone_answers_json_without_its_headers(make_env):
    """The worker's download headers go with the redirect; when the file
    is no longer stored (retention removed it) the JSON 404 must not carry
    them: "attachment; filename=…pdf" made browsers and curl -OJ save the
    error as the PDF. (The files location's error_page as the packaged
    snippet has it.)"""
    ngx, backend = make_env(
        extra_server="error_page 404 @enconvert_error; "
                     "location @enconvert_error { enconvert_error; }")
    key = "live/files/acc1/url-to-pdf/gone_20260101T000000Z_1.pdf"
    name = "gone_20260101T000000Z_1.pdf"
    backend.responder = lambda m: [(0, {
        "v": 1, "id": m["id"], "kind": "final", "status": 200,
        "internal_redirect": key,
        "headers": [["Content-Disposition", f'attachment; filename="{name}"'],
                    ["X-Filename", name], ["X-Job-Id", "job_gone"]]})]
    resp = ngx.request("GET", "/v1/convert/download/" + key, headers=auth())
    assert_error(resp, 404, "not_found")
    for header in ("content-disposition", "x-filename", "x-job-id"):
        assert header not in resp.headers, (header, resp.headers)
    assert resp.headers["cache-control"] == "no-store"


def test_a_redirect_to_a_folder_is_refused_not_served(env):
    """A folder's key (an account's or endpoint's folder, which exists on
    disk) made nginx answer 301 to the internal files location, an HTML
    page that showed where the files lie; keys name files only."""
    ngx, backend = env
    import os
    folder = "live/files/acc1/url-to-pdf"
    os.makedirs(os.path.join(ngx.storage, folder), exist_ok=True)
    backend.responder = lambda m: [(0, {
        "v": 1, "id": m["id"], "kind": "final", "status": 200,
        "internal_redirect": folder, "headers": []})]
    resp = ngx.request("GET", "/v1/convert/download/" + folder, headers=auth())
    assert_error(resp, 400, "invalid_object_key")
    assert backend.messages() == []
    # a worker's redirect to one is not followed either
    resp = ngx.request("GET", "/v1/convert/download/" + folder + "/x_1.pdf",
                       headers=auth())
    assert_error(resp, 502, "bad_backend_reply")
    assert "location" not in resp.headers


def test_plain_liveness_outside_v1(env):
    ngx, backend = env
    resp = ngx.request("GET", "/health")
    assert resp.status == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {"status": "healthy"}
    assert backend.messages() == []
