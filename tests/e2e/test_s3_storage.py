"""The S3 storage backend end to end: a stack started the way `make run`
starts one with the ENCONVERT_S3_* variables, s3rver on loopback behind a
proxy that checks every signature (tests/e2e/s3.py). Results are uploaded
(PUT, and multipart above the lowered threshold), links in every answer go
straight to the store, nothing lands in the local storage, and uploads that
cannot succeed fail their task with storage_error."""

import email
import email.policy
import io
import os
import re
import signal
import time
import urllib.parse
import zipfile

import pytest
from conftest import make_home, running
from s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3rver, SigV4Proxy
from stack import (SlowSite, Stack, log_entries, pdftotext, png_size, psql, request,
                   submit_and_wait_rendering, worker_pid)

BUCKET = "enconvert-test"


def s3_env(endpoint, bucket=BUCKET, extra=""):
    return {
        "ENCONVERT_S3_ENDPOINT": endpoint,
        "ENCONVERT_S3_BUCKET": bucket,
        "ENCONVERT_S3_REGION": REGION,
        "ENCONVERT_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "ENCONVERT_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        # Multipart from 1 MiB, in 1 MiB parts: a noise screenshot (~1.4 MB)
        # goes up in two parts. (AWS itself wants parts of at least 5 MiB.)
        "ENCONVERT_WORKER_EXTRA": "s3_multipart_threshold_mb = 1\ns3_part_size_mb = 1\n" + extra,
    }


@pytest.fixture(scope="module")
def store():
    s = S3rver([BUCKET])
    yield s
    s.close()


@pytest.fixture(scope="module")
def proxy(store):
    p = SigV4Proxy(store.port)
    yield p
    p.close()


@pytest.fixture(scope="module")
def s3stack(proxy):
    yield from running(Stack(make_home("enc-s3-"), extra_env=s3_env(proxy.endpoint)))


def object_url_prefix(proxy):
    return f"{proxy.endpoint}/{BUCKET}/"


def get(url):
    u = urllib.parse.urlsplit(url)
    return request(f"{u.scheme}://{u.netloc}", "GET", u.path + "?" + u.query)


