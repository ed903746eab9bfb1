"""The API contract end to end (nginx, module, ZeroMQ, worker, PostgreSQL,
WebKitGTK): sync answers and direct downloads, idempotency, authentication,
nothing enqueued on bad input, the screenshot route, and the 503 paths with
the database down. Two tests run their own stack: one whose nginx waits only
briefly for sync renders, one whose PostgreSQL is stopped and restarted."""

import os
import re
import subprocess
import threading
import time
import uuid

import pytest
from conftest import make_home
from stack import (BUILD, SilentServer, SlowSite, Stack, jpeg_size, pdftotext, png_size,
                   psql, row_counts, stop_postgres)

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"


def status_of(stack, job_id, key="default"):
    r = stack.call("GET", f"/v1/convert/status/{job_id}", key=key)
    assert r.status == 200, r
    return r.json()


def error_of(r):
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["success"] is False, body
    return body["error"]


@pytest.fixture
def silent():
    s = SilentServer()
    yield s
    s.close()


# ---- Sync semantics ------------------------------------------------------


def test_direct_download_pdf_answers_bytes_and_headers(stack, site):
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html", "direct_download": True,
                                 "output_filename": "report-x"})
    assert r.status == 200, r
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == 'attachment; filename="report-x.pdf"'
    assert r.body.startswith(b"%PDF-")
    assert "Quarterly report alpha" in pdftotext(r.body)

    job_id = r.headers["x-job-id"]
    task = status_of(stack, job_id)["tasks"][0]
    assert task["status"] == "success"
    assert r.headers["x-object-key"] == task["object_key"]
    assert re.match(r"^live/files/[A-Za-z0-9]+/url-to-pdf/report-x_\d{8}T\d{6}Z_\d+\.pdf$",
                    task["object_key"]), task["object_key"]
    assert int(r.headers["x-file-size"]) == task["file_size"] == len(r.body)
    assert r.headers["x-conversion-time"] == f"{task['conversion_time']:.2f}"


def test_direct_download_screenshot_is_png(stack, site):
    r = stack.call("POST", SHOT, {"url": site.url + "/hello.html", "direct_download": True,
                                  "viewport_width": 640})
    assert r.status == 200, r
    assert r.headers["content-type"] == "image/png"
    assert re.match(r'^attachment; filename="[A-Za-z0-9._-]+\.png"$',
                    r.headers["content-disposition"])
    assert png_size(r.body)[0] == 640
    task = status_of(stack, r.headers["x-job-id"])["tasks"][0]
    assert r.headers["x-object-key"] == task["object_key"]
    assert int(r.headers["x-file-size"]) == task["file_size"] == len(r.body)


def test_sync_http_error_is_422_with_the_task_error_code(stack, site):
    r = stack.call("POST", PDF, {"url": site.url + "/no-such-page.html",
                                 "fail_on_http_error": True})
    assert r.status == 422, r
    assert error_of(r) == "http_error"
    body = r.json()
    assert body["detail"]
    status = stack.wait_terminal(body["job_id"])
    assert status["status"] == "failed"
    assert status["tasks"][0]["status"] == "failed"
    assert status["tasks"][0]["error"] == body["detail"]


def test_sync_render_timeout_is_504(stack, silent):
    r = stack.call("POST", PDF, {"url": silent.url, "timeout": 2})
    assert r.status == 504, r
    assert error_of(r) == "timeout"
    body = r.json()
    assert body["job_id"].startswith("job_")
    assert stack.wait_terminal(body["job_id"])["status"] == "failed"


@pytest.fixture(scope="module")
def short_wait_stack():
    """A stack whose nginx waits only 2 s for a sync render."""
    # client_max_body_size above enconvert_max_body_size, as
    # docs/validation.md asks, so the module's JSON 413 is what answers.
    s = Stack(make_home("enc-api-short-"),
              extra_env={"ENCONVERT_NGINX_EXTRA":
                         "enconvert_sync_timeout 2s; client_max_body_size 4m;"})
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_sync_outliving_the_module_wait_is_202_and_not_lost(short_wait_stack):
    slow = SlowSite(delay=5)
    try:
        r = short_wait_stack.call("POST", PDF, {"url": slow.url})
        assert r.status == 202, r
        body = r.json()
        assert body["success"] is True
        assert body["status"] == "processing"
        job_id = body["job_id"]
        assert job_id.startswith("job_")
        status = short_wait_stack.wait_terminal(job_id)
    finally:
        slow.close()
    assert status["status"] == "completed", status
    file = short_wait_stack.download(status["tasks"][0]["presigned_url"])
    assert file.status == 200
    assert "Slow page gamma" in pdftotext(file.body)


