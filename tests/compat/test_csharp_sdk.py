"""The C# SDK (enconvert/csharp-sdk) against this service, unmodified:
ConvertUrlToPdfAsync and ConvertUrlToScreenshotAsync (sync, with its job_id
and its fallback to polling that id after a 5xx, SaveTo downloads),
GetJobStatusAsync, GetBatchStatusAsync and WaitForBatchAsync (with and
without SaveTo), and the failures: a bad key, a failed render, a batch with
one failing URL, an unknown job (tests/compat/clients_csharp.py has the
replay). The SDK has no URL-array or async_mode call: the batches it polls
here are created with a plain request, as another client would."""

import json
import threading
import time
import zipfile

import pytest

from clients_csharp import (CS_JSON_CONTENT_TYPE, CS_UA, Answer, CSharpApiError,
                            cs_basic_auth, cs_convert_url_to_pdf,
                            cs_convert_url_to_screenshot, cs_cookie, cs_get_batch_status,
                            cs_get_job_status, cs_pdf_options, cs_wait_for_batch, send)
from stack import SlowSite, pdftotext

PNG = b"\x89PNG\r\n\x1a\n"
BAD_KEY = "sk_live_" + "g" * 40
# bounds of the tests' own waits: the SDK's intervals, shorter deadlines
POLL_MAX_WAIT = 120
BATCH_TIMEOUT = 120


def bad_gateway():
    return Answer(502, "Bad Gateway", {"content-type": "application/json"},
                  b'{"error":"bad gateway"}')


def lost_answer(base, method, path, body, headers):
    """The POST reaches the service, but the SDK sees a 502 (a proxy in
    between gave up): it then polls GET /v1/convert/status/{its job_id}."""
    send(base, method, path, body, headers)
    return bad_gateway()


class Recorder:
    """Sends the POST unchanged and keeps what went on the wire."""

    def __init__(self):
        self.sent = []

    def __call__(self, base, method, path, body, headers):
        self.sent.append((method, path, body, dict(headers)))
        return send(base, method, path, body, headers)


def assert_result(result, ext):
    assert isinstance(result["PresignedUrl"], str) and result["PresignedUrl"].startswith("http")
    assert result["ObjectKey"].startswith("live/files/") and result["ObjectKey"].endswith(ext)
    assert result["Filename"].endswith(ext)
    assert isinstance(result["FileSize"], int) and result["FileSize"] > 0
    assert isinstance(result["ConversionTimeSeconds"], float)
    assert result["ConversionTimeSeconds"] >= 0
    assert isinstance(result["JobId"], str) and result["JobId"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_url_to_pdf_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "out" / "page.pdf"
    rec = Recorder()
    result, sent_id = cs_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                            save_to=str(dest), post=rec)
    # the request as the SDK sends it: its headers, job_id last
    (method, path, body, headers), = rec.sent
    assert (method, path) == ("POST", "/v1/convert/url-to-pdf")
    assert headers == {"User-Agent": CS_UA, "X-API-Key": stack.key,
                       "Content-Type": CS_JSON_CONTENT_TYPE}
    assert list(json.loads(body)) == ["url", "direct_download", "viewport_width",
                                      "viewport_height", "load_media", "enable_scroll",
                                      "single_page", "job_id"]
    assert len(sent_id) == 32 and json.loads(body)["job_id"] == sent_id

    assert_result(result, ".pdf")
    assert result["JobId"].startswith("job_")
    data = read(dest)
    assert data.startswith(b"%PDF-") and len(data) == result["FileSize"]
    # GetJobStatusAsync with the id the SDK hands out and with the one it
    # sent (the id PollJobAsync uses): the clients' vocabulary
    for job_id in (result["JobId"], sent_id):
        status = cs_get_job_status(stack.url, stack.key, job_id)
        assert status["Status"] == "success", job_id
        assert status["ObjectKey"] == result["ObjectKey"]
        assert status["PresignedUrl"].startswith("http")
        assert status["Error"] is None
        assert stack.download(status["PresignedUrl"]).body.startswith(b"%PDF-")


def test_url_to_screenshot_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "shot.png"
    result, sent_id = cs_convert_url_to_screenshot(stack.url, stack.key,
                                                   site.url + "/hello.html", save_to=str(dest))
    assert_result(result, ".png")
    data = read(dest)
    assert data.startswith(PNG) and len(data) == result["FileSize"]
    for job_id in (result["JobId"], sent_id):
        status = cs_get_job_status(stack.url, stack.key, job_id)
        assert (status["Status"], status["ObjectKey"]) == ("success", result["ObjectKey"])


