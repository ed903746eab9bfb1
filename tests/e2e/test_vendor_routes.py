"""The routes and answers the vendor's clients read, end to end:
the client's own job_id (status in the clients' sync vocabulary, reuse,
other accounts), the batch route, downloads with the key, whoami, verify,
/health, 202 and sync 200 members, key before body."""

import time
import uuid

import pytest

PDF = "/v1/convert/url-to-pdf"


def cid():
    return uuid.uuid4().hex


def key_headers(key):
    return {"X-API-Key": key}


def wait_batch(stack, batch_id, key="default", timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = stack.call("GET", f"/v1/convert/batch/{batch_id}", key=key)
        assert r.status == 200, r
        body = r.json()
        if body["status"] != "processing":
            return body
        time.sleep(0.3)
    raise AssertionError(f"batch {batch_id} still processing after {timeout}s")


@pytest.fixture(scope="module")
def other_key(stack):
    return stack.new_key("vendor-other")


def test_sync_with_client_job_id(stack, site):
    jid = cid()
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html", "job_id": jid})
    assert r.status == 200, r
    res = r.json()
    assert res["conversion_time_seconds"] == res["conversion_time"]
    assert res["job_id"].startswith("job_")
    st = stack.call("GET", f"/v1/convert/status/{jid}")
    assert st.status == 200, st
    body = st.json()
    assert body["status"] == "success"
    assert body["object_key"] == res["object_key"]
    assert body["job_id"] == res["job_id"]
    assert stack.download(body["presigned_url"]).body.startswith(b"%PDF-")
    # our own id still answers the usual status object
    ours = stack.call("GET", f"/v1/convert/status/{res['job_id']}").json()
    assert ours["status"] == "success" and ours["object_key"] == res["object_key"]


def test_failed_sync_with_client_job_id_reports_failed(stack, site):
    jid = cid()
    r = stack.call("POST", PDF, {"url": site.url + "/no-such-page.html", "job_id": jid})
    assert r.status == 422, r
    body = stack.call("GET", f"/v1/convert/status/{jid}").json()
    assert body["status"] == "failed", body
    assert isinstance(body["error"], str) and body["error"]


def test_job_without_client_id_keeps_the_status_object(stack, site):
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    body = stack.call("GET", f"/v1/convert/status/{r.json()['job_id']}").json()
    assert body["status"] == "completed" and body["total_tasks"] == 1


def test_reused_client_id_shows_the_newest_job(stack, site):
    jid = cid()
    first = stack.call("POST", PDF, {"url": site.url + "/hello.html", "job_id": jid,
                                     "output_filename": "first"})
    second = stack.call("POST", PDF, {"url": site.url + "/hello.html", "job_id": jid,
                                      "output_filename": "second"})
    assert first.status == 200 and second.status == 200
    body = stack.call("GET", f"/v1/convert/status/{jid}").json()
    assert body["job_id"] == second.json()["job_id"] != first.json()["job_id"]
    assert body["object_key"] == second.json()["object_key"]


def test_client_ids_are_per_account(stack, site, other_key):
    jid = cid()
    mine = stack.call("POST", PDF, {"url": site.url + "/hello.html", "job_id": jid})
    assert mine.status == 200
    assert stack.call("GET", f"/v1/convert/status/{jid}", key=other_key).status == 404
    assert stack.call("GET", f"/v1/convert/batch/{jid}", key=other_key).status == 404
    theirs = stack.call("POST", PDF, {"url": site.url + "/hello.html", "job_id": jid},
                        key=other_key)
    assert theirs.status == 200
    assert stack.call("GET", f"/v1/convert/status/{jid}").json()["job_id"] == \
        mine.json()["job_id"]
    assert stack.call("GET", f"/v1/convert/status/{jid}", key=other_key).json()["job_id"] \
        == theirs.json()["job_id"]


def test_async_single_202_and_batch_route(stack, site):
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html", "async_mode": True})
    assert r.status == 202, r
    acc = r.json()
    assert acc["batch_id"] == acc["job_id"] and acc["url_count"] == 1
    b = wait_batch(stack, acc["batch_id"])
    assert b["batch_id"] == acc["batch_id"]
    assert (b["status"], b["total"], b["completed"], b["failed"], b["in_progress"]) == \
        ("completed", 1, 1, 0, 0)
    assert b["output_mode"] == "individual" and b["zip_download_url"] is None
    item = b["items"][0]
    assert item["source_url"] == site.url + "/hello.html"
    assert item["status"] == "Success" and item["error"] is None
    assert item["output_file_size"] > 0
    assert stack.download(item["download_url"]).body.startswith(b"%PDF-")


def test_batch_with_one_failing_url(stack, site):
    urls = [site.url + "/hello.html", site.url + "/no-such-page.html"]
    jid = cid()
    r = stack.call("POST", PDF, {"url": urls, "job_id": jid})
    assert r.status == 202, r
    acc = r.json()
    assert acc["batch_id"].startswith("batch_") and acc["url_count"] == 2
    assert acc["output_format"] == "individual"
    b = wait_batch(stack, acc["batch_id"])
    assert (b["status"], b["completed"], b["failed"]) == ("partial", 1, 1)
    assert [i["status"] for i in b["items"]] == ["Success", "Failed"]
    assert b["items"][1]["download_url"] is None and b["items"][1]["error"]
    # the client's id reaches the same batch
    assert stack.call("GET", f"/v1/convert/batch/{jid}").json()["batch_id"] == acc["batch_id"]


def test_download_route(stack, site, other_key):
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html"})
    key = r.json()["object_key"]
    d = stack.call("GET", f"/v1/convert/download/{key}", headers=key_headers(stack.key),
                   key=None)
    assert d.status == 200, d
    assert d.body.startswith(b"%PDF-")
    name = key.rsplit("/", 1)[1]
    assert d.headers["x-filename"] == name
    assert d.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert stack.call("GET", f"/v1/convert/download/{key}", key=other_key).status == 404
    assert stack.call("GET", f"/v1/convert/download/{key}", key=None).status == 401
    gone = key.rsplit("/", 1)[0] + "/missing_1.pdf"
    g = stack.call("GET", f"/v1/convert/download/{gone}")
    assert g.status == 404, g
    # the JSON error, without the download's headers (a client saving by
    # Content-Disposition kept the error as the PDF)
    assert g.json()["error"] == "not_found"
    assert "content-disposition" not in g.headers and "x-filename" not in g.headers
    # a folder of the account's: refused, not nginx's HTML redirect to the
    # internal files location
    folder = key.rsplit("/", 1)[0]
    f = stack.call("GET", f"/v1/convert/download/{folder}")
    assert f.status == 400 and f.json()["error"] == "invalid_object_key", f


def test_whoami_and_verify(stack, other_key):
    me = stack.call("GET", "/v1/whoami", headers=key_headers(stack.key), key=None)
    assert me.status == 200, me
    assert me.json()["plan_slug"] == "self-hosted"
    other = stack.call("GET", "/v1/whoami", key=other_key).json()
    assert other["project_id"] != me.json()["project_id"]
    v = stack.call("GET", "/v1/auth/verify").json()
    assert v["authenticated"] is True and v["key_type"] == "private"
    assert v["project_id"] == me.json()["project_id"]
    bad = "sk_live_" + "x" * 40
    assert stack.call("GET", "/v1/whoami", key=bad).status == 401
    assert stack.call("GET", "/v1/auth/verify", key=bad).status == 401


def test_health_routes(stack):
    h = stack.call("GET", "/health", key=None)
    assert h.status == 200 and h.json() == {"status": "healthy"}
    assert stack.call("GET", "/v1/health", key=None).json()["status"] == "ok"


@pytest.mark.parametrize("body", [
    {"url": "https://example.com", "nope": 1},
    {"url": ["https://example.com"], "direct_download": True},
])
def test_unknown_key_on_a_post_is_401(stack, body):
    bad = "sk_live_" + "y" * 40
    r = stack.call("POST", PDF, body, key=bad)
    assert r.status == 401, r
    assert r.json()["error"] == "invalid_api_key"


def test_direct_download_with_async_is_400(stack):
    r = stack.call("POST", PDF, {"url": "https://example.com", "async_mode": True,
                                 "direct_download": True})
    assert r.status == 400, r
    assert r.json()["field"] == "direct_download"