def test_body_over_the_module_limit_is_json_413_and_enqueues_nothing(short_wait_stack):
    s = short_wait_stack
    before = row_counts(s.home)
    r = s.call("POST", PDF, {"url": "https://example.com/",
                             "wait_for_selector": "x" * (1024 * 1024 + 10)})
    assert r.status == 413, r
    assert error_of(r) == "body_too_large"
    assert row_counts(s.home) == before


# ---- Idempotency ---------------------------------------------------------


def idem(key=None):
    return {"Idempotency-Key": key or "e2e-" + uuid.uuid4().hex}


def test_idempotent_async_retry_returns_first_job(stack, site):
    headers = idem()
    body = {"url": site.url + "/hello.html", "async_mode": True}
    before = row_counts(stack.home)
    first = stack.call("POST", PDF, body, headers=headers)
    again = stack.call("POST", PDF, body, headers=headers)
    assert first.status == again.status == 202, (first, again)
    assert first.json()["job_id"] == again.json()["job_id"]
    assert row_counts(stack.home) == (before[0] + 1, before[1] + 1)


def test_idempotency_key_with_different_body_is_409(stack, site):
    headers = idem()
    first = stack.call("POST", PDF, {"url": site.url + "/hello.html", "async_mode": True},
                       headers=headers)
    assert first.status == 202, first
    before = row_counts(stack.home)
    for changed in ({"url": site.url + "/second.html", "async_mode": True},
                    {"url": site.url + "/hello.html", "async_mode": True, "delay": 1},
                    {"url": site.url + "/hello.html"}):
        r = stack.call("POST", PDF, changed, headers=headers)
        assert r.status == 409, r
        assert r.json() == {
            "success": False, "error": "idempotency_conflict",
            "detail": "This Idempotency-Key was already used with a different request body.",
            "field": "Idempotency-Key"}
    # The same body on the other endpoint is a different request too.
    r = stack.call("POST", SHOT, {"url": site.url + "/hello.html", "async_mode": True},
                   headers=headers)
    assert r.status == 409, r
    assert row_counts(stack.home) == before
    # Member order is not part of the request.
    again = stack.call("POST", PDF, '{"async_mode": true, "url": "%s/hello.html"}' % site.url,
                       headers={**headers, "Content-Type": "application/json"})
    assert again.status == 202, again
    assert again.json()["job_id"] == first.json()["job_id"]


def test_idempotency_is_scoped_per_account(stack, site):
    headers = idem()
    body = {"url": site.url + "/hello.html", "async_mode": True}
    mine = stack.call("POST", PDF, body, headers=headers)
    theirs = stack.call("POST", PDF, {**body, "delay": 5}, headers=headers,
                        key=stack.new_key("idem-other"))
    assert mine.status == theirs.status == 202, (mine, theirs)
    assert mine.json()["job_id"] != theirs.json()["job_id"]


def test_concurrent_duplicates_create_one_job(stack, site):
    headers = idem()
    body = {"url": site.url + "/hello.html", "async_mode": True}
    before = row_counts(stack.home)
    answers = [None] * 8
    start = threading.Barrier(len(answers))

    def post(i):
        start.wait()
        answers[i] = stack.call("POST", PDF, body, headers=headers)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(answers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a.status == 202 for a in answers), answers
    assert len({a.json()["job_id"] for a in answers}) == 1
    assert row_counts(stack.home) == (before[0] + 1, before[1] + 1)


def test_sync_retry_gets_the_same_job_and_result(stack):
    slow = SlowSite(delay=3)
    headers = idem()
    body = {"url": slow.url}
    first = {}
    try:
        t = threading.Thread(target=lambda: first.update(
            r=stack.call("POST", PDF, body, headers=headers)))
        t.start()
        # Retry while the first is still rendering: it waits for that job.
        deadline = time.time() + 30
        while time.time() < deadline:
            if psql_has_key(stack, headers["Idempotency-Key"]):
                break
            time.sleep(0.1)
        running = stack.call("POST", PDF, body, headers=headers)
        t.join()
    finally:
        slow.close()
    assert first["r"].status == 200, first["r"]
    assert running.status == 200, running
    a, b = first["r"].json(), running.json()
    assert a["job_id"] == b["job_id"]
    assert a["object_key"] == b["object_key"]
    # Retry after it finished: the same 200 result at once.
    done = stack.call("POST", PDF, body, headers=headers)
    assert done.status == 200, done
    assert done.json()["job_id"] == a["job_id"]
    assert done.json()["object_key"] == a["object_key"]
    assert done.json()["file_size"] == a["file_size"]


def psql_has_key(stack, key):
    return psql(stack.home, "SELECT count(*) FROM jobs WHERE idempotency_key = "
                            "'%s'" % key.replace("'", "")) == "1"


# ---- Authentication ------------------------------------------------------