def check_link(proxy, link, key):
    """A presigned GET URL of `key` in the store, valid for presign_ttl."""
    assert link.startswith(object_url_prefix(proxy) + key + "?"), link
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link).query))
    assert q["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert q["X-Amz-Expires"] == "3600"
    assert q["X-Amz-SignedHeaders"] == "host"
    assert q["X-Amz-Credential"].startswith(f"{ACCESS_KEY_ID}/")
    assert q["X-Amz-Credential"].endswith(f"/{REGION}/s3/aws4_request")
    assert re.fullmatch(r"[0-9a-f]{64}", q["X-Amz-Signature"])


def finished_zip_batch(stack, batch_id, timeout=120):
    """The batch route's answer once the batch is done, checked complete
    with its ZIP."""
    deadline = time.time() + timeout
    while True:
        b = stack.call("GET", f"/v1/convert/batch/{batch_id}").json()
        if b["status"] != "processing" or time.time() > deadline:
            break
        time.sleep(0.3)
    assert b["status"] == "completed" and b["output_mode"] == "zip", b
    return b


def local_files(stack):
    """Files in the stack's local storage, renders in progress included."""
    out = []
    for d, _, files in os.walk(os.path.join(stack.home, "storage")):
        out += [os.path.join(d, f) for f in files]
    return out


def worker_log(stack):
    return log_entries(os.path.join(stack.home, "log", "worker-1.log"))


def test_sync_pdf_is_uploaded_and_downloaded_from_the_store(s3stack, proxy, store, site):
    r = s3stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    body = r.json()
    key = body["object_key"]
    check_link(proxy, body["presigned_url"], key)
    assert key in store.keys(BUCKET)

    # Straight from the store (through the signature check), not from nginx.
    file = get(body["presigned_url"])
    assert file.status == 200, file
    assert file.headers["content-type"] == "application/pdf"
    assert file.body.startswith(b"%PDF-")
    assert len(file.body) == body["file_size"]
    assert "Quarterly report alpha" in pdftotext(file.body)
    status, _, stored = store.get(f"/{BUCKET}/{key}")
    assert status == 200 and stored == file.body

    # The upload was one signed PUT carrying the payload's hash.
    puts = [p for m, p, v in proxy.seen() if m == "PUT" and p == f"/{BUCKET}/{key}"]
    assert puts, proxy.seen()
    assert local_files(s3stack) == []
    assert proxy.refused() == []


def test_async_batch_status_and_email_links_point_at_the_store(s3stack, proxy, store, site):
    r = s3stack.call("POST", "/v1/convert/url-to-pdf",
                     {"url": [site.url + "/hello.html", site.url + "/second.html"],
                      "notification_email": "team@example.com"})
    assert r.status == 202, r
    job_id = r.json()["job_id"]
    status = s3stack.wait_terminal(job_id)
    assert status["status"] == "completed", status
    assert [t["status"] for t in status["tasks"]] == ["success", "success"]
    for t in status["tasks"]:
        check_link(proxy, t["presigned_url"], t["object_key"])
        file = get(t["presigned_url"])
        assert file.status == 200 and file.body.startswith(b"%PDF-"), file
        assert len(file.body) == t["file_size"]
        assert t["object_key"] in store.keys(BUCKET)

    # Each answer signs anew (X-Amz-Date is the moment of the answer).
    time.sleep(1.1)
    again = s3stack.call("GET", f"/v1/convert/status/{job_id}").json()
    first = status["tasks"][0]["presigned_url"]
    assert again["tasks"][0]["presigned_url"] != first
    check_link(proxy, again["tasks"][0]["presigned_url"], status["tasks"][0]["object_key"])

    # The notification email (a .eml file without a relay) links to the store too.
    path = os.path.join(s3stack.home, "mail", f"{job_id}.eml")
    deadline = time.time() + 30
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.2)
    with open(path) as f:
        msg = email.message_from_string(f.read(), policy=email.policy.default)
    links = re.findall(r"Download: (\S+)", msg.get_body(("plain",)).get_content())
    assert len(links) == 2
    for link, t in zip(links, status["tasks"]):
        check_link(proxy, link, t["object_key"])
        assert get(link).status == 200
    assert local_files(s3stack) == []
    assert proxy.refused() == []


def test_batch_zip_is_made_from_the_store_and_stored_there(s3stack, proxy, store, site):
    """output_format: the archiver reads the results back from the store
    (signed GETs), uploads the ZIP, and the batch route links it there."""
    r = s3stack.call("POST", "/v1/convert/url-to-pdf",
                     {"url": [site.url + "/hello.html", site.url + "/second.html"],
                      "output_format": "zip"})
    assert r.status == 202, r
    batch_id = r.json()["batch_id"]
    b = finished_zip_batch(s3stack, batch_id)
    link = b["zip_download_url"]
    key = urllib.parse.unquote(urllib.parse.urlsplit(link).path).split(f"/{BUCKET}/", 1)[1]
    assert key.endswith(f"_{batch_id}.zip") and key in store.keys(BUCKET)
    check_link(proxy, link, key)
    z = get(link)
    assert z.status == 200 and z.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.body)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    assert sorted(files) == sorted(i["object_key"].rsplit("/", 1)[1] for i in b["items"])
    # Before this test fetches them itself: only the archiver read them.
    read = {p for m, p, _ in proxy.seen() if m == "GET"}
    for item in b["items"]:
        assert f"/{BUCKET}/{item['object_key']}" in read, "not read back from the store"
    for item in b["items"]:
        assert files[item["object_key"].rsplit("/", 1)[1]] == get(item["download_url"]).body
    assert local_files(s3stack) == []
    assert proxy.refused() == []


def test_a_batch_zip_holds_results_larger_than_a_mib_whole(s3stack, proxy, store, site):
    """The archiver read each object into memory, cut at 1 MiB: a ZIP of
    full-size screenshots held their first MiB each, and passed as done."""
    r = s3stack.call("POST", "/v1/convert/url-to-screenshot",
                     {"url": [site.url + "/noise.html", site.url + "/noise.html?2"],
                      "viewport_width": 800, "viewport_height": 600, "full_page": False,
                      "output_format": "zip"})
    assert r.status == 202, r
    b = finished_zip_batch(s3stack, r.json()["batch_id"])
    z = get(b["zip_download_url"])
    assert z.status == 200
    with zipfile.ZipFile(io.BytesIO(z.body)) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    assert len(files) == 2
    for item in b["items"]:
        stored = get(item["download_url"]).body
        assert len(stored) > 1 << 20
        assert files[item["object_key"].rsplit("/", 1)[1]] == stored
    assert local_files(s3stack) == []


