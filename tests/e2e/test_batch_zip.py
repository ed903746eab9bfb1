"""output_format: a batch's results also as one ZIP (docs/api.md
"Batch ZIP"), end to end: several URLs, one failing; the batch route links
the ZIP once it is stored; the ZIP holds every successful file with the
bytes of its own download, and manifest.json lists the failure; only its
owner can download it; a ZIP that cannot be stored leaves the files and
says why."""

import io
import json
import os
import time
import urllib.parse
import zipfile

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"


def wait_batch(stack, batch_id, timeout=120):
    """Polls the batch route as the clients do, until it leaves processing;
    returns every answer seen."""
    seen = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = stack.call("GET", f"/v1/convert/batch/{batch_id}")
        assert r.status == 200, r
        seen.append(r.json())
        if seen[-1]["status"] != "processing":
            return seen
        time.sleep(0.3)
    raise AssertionError(f"batch {batch_id} still processing after {timeout}s")


def entries(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        return {i.filename: z.read(i) for i in z.infolist()}


def test_zip_holds_every_successful_file(stack, site):
    urls = [site.url + "/hello.html", site.url + "/no-such-page.html",
            site.url + "/second.html"]
    r = stack.call("POST", PDF, {"url": urls, "output_format": "zip"})
    assert r.status == 202, r
    assert r.json()["output_format"] == "zip", r
    batch_id = r.json()["batch_id"]
    seen = wait_batch(stack, batch_id)
    b = seen[-1]
    # While processing the ZIP is asked for but not there yet.
    for earlier in seen[:-1]:
        assert earlier["output_mode"] == "zip" and earlier["zip_download_url"] is None
    assert (b["status"], b["completed"], b["failed"], b["total"]) == ("partial", 2, 1, 3)
    assert b["output_mode"] == "zip" and b["zip_error"] is None
    assert b["zip_download_url"], b

    z = stack.download(b["zip_download_url"])
    assert z.status == 200, z
    files = entries(z.body)
    ok = [i for i in b["items"] if i["status"] == "Success"]
    assert len(ok) == 2
    for item in ok:
        name = item["object_key"].rsplit("/", 1)[1]
        own = stack.download(item["download_url"])
        assert own.body.startswith(b"%PDF-")
        assert files[name] == own.body, name
    manifest = json.loads(files["manifest.json"])
    assert manifest["batch_id"] == batch_id
    assert [f["source_url"] for f in manifest["failed"]] == [site.url + "/no-such-page.html"]
    assert manifest["failed"][0]["error"]
    assert sorted(files) == sorted([i["object_key"].rsplit("/", 1)[1] for i in ok]
                                   + ["manifest.json"])

    # A fresh link on every answer, each one working.
    again = stack.call("GET", f"/v1/convert/batch/{batch_id}").json()
    assert stack.download(again["zip_download_url"]).body == z.body


def test_zip_of_screenshots_with_true_and_only_for_its_owner(stack, site):
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", SHOT, {"url": urls, "output_format": True})
    assert r.status == 202, r
    batch_id = r.json()["batch_id"]
    b = wait_batch(stack, batch_id)[-1]
    assert b["status"] == "completed" and b["output_mode"] == "zip"
    files = entries(stack.download(b["zip_download_url"]).body)
    # Nothing failed: the files alone, no manifest.
    assert len(files) == 2 and "manifest.json" not in files
    assert all(data.startswith(b"\x89PNG") for data in files.values())

    # The download route with the key (the link's path names the object on
    # the local backend the stack runs): the owner's only.
    key = urllib.parse.urlsplit(b["zip_download_url"]).path.split("/v1/files/", 1)[1]
    assert key.startswith("live/files/") and key.endswith(f"_{batch_id}.zip")
    mine = stack.call("GET", f"/v1/convert/download/{key}",
                      headers={"X-API-Key": stack.key}, key=None)
    assert mine.status == 200 and mine.body.startswith(b"PK\x03\x04")
    assert mine.headers.get("x-filename") == key.rsplit("/", 1)[1]
    other = stack.new_key("zip-other")
    theirs = stack.call("GET", f"/v1/convert/download/{key}",
                        headers={"X-API-Key": other}, key=None)
    assert theirs.status == 404
    # Another account cannot see the batch at all.
    assert stack.call("GET", f"/v1/convert/batch/{batch_id}", key=other).status == 404


def test_without_output_format_no_zip(stack, site):
    r = stack.call("POST", PDF, {"url": [site.url + "/hello.html", site.url + "/second.html"]})
    b = wait_batch(stack, r.json()["batch_id"])[-1]
    assert b["output_mode"] == "individual" and b["zip_download_url"] is None


def test_a_zip_that_cannot_be_stored_leaves_the_files(stack, site):
    """The ZIP's place in the storage is taken (a directory where its file
    would go): storing it fails, the job still ends, every file stays
    downloadable, zip_error says why and output_mode falls back to
    individual (the CLI then fetches the files one by one)."""
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", PDF, {"url": urls, "output_format": "zip"})
    assert r.status == 202, r
    acc = r.json()
    batch_id = acc["batch_id"]
    # The ZIP's key: live/files/<account>/<endpoint>/batch_<created>_<id>.zip
    # (docs/internals.md); the job was created just now, renders take longer.
    created = stack.call("GET", f"/v1/convert/status/{batch_id}").json()["created_at"]
    stamp = created.replace("-", "").replace(":", "")
    account = stack.call("GET", "/v1/whoami").json()["project_id"]
    blocker = os.path.join(stack.home, "storage", "live", "files", account, "url-to-pdf",
                           f"batch_{stamp}_{batch_id}.zip")
    os.makedirs(os.path.join(blocker, "taken"))
    b = wait_batch(stack, batch_id)[-1]
    assert b["status"] == "completed"
    assert b["zip_download_url"] is None
    assert b["output_mode"] == "individual"
    assert "could not be stored" in b["zip_error"], b["zip_error"]
    assert stack.home not in b["zip_error"]
    for item in b["items"]:
        assert stack.download(item["download_url"]).body.startswith(b"%PDF-")
    assert logged(os.path.join(stack.home, "log", "worker-1.log"),
                  msg="batch ZIP failed", job_id=batch_id, level="error")


def logged(path, **fields):
    """A worker log line with all of `fields` (the job was finished after
    the line was written, so no wait). Lines that are not JSON are skipped:
    the log format has its own test (test_observability.py)."""
    with open(path, errors="replace") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if isinstance(e, dict) and all(e.get(k) == v for k, v in fields.items()):
                return True
    return False