def test_bearer_and_x_api_key_both_work(stack, site):
    body = {"url": site.url + "/hello.html", "async_mode": True}
    r = stack.call("POST", PDF, body)
    assert r.status == 202, r
    job_id = r.json()["job_id"]
    r2 = stack.call("GET", f"/v1/convert/status/{job_id}", key=None,
                    headers={"X-API-Key": stack.key})
    assert r2.status == 200, r2
    assert r2.json()["job_id"] == job_id


@pytest.mark.parametrize("headers,code", [
    ({}, "missing_api_key"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "invalid_api_key"),
    ({"Authorization": "Bearer"}, "invalid_api_key"),
    ({"Authorization": "Bearer short"}, "invalid_api_key"),
    ({"X-API-Key": "sk_test_" + "a" * 40}, "invalid_api_key"),
    ({"X-API-Key": "sk_live_" + "!" * 40}, "invalid_api_key"),
    ({"Authorization": "Bearer sk_live_" + "Q" * 40}, "invalid_api_key"),
    ({"X-API-Key": "sk_live_" + "Q" * 40}, "invalid_api_key"),
])
def test_missing_malformed_unknown_keys_are_401(stack, site, headers, code):
    for method, path, body in (("POST", PDF, {"url": site.url + "/hello.html"}),
                               ("GET", "/v1/convert/status/job_" + "0" * 32, None)):
        r = stack.call(method, path, body, key=None, headers=headers)
        assert r.status == 401, (path, r)
        assert error_of(r) == code


def test_key_with_origin_header_is_403(stack, site):
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html"},
                   headers={"Origin": "https://app.example.com"})
    assert r.status == 403, r
    assert error_of(r) == "private_key_in_browser"


def test_revoked_key_is_refused_within_seconds(stack, site):
    key = stack.new_key("revoke-me")
    probe = "/v1/convert/status/job_" + "0" * 32
    # Authenticated (and cached by the worker): unknown job, not bad key.
    r = stack.call("GET", probe, key=key)
    assert r.status == 404, r
    out = run_worker(stack, "key", "list")
    rows = [line.split("\t") for line in out.splitlines()[1:] if line.strip()]
    ids = [row[0] for row in rows if row[2] == key[:12] and row[4] == "-"]
    assert len(ids) == 1, out
    run_worker(stack, "key", "revoke", "--id", ids[0])
    revoked_at = time.time()
    while True:
        r = stack.call("GET", probe, key=key)
        if r.status == 401:
            break
        assert r.status == 404, r
        # The contract: revocation takes effect within seconds (the worker
        # caches keys for at most 5 s); 10 s is a generous upper bound.
        assert time.time() - revoked_at < 10, "revoked key still accepted"
        time.sleep(0.2)
    assert error_of(r) == "invalid_api_key"
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html", "async_mode": True}, key=key)
    assert r.status == 401, r


def run_worker(stack, *args):
    r = subprocess.run([os.path.join(BUILD, "worker", "enconvert-worker"), *args,
                        "--config", os.path.join(stack.home, "worker-1.conf")],
                       capture_output=True, text=True, timeout=60, check=True)
    return r.stdout


def test_other_accounts_job_is_404_like_unknown(stack, site):
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html", "async_mode": True})
    assert r.status == 202, r
    job_id = r.json()["job_id"]
    other = stack.new_key("api-other")
    for hdrs in ({"Authorization": f"Bearer {other}"}, {"X-API-Key": other}):
        theirs = stack.call("GET", f"/v1/convert/status/{job_id}", key=None, headers=hdrs)
        unknown = stack.call("GET", "/v1/convert/status/job_" + "f" * 32, key=None,
                             headers=hdrs)
        assert theirs.status == unknown.status == 404, (theirs, unknown)
        assert theirs.body == unknown.body
        assert theirs.headers["content-type"] == unknown.headers["content-type"]


# ---- Nothing enqueued on bad input ---------------------------------------


def bad_requests(stack, site):
    ok_url = site.url + "/hello.html"
    unknown_key = "sk_live_" + "U" * 40
    return [
        ("unknown field", {"url": ok_url, "pdf_option": {}}, {}, 400, "unknown_field"),
        ("bad scheme", {"url": "ftp://example.com/x"}, {}, 400, "invalid_url"),
        ("bad scheme in array", {"url": [ok_url, "file:///etc/passwd"]}, {}, 400,
         "invalid_url"),
        ("http callback", {"url": ok_url, "callback_url": "http://example.com/hook"}, {}, 400,
         "invalid_callback_url"),
        ("too many urls", {"url": [ok_url] * 101}, {}, 400, "too_many_urls"),
        ("body too large", {"url": ok_url, "wait_for_selector": "x" * (1024 * 1024 + 10)}, {},
         413, "body_too_large"),
        ("bad json", '{"url": ', {"Content-Type": "application/json"}, 400, "invalid_json"),
        ("missing key", {"url": ok_url}, {"__no_key__": ""}, 401, "missing_api_key"),
        ("unknown key", {"url": ok_url}, {"Authorization": f"Bearer {unknown_key}"}, 401,
         "invalid_api_key"),
    ]