def test_json_escapes_of_system_text_json(stack, site):
    """The default JavaScriptEncoder writes & + ' as \\u0026 \\u002B \\u0027,
    < > as \\u003C \\u003E and non-ASCII as \\uXXXX: the values arrive intact."""
    url = site.url + "/hello.html?a=1&b=2+3&c='x'"
    rec = Recorder()
    result, _ = cs_convert_url_to_pdf(
        stack.url, stack.key, url, post=rec,
        pdf_options=cs_pdf_options(header={"content": "<b>Caf\u00e9</b> &amp; 'C#' +1"}))
    body = rec.sent[0][2].decode("ascii")
    for esc in ("\\u0026", "\\u002B", "\\u0027", "\\u003C", "\\u003E", "\\u00E9"):
        assert esc in body, esc
    assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['JobId']}")
    assert r.status == 200 and r.json()["url"] == url
    text = " ".join(pdftotext(stack.download(result["PresignedUrl"]).body).split())
    assert "Caf\u00e9 & 'C#' +1" in text


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    """UrlToPdfOptions and PdfOptions as the SDK puts them on the wire:
    insertion order, doubles for the PDF sizes, unset members left out."""
    result, _ = cs_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=cs_pdf_options(page_size="A4", orientation="landscape",
                                   margins={"top": 10, "bottom": 12.5}, scale=1,
                                   grayscale=True,
                                   header={"content": "C# SDK", "height": 10},
                                   footer={"content": "page"}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename="cs-report",
        auth=cs_basic_auth("user", "secret"),
        cookies=[cs_cookie("session", "abc", url=site.url + "/"),
                 cs_cookie("pref", "1", domain="127.0.0.1", path="/", expires=1893456000,
                           http_only=True, secure=False, same_site="Lax")],
        headers={"X-CSharp-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    assert_result(result, ".pdf")
    assert result["Filename"] == "cs-report.pdf"
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    shot, _ = cs_convert_url_to_screenshot(
        stack.url, stack.key, site.url + "/hello.html", viewport_width=800,
        viewport_height=600, load_media=False, enable_scroll=False,
        output_filename="cs-shot", save_to=str(tmp_path / "shot.png"))
    assert_result(shot, ".png")
    assert shot["Filename"] == "cs-shot.png"
    assert read(tmp_path / "shot.png").startswith(PNG)


def test_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.pdf"
    result, sent_id = cs_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                            post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                            save_to=str(dest))
    assert_result(result, ".pdf")
    assert result["JobId"].startswith("job_")   # from the status answer, not sent_id
    assert result["JobId"] != sent_id
    assert read(dest).startswith(b"%PDF-")


def test_screenshot_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.png"
    result, _ = cs_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                             post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                             save_to=str(dest))
    assert_result(result, ".png")
    assert read(dest).startswith(PNG)


def test_failed_render_after_5xx_is_a_failure_not_a_timeout(stack, site):
    for convert in (cs_convert_url_to_pdf, cs_convert_url_to_screenshot):
        with pytest.raises(CSharpApiError) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html",
                    post=lost_answer, poll_max_wait=POLL_MAX_WAIT)
        assert (e.value.status, e.value.kind) == (500, "api")
        # the status answer's `error` sentence, not the SDK's own fallbacks
        assert e.value.message not in ("", "Conversion failed", "Conversion timed out")


def test_failed_render_is_an_api_error(stack, site):
    for convert in (cs_convert_url_to_pdf, cs_convert_url_to_screenshot):
        with pytest.raises(CSharpApiError) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html")
        assert (e.value.status, e.value.kind) == (422, "api")
        assert e.value.message and not e.value.message.startswith("{")   # the `detail`


def test_unknown_job_is_an_api_error(stack):
    with pytest.raises(CSharpApiError) as e:
        cs_get_job_status(stack.url, stack.key, "0" * 32)
    assert (e.value.status, e.value.kind) == (404, "api")
    assert e.value.message and not e.value.message.startswith("{")


def test_bad_key_is_an_authentication_error(stack, site):
    for key in (BAD_KEY, "sk_test_short"):
        for convert in (cs_convert_url_to_pdf, cs_convert_url_to_screenshot):
            with pytest.raises(CSharpApiError) as e:
                convert(stack.url, key, site.url + "/hello.html")
            assert (e.value.status, e.value.kind) == (401, "authentication"), key
            assert e.value.message and not e.value.message.startswith("{")
    result, _ = cs_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    for call in (cs_get_job_status, cs_get_batch_status):
        with pytest.raises(CSharpApiError) as e:
            call(stack.url, BAD_KEY, result["JobId"])
        assert (e.value.status, e.value.kind) == (401, "authentication")


def test_batch_with_one_failing_url(stack, site, tmp_path):
    ok_url, bad_url = site.url + "/hello.html", site.url + "/no-such-page.html"
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": [ok_url, bad_url]})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    status = cs_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT)
    assert status["BatchId"] == batch_id
    assert (status["Status"], status["Total"], status["Completed"], status["Failed"],
            status["InProgress"]) == ("partial", 2, 1, 1, 0)
    assert (status["OutputMode"], status["ZipDownloadUrl"]) == ("individual", None)
    ok, bad = status["Items"]
    assert (ok["SourceUrl"], ok["Status"]) == (ok_url, "Success")
    assert isinstance(ok["OutputFileSize"], int) and ok["OutputFileSize"] > 0
    assert float(ok["Duration"]) >= 0
    assert stack.download(ok["DownloadUrl"]).body.startswith(b"%PDF-")
    assert (bad["SourceUrl"], bad["Status"], bad["DownloadUrl"], bad["OutputFileSize"],
            bad["Duration"]) == (bad_url, "Failed", None, None, None)

    again = cs_get_batch_status(stack.url, stack.key, batch_id)
    for s in (again, status):
        for item in s["Items"]:
            item.pop("DownloadUrl")          # signed afresh on each call
    assert again == status

    # WaitForBatchAsync with SaveTo on a batch without a ZIP: the SDK's own error
    with pytest.raises(CSharpApiError) as e:
        cs_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
                          save_to=str(tmp_path / "batch.zip"))
    assert e.value.status == 500 and "no ZIP is available" in e.value.message