def test_direct_download_redirects_to_the_store(s3stack, proxy, site):
    r = s3stack.call("POST", "/v1/convert/url-to-pdf",
                     {"url": site.url + "/second.html", "direct_download": True,
                      "output_filename": "report"})
    assert r.status == 302, r
    location = r.headers["location"]
    assert location.startswith(object_url_prefix(proxy)), location
    assert r.headers["x-object-key"] in location
    assert r.json()["presigned_url"] == location
    file = get(location)
    assert file.status == 200, file
    assert file.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    # private and expiring, as the local storage's answers (docs/api.md)
    assert file.headers["cache-control"] == "no-store"
    assert file.body.startswith(b"%PDF-")
    assert int(r.headers["x-file-size"]) == len(file.body)
    assert proxy.refused() == []


def test_download_route_redirects_to_the_store_for_the_owner_only(s3stack, proxy, site):
    """GET /v1/convert/download/{object_key} (the CLI's `files download`)
    with the S3 backend: 302 to a presigned link of the store that saves
    the file under its name; another account's key gets 404, no key 401."""
    r = s3stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    key = r.json()["object_key"]
    d = s3stack.call("GET", f"/v1/convert/download/{key}")
    assert d.status == 302, d
    location = d.headers["location"]
    assert location.startswith(object_url_prefix(proxy)), location
    filename = key.rsplit("/", 1)[1]
    assert d.headers["x-filename"] == filename
    assert d.json()["download_url"] == location
    file = get(location)
    assert file.status == 200, file
    assert file.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert file.body.startswith(b"%PDF-")
    assert len(file.body) == r.json()["file_size"]
    other = s3stack.new_key("other")
    assert s3stack.call("GET", f"/v1/convert/download/{key}", key=other).status == 404
    assert s3stack.call("GET", f"/v1/convert/download/{key}", key=None).status == 401
    assert proxy.refused() == []


def test_a_tampered_link_is_refused(s3stack, proxy, site):
    """The signature check is real: the store refuses a changed link."""
    r = s3stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    link = r.json()["presigned_url"]
    sig = link[-64:]
    forged = link[:-64] + ("0" if sig[0] != "0" else "1") + sig[1:]
    assert get(forged).status == 403
    other_key = link.replace("/live/files/", "/live/filez/", 1)
    assert get(other_key).status == 403
    refused = proxy.refused()
    assert len(refused) == 2 and all(v == "signature does not match" for _, _, v in refused)
    proxy.requests.clear()


def test_large_result_goes_up_in_parts(s3stack, proxy, store, site):
    r = s3stack.call("POST", "/v1/convert/url-to-screenshot",
                     {"url": site.url + "/noise.html", "viewport_width": 800,
                      "viewport_height": 600, "full_page": False})
    assert r.status == 200, r
    body = r.json()
    key = body["object_key"]
    assert body["file_size"] > 1 << 20  # over the 1 MiB threshold
    file = get(body["presigned_url"])
    assert file.status == 200, file
    assert file.headers["content-type"] == "image/png"
    assert file.headers["cache-control"] == "no-store"  # set when the upload began
    assert png_size(file.body) == (800, 600)
    assert len(file.body) == body["file_size"]
    status, _, stored = store.get(f"/{BUCKET}/{key}")
    assert status == 200 and stored == file.body

    path = f"/{BUCKET}/{key}"
    seen = [(m, p) for m, p, _ in proxy.seen() if p.startswith(path + "?")]
    assert ("POST", path + "?uploads=") in seen, seen
    parts = [p for m, p in seen if m == "PUT" and "partNumber=" in p]
    assert [p.split("partNumber=")[1].split("&")[0] for p in parts] == ["1", "2"]
    assert any(m == "POST" and "uploadId=" in p for m, p in seen)
    done = [e for e in worker_log(s3stack) if e.get("msg") == "multipart upload complete"
            and e.get("object_key") == key]
    assert done and done[0]["parts"] == 2
    assert local_files(s3stack) == []
    assert proxy.refused() == []


