"""The enconvert CLI against this service, unmodified: `url pdf` (sync,
--async, several URLs, --zip), `files download`, `auth status` (whoami),
`health` and a bad key (tests/compat/clients.py has the replay)."""

import io
import zipfile

import pytest

from clients import (ClientError, cli_batch_downloads, cli_files_download, cli_health,
                     cli_url_convert, cli_wait_batch, cli_whoami)
from stack import SlowSite

PDF = "/v1/convert/url-to-pdf"


def test_url_pdf_sync(stack, site):
    kind, env = cli_url_convert(stack.url, stack.key, PDF, {"url": site.url + "/hello.html"})
    assert kind == "sync"
    for member in ("presigned_url", "object_key", "filename", "file_size",
                   "conversion_time_seconds"):
        assert member in env, member
    assert stack.download(env["presigned_url"]).body.startswith(b"%PDF-")


def test_url_pdf_sync_that_outlives_the_request_is_polled(short_wait_stack):
    """A sync render longer than nginx's wait (2 s; a page that answers
    after 4 s) answers 504 to a body with the CLI's job_id, and the CLI
    polls that id to the file's link."""
    s = short_wait_stack
    slow = SlowSite(4)
    try:
        kind, env = cli_url_convert(s.url, s.key, PDF, {"url": slow.url})
    finally:
        slow.close()
    assert kind == "sync"
    assert env["object_key"].startswith("live/files/")
    assert s.download(env["presigned_url"]).body.startswith(b"%PDF-")


def test_url_pdf_async_is_a_batch(stack, site):
    kind, acc = cli_url_convert(stack.url, stack.key, PDF,
                                {"async_mode": True, "url": site.url + "/hello.html"})
    assert kind == "accepted"
    assert acc["batch_id"] and acc["url_count"] == 1
    batch, failed = cli_wait_batch(stack.url, stack.key, acc["batch_id"])
    assert not failed
    assert (batch["batch_id"], batch["status"], batch["completed"], batch["total"],
            batch["failed"], batch["in_progress"]) == (acc["batch_id"], "completed", 1, 1, 0, 0)
    assert batch["output_mode"] == "individual"
    item = batch["items"][0]
    assert item["source_url"] == site.url + "/hello.html"
    assert stack.download(item["download_url"]).body.startswith(b"%PDF-")


def test_several_urls_with_one_failing(stack, site):
    urls = [site.url + "/hello.html", site.url + "/no-such-page.html"]
    kind, acc = cli_url_convert(stack.url, stack.key, PDF, {"url": urls})
    assert kind == "accepted" and acc["url_count"] == 2
    batch, failed = cli_wait_batch(stack.url, stack.key, acc["batch_id"])
    assert not failed and batch["status"] == "partial"
    assert (batch["completed"], batch["failed"], batch["total"]) == (1, 1, 2)
    ok, bad = batch["items"]
    assert ok["download_url"] and ok["output_file_size"] > 0
    assert not bad["download_url"] and bad["status"] == "Failed" and bad["error"]


def test_url_pdf_zip_with_one_failing(stack, site):
    """`enconvert url pdf --zip URL URL`: output_format "zip" before url
    (renderBodyFrom), then the wait and the one ZIP download."""
    urls = [site.url + "/hello.html", site.url + "/no-such-page.html",
            site.url + "/second.html"]
    kind, acc = cli_url_convert(stack.url, stack.key, PDF,
                                {"output_format": "zip", "url": urls})
    assert kind == "accepted" and acc["url_count"] == 3
    batch, failed = cli_wait_batch(stack.url, stack.key, acc["batch_id"])
    assert not failed and batch["status"] == "partial"
    assert batch["output_mode"] == "zip"
    what, link = cli_batch_downloads(batch)
    assert what == "zip" and isinstance(link, str)
    with zipfile.ZipFile(io.BytesIO(stack.download(link).body)) as z:
        names = z.namelist()
        pdfs = [n for n in names if n.endswith(".pdf")]
        assert len(pdfs) == 2 and all(z.read(n).startswith(b"%PDF-") for n in pdfs)
        assert "manifest.json" in names


def test_zip_with_a_single_url_is_refused(stack, site):
    with pytest.raises(ClientError) as e:
        cli_url_convert(stack.url, stack.key, PDF,
                        {"output_format": "zip", "url": site.url + "/hello.html"})
    assert e.value.status == 400 and "output_format" in e.value.message


def test_files_download(stack, site):
    _, env = cli_url_convert(stack.url, stack.key, PDF, {"url": site.url + "/hello.html"})
    data, name = cli_files_download(stack.url, stack.key, env["object_key"])
    assert data.startswith(b"%PDF-")
    assert name == env["object_key"].rsplit("/", 1)[1]


def test_files_download_of_another_account_is_404(stack, site):
    _, env = cli_url_convert(stack.url, stack.key, PDF, {"url": site.url + "/hello.html"})
    other = stack.new_key("compat-other")
    with pytest.raises(ClientError) as e:
        cli_files_download(stack.url, other, env["object_key"])
    assert e.value.status == 404


def test_bad_key_is_401(stack, site):
    bad = "sk_live_" + "q" * 40
    with pytest.raises(ClientError) as e:
        cli_url_convert(stack.url, bad, PDF, {"url": site.url + "/hello.html", "x": 1})
    assert e.value.status == 401
    with pytest.raises(ClientError) as e:
        cli_whoami(stack.url, bad)
    assert e.value.status == 401


def test_auth_status_and_health(stack):
    me = cli_whoami(stack.url, stack.key)
    assert me["project_id"] and me["plan_slug"]
    status, body = cli_health(stack.url)
    assert status == 200 and body["status"] == "healthy"