def test_wait_for_batch_saves_the_zip(stack, site, tmp_path):
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": urls, "output_format": "zip"})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    dest = tmp_path / "site.zip"
    status = cs_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
                               save_to=str(dest))
    assert (status["Status"], status["Total"], status["Completed"], status["Failed"],
            status["InProgress"]) == ("completed", 2, 2, 0, 0)
    assert status["OutputMode"] == "zip" and status["ZipDownloadUrl"].startswith("http")
    assert [i["SourceUrl"] for i in status["Items"]] == urls
    with zipfile.ZipFile(dest) as z:
        names = z.namelist()
        assert len(names) == 2
        for name in names:
            assert z.read(name).startswith(b"%PDF-"), name


def test_invalid_option_is_an_api_error(stack, site):
    """A value out of range (viewport_width 100 < 320): 400, the SDK's
    plain API error with our sentence, which names the field."""
    for convert in (cs_convert_url_to_pdf, cs_convert_url_to_screenshot):
        with pytest.raises(CSharpApiError) as e:
            convert(stack.url, stack.key, site.url + "/hello.html", viewport_width=100)
        assert (e.value.status, e.value.kind) == (400, "api")
        assert "viewport_width" in e.value.message and not e.value.message.startswith("{")


def test_5xx_while_the_render_runs(stack, tmp_path):
    """The proxy gives up at once, while the render still runs (a page that
    answers after 4 s): the POST goes on, the SDK polls its job_id through
    404 or "processing" answers until "success"."""
    slow = SlowSite(4)
    posts = []

    def early_lost_answer(base, method, path, body, headers):
        t = threading.Thread(target=send, args=(base, method, path, body, headers),
                             daemon=True)
        t.start()
        posts.append(t)
        return bad_gateway()

    try:
        result, sent_id = cs_convert_url_to_pdf(stack.url, stack.key, slow.url,
                                               post=early_lost_answer,
                                               poll_max_wait=POLL_MAX_WAIT,
                                               save_to=str(tmp_path / "slow.pdf"))
        assert_result(result, ".pdf")
        assert read(tmp_path / "slow.pdf").startswith(b"%PDF-")
    finally:
        for t in posts:
            t.join(timeout=POLL_MAX_WAIT)
        slow.close()


def test_job_status_while_the_render_runs(stack):
    """getJobStatus on the SDK's own job_id while its sync POST still runs:
    404 until the job exists, then a status the SDK's model knows."""
    slow = SlowSite(4)
    sent = []
    outcome = {}

    def record(base, method, path, body, headers):
        sent.append(json.loads(body)["job_id"])
        return send(base, method, path, body, headers)

    def convert():
        try:
            outcome["result"] = cs_convert_url_to_pdf(stack.url, stack.key, slow.url,
                                                      post=record)[0]
        except Exception as exc:   # reported below
            outcome["error"] = exc

    worker = threading.Thread(target=convert, daemon=True)
    worker.start()
    seen = []
    try:
        deadline = time.time() + POLL_MAX_WAIT
        while time.time() < deadline and worker.is_alive():
            if sent:
                try:
                    seen.append(cs_get_job_status(stack.url, stack.key, sent[0])["Status"])
                except CSharpApiError as exc:
                    assert exc.status == 404, exc
            time.sleep(0.2)
        worker.join(timeout=POLL_MAX_WAIT)
    finally:
        slow.close()
    assert "error" not in outcome, outcome.get("error")
    assert_result(outcome["result"], ".pdf")
    assert set(seen) <= {"processing", "success"}, seen
    final = cs_get_job_status(stack.url, stack.key, sent[0])
    assert (final["Status"], final["PresignedUrl"].startswith("http")) == ("success", True)


def test_failed_render_in_job_status(stack, site):
    """After the 422, getJobStatus on the job_id the SDK sent: "failed"
    with our sentence, no file."""
    rec = Recorder()
    with pytest.raises(CSharpApiError):
        cs_convert_url_to_pdf(stack.url, stack.key, site.url + "/no-such-page.html", post=rec)
    sent_id = json.loads(rec.sent[0][2])["job_id"]
    status = cs_get_job_status(stack.url, stack.key, sent_id)
    assert (status["Status"], status["PresignedUrl"]) == ("failed", None)
    assert isinstance(status["Error"], str) and status["Error"]