def test_a_failed_multipart_upload_is_aborted_though_the_first_abort_is_refused(
        s3stack, proxy, site):
    """An upload in parts that fails is aborted, or the parts already
    stored stay (and are billed). The abort was tried once: a store
    answering it 503 once kept them. Now it is retried like every other
    request."""
    aborts = []

    def intercept(method, path):
        if method == "PUT" and "partNumber=2" in path:
            return 400, "InvalidArgument"  # not worth retrying: the upload fails
        if method == "DELETE" and "uploadId=" in path:
            aborts.append(path)
            # s3rver does not know AbortMultipartUpload (405): S3's answer.
            return (503, "SlowDown") if len(aborts) == 1 else (204, None)
        return None

    proxy.intercept = intercept
    try:
        r = s3stack.call("POST", "/v1/convert/url-to-screenshot",
                         {"url": site.url + "/noise.html", "viewport_width": 800,
                          "viewport_height": 600, "full_page": False})
    finally:
        proxy.intercept = None
    assert r.status == 422, r
    assert r.json()["error"] == "storage_error", r.json()
    assert len(aborts) == 2 and aborts[0] == aborts[1], aborts
    assert not [e for e in worker_log(s3stack)
                if e.get("msg") == "aborting a multipart upload failed"]


def test_store_outage_fails_the_task_after_the_retries(s3stack, store, site):
    store.stop()
    try:
        r = s3stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    finally:
        store.start()
    assert r.status == 422, r
    err = r.json()
    assert err["error"] == "storage_error"
    assert err["detail"] == (
        "The rendered file could not be stored: the object store answered HTTP 503 "
        "ServiceUnavailable (Please reduce your request rate); gave up after 3 attempts.")
    status = s3stack.call("GET", f"/v1/convert/status/{err['job_id']}").json()
    assert status["status"] == "failed"
    assert status["tasks"][0]["status"] == "failed"
    assert "presigned_url" not in status["tasks"][0]

    log = worker_log(s3stack)
    retries = [e for e in log if e.get("msg") == "storage request failed; retrying"]
    assert len(retries) >= 2
    assert [e["attempt"] for e in retries[-2:]] == [1, 2]
    assert local_files(s3stack) == []
    # The store is back: the next job is stored as usual.
    r = s3stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r


def test_credentials_are_never_written_or_logged(s3stack):
    for name in os.listdir(s3stack.home):
        path = os.path.join(s3stack.home, name)
        if name.startswith("worker-") and name.endswith(".conf"):
            with open(path) as f:
                conf = f.read()
            assert "storage_backend = s3" in conf
            assert SECRET_ACCESS_KEY not in conf
    logdir = os.path.join(s3stack.home, "log")
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name), errors="replace") as f:
            assert SECRET_ACCESS_KEY not in f.read(), name


def test_a_missing_bucket_fails_at_once(proxy, site):
    """An answer that cannot change (NoSuchBucket) is not retried."""
    s = Stack(make_home("enc-s3b-"), extra_env=s3_env(proxy.endpoint, "no-such-bucket"))
    try:
        s.start()
        r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
        assert r.status == 422, r
        assert r.json()["error"] == "storage_error"
        assert r.json()["detail"] == (
            "The rendered file could not be stored: the object store answered HTTP 404 "
            "NoSuchBucket (The specified bucket does not exist); gave up after 1 attempt.")
        assert not [e for e in worker_log(s) if e.get("msg") == "storage request failed; retrying"]
        assert local_files(s) == []
    finally:
        s.stop()


@pytest.fixture
def retention_s3stack(proxy):
    extra = "retention_seconds = 4\npresign_ttl = 4\njanitor_interval_seconds = 1\n"
    yield from running(Stack(make_home("enc-s3r-"),
                             extra_env=s3_env(proxy.endpoint, extra=extra)))