def test_bad_requests_enqueue_nothing(stack, site):
    before = row_counts(stack.home)
    for name, body, headers, status, code in bad_requests(stack, site):
        hdrs = dict(headers)
        key = "default"
        if "__no_key__" in hdrs or "Authorization" in hdrs:
            hdrs.pop("__no_key__", None)
            key = None
        for path in (PDF, SHOT):
            r = stack.call("POST", path, body, key=key, headers=hdrs)
            assert r.status == status, (name, path, r)
            assert error_of(r) == code, (name, path, r)
    assert row_counts(stack.home) == before


# ---- Screenshot route ----------------------------------------------------


def test_sync_screenshot_png(stack, site):
    r = stack.call("POST", SHOT, {"url": site.url + "/hello.html", "viewport_width": 800})
    assert r.status == 200, r
    body = r.json()
    assert re.match(r"^live/files/[A-Za-z0-9]+/url-to-screenshot/[A-Za-z0-9._-]+\.png$",
                    body["object_key"]), body["object_key"]
    assert body["filename"].endswith(".png")
    file = stack.download(body["presigned_url"])
    assert file.status == 200, file
    assert file.headers["content-type"] == "image/png"
    assert len(file.body) == body["file_size"]
    width, height = png_size(file.body)
    assert width == 800
    assert height > 0


def test_sync_screenshot_jpeg(stack, site):
    r = stack.call("POST", SHOT, {"url": site.url + "/hello.html", "image_format": "jpeg",
                                  "viewport_width": 1024, "image_quality": 70})
    assert r.status == 200, r
    body = r.json()
    assert re.match(r"^live/files/[A-Za-z0-9]+/url-to-screenshot/[A-Za-z0-9._-]+\.jpg$",
                    body["object_key"]), body["object_key"]
    assert body["filename"].endswith(".jpg")
    file = stack.download(body["presigned_url"])
    assert file.status == 200, file
    assert jpeg_size(file.body)[0] == 1024
    assert len(file.body) == body["file_size"]


# ---- 503 with the database down -----------------------------------------


@pytest.fixture(scope="module")
def db_stack():
    s = Stack(make_home("enc-api-db-"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_database_down_is_503_then_recovers(db_stack, site):
    s = db_stack
    assert s.call("GET", "/v1/health", key=None).status == 200
    # Warm the worker's key cache, so the 503 below also covers a cached key.
    assert s.call("POST", PDF, {"url": site.url + "/hello.html"}).status == 200

    stop_postgres(s.home)
    try:
        health = s.call("GET", "/v1/health", key=None)
        assert health.status == 503, health
        assert health.json()["database"] == "down"
        assert int(health.headers["retry-after"]) > 0
        for body in ({"url": site.url + "/hello.html"},
                     {"url": site.url + "/hello.html", "async_mode": True}):
            r = s.call("POST", PDF, body)
            assert r.status == 503, r
            assert error_of(r) == "database_unavailable"
            assert int(r.headers["retry-after"]) > 0
            assert "SQL" not in r.json()["detail"] and "pq" not in r.json()["detail"]
        r = s.call("GET", "/v1/convert/status/job_" + "0" * 32)
        assert r.status == 503, r
    finally:
        s.script("db")  # start PostgreSQL again

    # The worker reconnects on its own (back-off capped at 10 s).
    deadline = time.time() + 60
    while s.call("GET", "/v1/health", key=None).status != 200:
        assert time.time() < deadline, "worker did not reconnect\n" + s.logs()
        time.sleep(0.5)
    r = s.call("POST", PDF, {"url": site.url + "/second.html"})
    assert r.status == 200, r
    assert "Inventory sheet beta" in pdftotext(s.download(r.json()["presigned_url"]).body)


def test_nginx_own_errors_are_json_through_the_stack(stack, site):
    """Hardening defect 11: what nginx itself answers under the API (a body
    over client_max_body_size, a link to a file no longer stored) has the
    API's JSON shape, not nginx's HTML page."""
    big = {"url": site.url + "/hello.html", "output_filename": "x" * 10,
           "pad": "y" * (3 * 1024 * 1024)}
    r = stack.call("POST", "/v1/convert/url-to-pdf", big)
    assert r.status == 413, r
    assert r.headers["content-type"] == "application/json"
    assert r.json()["error"] == "body_too_large"

    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    os.remove(os.path.join(stack.home, "storage", r.json()["object_key"]))
    gone = stack.download(r.json()["presigned_url"])
    assert gone.status == 404, gone
    assert gone.headers["content-type"] == "application/json"
    assert gone.json()["error"] == "not_found"
