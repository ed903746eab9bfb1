"""Sync, async and batch conversions through nginx, the module, ZeroMQ, the
worker, PostgreSQL and WebKitGTK, then status and presigned downloads."""

import re
import socket

from stack import pdftotext

OBJECT_KEY = re.compile(r"^live/files/[A-Za-z0-9]+/url-to-pdf/[A-Za-z0-9._-]+\.pdf$")


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/nothing-listens-here"


def test_health(stack):
    r = stack.call("GET", "/v1/health", key=None)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["status"] == "ok"
    assert r.json()["database"] == "ok"


def test_sync_pdf_is_stored_and_downloadable(stack, site):
    url = site.url + "/hello.html"
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": url})
    assert r.status == 200, r
    body = r.json()
    assert body["success"] is True
    assert body["status"] == "completed"
    assert body["job_id"].startswith("job_")
    assert len(body["job_id"]) >= len("job_") + 24  # >= 96 random bits in hex
    assert body["url"] == url
    assert OBJECT_KEY.match(body["object_key"]), body["object_key"]
    assert body["filename"].endswith(".pdf")
    assert body["file_size"] > 0
    assert body["conversion_time"] >= 0

    file = stack.download(body["presigned_url"])
    assert file.status == 200, file
    assert file.body.startswith(b"%PDF-")
    assert len(file.body) == body["file_size"]
    assert "Quarterly report alpha" in pdftotext(file.body)


def test_x_api_key_header_is_accepted(stack, site):
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": site.url + "/hello.html", "async_mode": True},
                   key=None, headers={"X-API-Key": stack.key})
    assert r.status == 202, r


def test_async_single_url(stack, site):
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": site.url + "/second.html", "async_mode": True})
    assert r.status == 202, r
    body = r.json()
    assert body["success"] is True
    assert body["status"] == "processing"
    assert body["job_id"].startswith("job_")
    assert body["message"].startswith("Job queued.")
    assert body["job_id"] in body["message"]  # no notification: points at status

    status = stack.wait_terminal(body["job_id"])
    assert status["status"] == "completed"
    assert status["total_tasks"] == 1
    assert status["completed_tasks"] == 1
    assert status["failed_tasks"] == 0
    task = status["tasks"][0]
    assert task["status"] == "success"
    assert OBJECT_KEY.match(task["object_key"])
    assert status["created_at"] and status["completed_at"]
    file = stack.download(task["presigned_url"])
    assert file.status == 200
    assert "Inventory sheet beta" in pdftotext(file.body)


def test_batch_with_one_failing_url(stack, site):
    urls = [site.url + "/hello.html", site.url + "/second.html", closed_port_url()]
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": urls})
    assert r.status == 202, r
    job_id = r.json()["job_id"]
    assert job_id.startswith("batch_")

    status = stack.wait_terminal(job_id)
    assert status["status"] == "completed"
    assert status["total_tasks"] == 3
    assert status["completed_tasks"] == 2
    assert status["failed_tasks"] == 1
    assert [t["url"] for t in status["tasks"]] == urls
    texts = []
    for task in status["tasks"][:2]:
        assert task["status"] == "success"
        file = stack.download(task["presigned_url"])
        assert file.status == 200
        texts.append(pdftotext(file.body))
    assert "Quarterly report alpha" in texts[0]
    assert "Inventory sheet beta" in texts[1]
    failed = status["tasks"][2]
    assert failed["status"] == "failed"
    assert failed["error"]
    assert "presigned_url" not in failed


def test_sync_page_failure_is_422_with_readable_error(stack):
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": closed_port_url()})
    assert r.status == 422, r
    body = r.json()
    assert body["success"] is False
    assert body["error"] == "connection_failed"
    assert body["detail"]
    assert body["job_id"].startswith("job_")
    assert stack.wait_terminal(body["job_id"])["status"] == "failed"


def test_all_failed_batch_is_failed(stack):
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": [closed_port_url(), closed_port_url()]})
    assert r.status == 202, r
    status = stack.wait_terminal(r.json()["job_id"])
    assert status["status"] == "failed"
    assert status["failed_tasks"] == 2


def test_missing_and_unknown_keys_are_401(stack, site):
    body = {"url": site.url + "/hello.html", "async_mode": True}
    r = stack.call("POST", "/v1/convert/url-to-pdf", body, key=None)
    assert r.status == 401, r
    assert r.json()["success"] is False
    unknown = "sk_live_" + "Z" * 40
    r = stack.call("POST", "/v1/convert/url-to-pdf", body, key=unknown)
    assert r.status == 401, r
    assert r.json()["error"] == "invalid_api_key"


def test_other_accounts_job_is_404_like_unknown(stack, site):
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": site.url + "/hello.html", "async_mode": True})
    assert r.status == 202
    job_id = r.json()["job_id"]
    other = stack.new_key("other-account")
    assert other.startswith("sk_live_") and len(other) >= 40
    theirs = stack.call("GET", f"/v1/convert/status/{job_id}", key=other)
    unknown = stack.call("GET", "/v1/convert/status/job_" + "0" * 32, key=other)
    assert theirs.status == 404, theirs
    assert unknown.status == 404
    assert theirs.json() == unknown.json()
    assert stack.call("GET", f"/v1/convert/status/{job_id}").status == 200


def test_tampered_or_expired_download_is_refused(stack, site):
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    url = r.json()["presigned_url"]
    sig = re.search(r"signature=([0-9a-f]+)", url).group(1)
    flipped = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert stack.download(url.replace(sig, flipped)).status == 403
    expired = re.sub(r"expires=\d+", "expires=1000000000", url)
    assert stack.download(expired).status == 403