def converted_until_expired(stack, store, site):
    """A sync PDF's job id and object key, once its status answers 410."""
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    job_id, key = r.json()["job_id"], r.json()["object_key"]
    assert key in store.keys(BUCKET)
    deadline = time.time() + 30
    while time.time() < deadline:
        st = stack.call("GET", f"/v1/convert/status/{job_id}")
        if st.status == 410:
            break
        time.sleep(0.3)
    assert st.status == 410, st
    return job_id, key


def test_expired_jobs_objects_are_deleted_from_the_store(retention_s3stack, proxy, store, site):
    """Retention with the S3 backend: the janitor deletes the object (a
    signed DELETE), then the rows; the status answers 410 expired."""
    _, key = converted_until_expired(retention_s3stack, store, site)
    assert key not in store.keys(BUCKET)
    assert ("DELETE", f"/{BUCKET}/{key}") in {(m, p) for m, p, _ in proxy.seen()}


def test_a_delete_the_store_refuses_once_is_retried_in_the_same_pass(
        retention_s3stack, proxy, store, site):
    """A DELETE is retried like every request: one 503 used to keep the job
    a whole janitor interval longer, logged as a file that could not be
    deleted."""
    deletes = []

    def intercept(method, path):
        if method == "DELETE" and "uploadId=" not in path:
            deletes.append(path)
            if len(deletes) == 1:
                return 503, "SlowDown"
        return None

    proxy.intercept = intercept
    try:
        _, key = converted_until_expired(retention_s3stack, store, site)
    finally:
        proxy.intercept = None
    assert deletes == [f"/{BUCKET}/{key}"] * 2, deletes
    assert key not in store.keys(BUCKET)
    log = worker_log(retention_s3stack)
    assert not [e for e in log if e.get("msg", "").startswith("a file of an expired job")]
    retries = [e for e in log if e.get("msg") == "storage request failed; retrying"]
    assert [(e["request"], e["object_key"]) for e in retries] == [("DeleteObject", key)], retries


@pytest.fixture
def short_lease_s3stack(proxy):
    yield from running(Stack(make_home("enc-s3-lease-"),
                             extra_env=s3_env(proxy.endpoint, extra="lease_seconds = 3\n")))


def test_a_stopping_worker_keeps_its_leases_while_an_upload_finishes(short_lease_s3stack, proxy,
                                                                     site):
    """A worker told to stop lets the upload under way finish (and records
    it) before it hands the rest back. It used to renew no lease while it
    waited: with a stalled store, the uploading task's lease and those of
    the tasks still rendering lapsed, and another worker could take them
    and render them again. Now they are renewed while it waits."""
    s = short_lease_s3stack
    slow = SlowSite(30)
    try:
        rendering = submit_and_wait_rendering(s, slow.url)
        proxy.put_delay = 8  # more than two 3 s leases
        r = s.call("POST", "/v1/convert/url-to-pdf",
                   {"url": site.url + "/hello.html", "async_mode": True})
        assert r.status == 202, r
        uploading = r.json()["job_id"]
        task_id = psql(s.home, f"SELECT id FROM tasks WHERE job_id = '{uploading}'")
        suffix = f"_{task_id}.pdf"

        def its_put():
            return [q for q in proxy.seen() if q[0] == "PUT" and q[1].endswith(suffix)]
        deadline = time.time() + 30
        while time.time() < deadline and not its_put():
            time.sleep(0.05)
        assert its_put(), s.logs()
        pid = worker_pid(s)
        os.kill(pid, signal.SIGTERM)
        lapsed = []
        deadline = time.time() + 60
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            lapsed += psql(s.home, "SELECT string_agg(job_id::text, ',') FROM tasks "
                                   "WHERE status = 'processing' AND lease_expires_at <= now()"
                           ).split(",")
            lapsed = [j for j in lapsed if j]
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{pid}"), s.logs()
        assert lapsed == [], s.logs()
        # The upload finished and was recorded; the render was handed back.
        assert psql(s.home, "SELECT status || ',' || attempts FROM tasks"
                            f" WHERE job_id = '{uploading}'") == "success,1", s.logs()
        assert psql(s.home, "SELECT status || ',' || attempts FROM tasks"
                            f" WHERE job_id = '{rendering}'") == "pending,0", s.logs()
    finally:
        proxy.put_delay = 0
        slow.close()
