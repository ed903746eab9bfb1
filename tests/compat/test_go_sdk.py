"""The Go SDK (enconvert/go-sdk) against this service, unmodified:
ConvertURLToPDF and ConvertURLToScreenshot (sync, with its job_id and its
fallback to polling that id after a 5xx, SaveTo downloads), GetJobStatus,
GetBatchStatus and WaitForBatch (with and without SaveTo), and the
failures: a bad key, a failed render, a batch with one failing URL
(tests/compat/clients.py has the replay). The SDK has no URL-array or
async_mode call: the batches it polls here are created with a plain
request, as another client would."""

import json
import zipfile

import pytest

from clients import (GoAPIError, go_basic_auth, go_convert_url_to_pdf,
                     go_convert_url_to_screenshot, go_cookie, go_get_batch_status,
                     go_get_job_status, go_pdf_options, go_wait_for_batch)
from stack import Response, request

PNG = b"\x89PNG\r\n\x1a\n"
BAD_KEY = "sk_live_" + "g" * 40
# bounds of the tests' own waits: the SDK's intervals, shorter deadlines
POLL_MAX_WAIT = 120
BATCH_TIMEOUT = 120


def lost_answer(base, method, path, body, headers):
    """The POST reaches the service, but the SDK sees a 502 (a proxy in
    between gave up): it then polls GET /v1/convert/status/{its job_id}."""
    request(base, method, path, body, headers)
    return Response(502, {"content-type": "application/json"}, b'{"error":"bad gateway"}')


def assert_result(result, ext):
    assert result["PresignedURL"].startswith("http")
    assert result["ObjectKey"].startswith("live/files/")
    assert result["ObjectKey"].endswith(ext)
    assert result["Filename"].endswith(ext)
    assert result["FileSize"] > 0
    assert result["ConversionTimeSeconds"] is not None and result["ConversionTimeSeconds"] >= 0
    assert result["JobID"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_url_to_pdf_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "out" / "page.pdf"
    result, sent_id = go_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                            save_to=str(dest))
    assert_result(result, ".pdf")
    assert result["JobID"].startswith("job_")
    data = read(dest)
    assert data.startswith(b"%PDF-") and len(data) == result["FileSize"]
    # GetJobStatus with the id the SDK hands out, and with the one it sent
    # (the id its pollJob uses): the clients' vocabulary
    for job_id in (result["JobID"], sent_id):
        status = go_get_job_status(stack.url, stack.key, job_id)
        assert status["Status"] == "success", job_id
        assert status["ObjectKey"] == result["ObjectKey"]
        assert status["PresignedURL"].startswith("http")
        assert status["Error"] == ""
        assert stack.download(status["PresignedURL"]).body.startswith(b"%PDF-")


def test_url_to_screenshot_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "shot.png"
    result, _ = go_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                             save_to=str(dest))
    assert_result(result, ".png")
    assert read(dest).startswith(PNG)
    status = go_get_job_status(stack.url, stack.key, result["JobID"])
    assert (status["Status"], status["ObjectKey"]) == ("success", result["ObjectKey"])


def test_json_escapes_of_go_in_the_url(stack, site):
    """json.Marshal writes & as \\u0026: the URL arrives intact."""
    url = site.url + "/hello.html?a=1&b=2"
    result, _ = go_convert_url_to_pdf(stack.url, stack.key, url)
    assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['JobID']}")
    assert r.status == 200 and r.json()["url"] == url


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    """URLRenderOptions and PDFOptions as the SDK puts them on the wire:
    sorted map keys, structs in field order without empty members."""
    result, _ = go_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=go_pdf_options(page_size="A4", orientation="landscape",
                                   margins={"top": 10, "bottom": 12.5}, scale=1,
                                   grayscale=True, header={"content": "Go SDK", "height": 10},
                                   footer={"content": "page"}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename="go-report",
        auth=go_basic_auth("user", "secret"),
        cookies=[go_cookie("session", "abc", url=site.url + "/"),
                 go_cookie("pref", "1", domain="127.0.0.1", path="/", http_only=True,
                           secure=False, same_site="Lax")],
        headers={"X-Go-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    assert_result(result, ".pdf")
    assert result["Filename"].startswith("go-report")
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    shot, _ = go_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                           viewport_width=800, viewport_height=600,
                                           load_media=False, enable_scroll=False,
                                           output_filename="go-shot")
    assert_result(shot, ".png")
    assert shot["Filename"].startswith("go-shot")


def test_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.pdf"
    result, sent_id = go_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                            post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                            save_to=str(dest))
    assert_result(result, ".pdf")
    assert result["JobID"].startswith("job_")   # from the status answer, not sent_id
    assert sent_id and result["JobID"] != sent_id
    assert read(dest).startswith(b"%PDF-")


def test_screenshot_5xx_falls_back_to_polling_its_job_id(stack, site):
    result, _ = go_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                             post=lost_answer, poll_max_wait=POLL_MAX_WAIT)
    assert_result(result, ".png")
    assert stack.download(result["PresignedURL"]).body.startswith(PNG)


def test_failed_render_after_5xx_is_a_failure_not_a_timeout(stack, site):
    with pytest.raises(GoAPIError) as e:
        go_convert_url_to_pdf(stack.url, stack.key, site.url + "/no-such-page.html",
                              post=lost_answer, poll_max_wait=POLL_MAX_WAIT)
    assert (e.value.status, e.value.kind) == (500, "api")
    # the status answer's `error` sentence, not the SDK's own fallbacks
    assert e.value.message not in ("", "Conversion failed", "Conversion timed out")


def test_failed_render_is_an_api_error(stack, site):
    with pytest.raises(GoAPIError) as e:
        go_convert_url_to_pdf(stack.url, stack.key, site.url + "/no-such-page.html")
    assert (e.value.status, e.value.kind) == (422, "api")
    assert e.value.message and not e.value.message.startswith("{")   # the `detail`
    with pytest.raises(GoAPIError) as e:
        go_convert_url_to_screenshot(stack.url, stack.key, site.url + "/no-such-page.html")
    assert (e.value.status, e.value.kind) == (422, "api")


def test_bad_key_is_an_authentication_error(stack, site):
    for key in (BAD_KEY, "sk_test_short"):
        with pytest.raises(GoAPIError) as e:
            go_convert_url_to_pdf(stack.url, key, site.url + "/hello.html")
        assert (e.value.status, e.value.kind) == (401, "authentication"), key
        assert e.value.message
        with pytest.raises(GoAPIError) as e:
            go_convert_url_to_screenshot(stack.url, key, site.url + "/hello.html")
        assert (e.value.status, e.value.kind) == (401, "authentication"), key
    result, _ = go_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    for call in (go_get_job_status, go_get_batch_status):
        with pytest.raises(GoAPIError) as e:
            call(stack.url, BAD_KEY, result["JobID"])
        assert (e.value.status, e.value.kind) == (401, "authentication")


def test_batch_with_one_failing_url(stack, site, tmp_path):
    ok_url, bad_url = site.url + "/hello.html", site.url + "/no-such-page.html"
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": [ok_url, bad_url]})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    status = go_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT)
    assert status["BatchID"] == batch_id
    assert (status["Status"], status["Total"], status["Completed"], status["Failed"],
            status["InProgress"]) == ("partial", 2, 1, 1, 0)
    assert (status["OutputMode"], status["ZipDownloadURL"]) == ("individual", "")
    ok, bad = status["Items"]
    assert (ok["SourceURL"], ok["Status"]) == (ok_url, "Success")
    assert ok["OutputFileSize"] > 0 and float(ok["Duration"]) >= 0
    assert stack.download(ok["DownloadURL"]).body.startswith(b"%PDF-")
    assert (bad["SourceURL"], bad["Status"], bad["DownloadURL"], bad["OutputFileSize"],
            bad["Duration"]) == (bad_url, "Failed", "", None, "")

    again = go_get_batch_status(stack.url, stack.key, batch_id)
    for s in (again, status):
        for item in s["Items"]:
            item.pop("DownloadURL")          # signed afresh on each call
    assert again == status

    # WaitForBatch with SaveTo on a batch without a ZIP: the SDK's own error
    with pytest.raises(GoAPIError) as e:
        go_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
                          save_to=str(tmp_path / "batch.zip"))
    assert e.value.status == 500 and "no ZIP is available" in e.value.message


def test_wait_for_batch_saves_the_zip(stack, site, tmp_path):
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": urls, "output_format": "zip"})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    dest = tmp_path / "site.zip"
    status = go_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
                               save_to=str(dest))
    assert (status["Status"], status["Total"], status["Completed"]) == ("completed", 2, 2)
    assert status["OutputMode"] == "zip" and status["ZipDownloadURL"].startswith("http")
    with zipfile.ZipFile(dest) as z:
        names = z.namelist()
        assert len(names) == 2
        for name in names:
            assert z.read(name).startswith(b"%PDF-"), name
