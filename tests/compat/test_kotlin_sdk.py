"""The Kotlin SDK (enconvert/kotlin-sdk) against this service, unmodified:
convertUrlToPdf and convertUrlToScreenshot (sync, with its job_id and its
fallback to polling that id after a 5xx, saveTo downloads), getJobStatus,
getBatchStatus and waitForBatch (with and without saveTo), and the
failures: a bad key, a failed render, a batch with one failing URL, an
unknown job (tests/compat/clients_kotlin.py has the replay). Its bodies
come from kotlinx.serialization: job_id first, Doubles as `10.0` and
`1.893456E9`; it reads counts and sizes only from integer literals. The
SDK has no URL-array or async_mode call: the batches it polls here are
created with a plain request, as another client would."""

import json
import threading
import time
import re
import zipfile

import pytest

from clients_kotlin import (JDK_H2C_UPGRADE, KOTLIN_UA, Answer, KotlinApiError,
                           send, kotlin_basic_auth, kotlin_convert_url_to_pdf,
                           kotlin_convert_url_to_screenshot, kotlin_cookie,
                           kotlin_get_batch_status, kotlin_get_job_status, kotlin_pdf_options,
                           kotlin_wait_for_batch)
from stack import SlowSite, pdftotext

PNG = b"\x89PNG\r\n\x1a\n"
BAD_KEY = "sk_live_" + "g" * 40
# bounds of the tests' own waits: the SDK's intervals, shorter deadlines
POLL_MAX_WAIT = 120
BATCH_TIMEOUT = 120


def bad_gateway():
    return Answer(502, {"content-type": "application/json"}, b'{"error":"bad gateway"}')


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
    assert isinstance(result["presignedUrl"], str) and result["presignedUrl"].startswith("http")
    assert result["objectKey"].startswith("live/files/") and result["objectKey"].endswith(ext)
    assert result["filename"].endswith(ext)
    assert isinstance(result["fileSize"], int) and result["fileSize"] > 0
    assert isinstance(result["conversionTimeSeconds"], float)
    assert result["conversionTimeSeconds"] >= 0
    assert isinstance(result["jobId"], str) and result["jobId"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_url_to_pdf_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "out" / "page.pdf"
    rec = Recorder()
    result, sent_id = kotlin_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                               save_to=str(dest), post=rec)
    (method, path, body, headers), = rec.sent
    assert (method, path) == ("POST", "/v1/convert/url-to-pdf")
    assert headers == {**JDK_H2C_UPGRADE, "X-API-Key": stack.key, "User-Agent": KOTLIN_UA,
                       "content-type": "application/json"}
    assert body == ('{"job_id":"%s","url":"%s","direct_download":false,"viewport_width":1920,'
                    '"viewport_height":1080,"load_media":true,"enable_scroll":true,'
                    '"single_page":true}' % (sent_id, site.url + "/hello.html")).encode()
    assert len(sent_id) == 32

    assert_result(result, ".pdf")
    assert result["jobId"].startswith("job_")
    data = read(dest)
    assert data.startswith(b"%PDF-") and len(data) == result["fileSize"]
    # getJobStatus with the id the SDK hands out and with the one it sent
    # (the id pollJob uses): a JobStatusValue, the clients' vocabulary
    for job_id in (result["jobId"], sent_id):
        status = kotlin_get_job_status(stack.url, stack.key, job_id)
        assert status["status"] == "success", job_id
        assert status["objectKey"] == result["objectKey"]
        assert status["presignedUrl"].startswith("http")
        assert status["error"] is None
        assert stack.download(status["presignedUrl"]).body.startswith(b"%PDF-")


def test_url_to_screenshot_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "shot.png"
    result, sent_id = kotlin_convert_url_to_screenshot(stack.url, stack.key,
                                                      site.url + "/hello.html",
                                                      save_to=str(dest))
    assert_result(result, ".png")
    data = read(dest)
    assert data.startswith(PNG) and len(data) == result["fileSize"]
    for job_id in (result["jobId"], sent_id):
        status = kotlin_get_job_status(stack.url, stack.key, job_id)
        assert (status["status"], status["objectKey"]) == ("success", result["objectKey"])


def test_doubles_of_kotlinx_serialization(stack, site):
    """PdfOptions and cookie expiry are Doubles: Kotlin writes 10.0 as
    `10.0` and 1893456000.0 as `1.893456E9`; both are plain JSON numbers."""
    rec = Recorder()
    result, _ = kotlin_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html", post=rec,
        pdf_options=kotlin_pdf_options(page_width=210, page_height=297,
                                       margins={"top": 10, "left": 12.5}, scale=1,
                                       header={"content": "Kotlin", "height": 12}),
        cookies=[kotlin_cookie("pref", "1", domain="127.0.0.1", expires=1893456000)],
        output_filename="kotlin-doubles")
    body = rec.sent[0][2].decode()
    for text in ('"page_width":210.0', '"top":10.0', '"left":12.5', '"scale":1.0',
                 '"height":12.0', '"expires":1.893456E9'):
        assert text in body, text
    assert_result(result, ".pdf")
    assert result["filename"] == "kotlin-doubles.pdf"


def test_json_escapes_of_kotlinx_serialization(stack, site):
    """Only `"`, `\\` and control characters are escaped; `/`, `&`, `<` and
    non-ASCII go as they are: the values arrive intact."""
    url = site.url + "/hello.html?a=1&b=2+3&c='x'"
    rec = Recorder()
    result, _ = kotlin_convert_url_to_pdf(
        stack.url, stack.key, url, post=rec,
        pdf_options=kotlin_pdf_options(
            header={"content": '<b title="t">Caf\u00e9</b> &amp; \'A/B\' +1'}))
    body = rec.sent[0][2]
    assert ('<b title=\\"t\\">Caf\u00e9</b>'.encode()) in body and url.encode() in body
    assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['jobId']}")
    assert r.status == 200 and r.json()["url"] == url
    text = " ".join(pdftotext(stack.download(result["presignedUrl"]).body).split())
    assert "Caf\u00e9 & 'A/B' +1" in text


def test_counts_and_sizes_are_integer_literals(stack, site):
    """intOrNull/longOrNull read only integer literals: a 12.0 would be a
    null file size and a 0 count. Our answers, as sent."""
    result, sent_id = kotlin_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    for job_id in (result["jobId"], sent_id):
        r = stack.call("GET", f"/v1/convert/status/{job_id}")
        assert r.status == 200, r
        assert re.search(rb'"file_size":\s*[0-9]+[,}]', r.body), r.body
        assert re.search(rb'"conversion_time_seconds":\s*[0-9.eE+-]+[,}]', r.body), r.body


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    result, _ = kotlin_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=kotlin_pdf_options(page_size="A4", orientation="landscape",
                                      margins={"top": 10, "bottom": 12.5}, scale=1,
                                      grayscale=True,
                                      header={"content": "Kotlin SDK", "height": 10},
                                      footer={"content": "page"}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename="kotlin-report",
        auth=kotlin_basic_auth("user", "secret"),
        cookies=[kotlin_cookie("session", "abc", url=site.url + "/"),
                 kotlin_cookie("pref", "1", domain="127.0.0.1", path="/", expires=1893456000,
                              http_only=True, secure=False, same_site="Lax")],
        headers={"X-Kotlin-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    assert_result(result, ".pdf")
    assert result["filename"] == "kotlin-report.pdf"
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    shot, _ = kotlin_convert_url_to_screenshot(
        stack.url, stack.key, site.url + "/hello.html", viewport_width=800,
        viewport_height=600, load_media=False, enable_scroll=False,
        output_filename="kotlin-shot", save_to=str(tmp_path / "shot.png"))
    assert_result(shot, ".png")
    assert shot["filename"] == "kotlin-shot.png"
    assert read(tmp_path / "shot.png").startswith(PNG)


def test_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.pdf"
    result, sent_id = kotlin_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                               post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                               save_to=str(dest))
    assert_result(result, ".pdf")
    assert result["jobId"].startswith("job_")   # from the status answer, not sent_id
    assert result["jobId"] != sent_id
    assert read(dest).startswith(b"%PDF-")


def test_screenshot_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.png"
    result, _ = kotlin_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                                post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                                save_to=str(dest))
    assert_result(result, ".png")
    assert read(dest).startswith(PNG)


def test_failed_render_after_5xx_is_a_failure_not_a_timeout(stack, site):
    for convert in (kotlin_convert_url_to_pdf, kotlin_convert_url_to_screenshot):
        with pytest.raises(KotlinApiError) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html",
                    post=lost_answer, poll_max_wait=POLL_MAX_WAIT)
        assert (e.value.status, e.value.kind) == (500, "api")
        assert e.value.message not in ("", "Conversion failed", "Conversion timed out")


def test_failed_render_is_an_api_error(stack, site):
    for convert in (kotlin_convert_url_to_pdf, kotlin_convert_url_to_screenshot):
        with pytest.raises(KotlinApiError) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html")
        assert (e.value.status, e.value.kind) == (422, "api")
        assert e.value.message and not e.value.message.startswith("{")   # the `detail`


def test_unknown_job_is_an_api_error(stack):
    with pytest.raises(KotlinApiError) as e:
        kotlin_get_job_status(stack.url, stack.key, "0" * 32)
    assert (e.value.status, e.value.kind) == (404, "api")
    assert e.value.message and not e.value.message.startswith("{")


def test_bad_key_is_an_authentication_error(stack, site):
    for key in (BAD_KEY, "sk_test_short"):
        for convert in (kotlin_convert_url_to_pdf, kotlin_convert_url_to_screenshot):
            with pytest.raises(KotlinApiError) as e:
                convert(stack.url, key, site.url + "/hello.html")
            assert (e.value.status, e.value.kind) == (401, "authentication"), key
            assert e.value.message and not e.value.message.startswith("{")
    result, _ = kotlin_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    for call in (kotlin_get_job_status, kotlin_get_batch_status):
        with pytest.raises(KotlinApiError) as e:
            call(stack.url, BAD_KEY, result["jobId"])
        assert (e.value.status, e.value.kind) == (401, "authentication")


def test_batch_with_one_failing_url(stack, site, tmp_path):
    ok_url, bad_url = site.url + "/hello.html", site.url + "/no-such-page.html"
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": [ok_url, bad_url]})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    status = kotlin_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT)
    assert status["batchId"] == batch_id
    assert (status["status"], status["total"], status["completed"], status["failed"],
            status["inProgress"]) == ("partial", 2, 1, 1, 0)
    assert (status["outputMode"], status["zipDownloadUrl"]) == ("individual", None)
    ok, bad = status["items"]
    assert (ok["sourceUrl"], ok["status"]) == (ok_url, "Success")
    assert isinstance(ok["outputFileSize"], int) and ok["outputFileSize"] > 0
    assert float(ok["duration"]) >= 0
    assert stack.download(ok["downloadUrl"]).body.startswith(b"%PDF-")
    assert (bad["sourceUrl"], bad["status"], bad["downloadUrl"], bad["outputFileSize"],
            bad["duration"]) == (bad_url, "Failed", None, None, None)

    again = kotlin_get_batch_status(stack.url, stack.key, batch_id)
    for s in (again, status):
        for item in s["items"]:
            item.pop("downloadUrl")          # signed afresh on each call
    assert again == status

    with pytest.raises(KotlinApiError) as e:
        kotlin_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
                             save_to=str(tmp_path / "batch.zip"))
    assert e.value.status == 500 and "no ZIP is available" in e.value.message


def test_wait_for_batch_saves_the_zip(stack, site, tmp_path):
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": urls, "output_format": "zip"})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    dest = tmp_path / "site.zip"
    status = kotlin_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
                                  save_to=str(dest))
    assert (status["status"], status["total"], status["completed"], status["failed"],
            status["inProgress"]) == ("completed", 2, 2, 0, 0)
    assert status["outputMode"] == "zip" and status["zipDownloadUrl"].startswith("http")
    assert [i["sourceUrl"] for i in status["items"]] == urls
    with zipfile.ZipFile(dest) as z:
        names = z.namelist()
        assert len(names) == 2
        for name in names:
            assert z.read(name).startswith(b"%PDF-"), name


def test_invalid_option_is_an_api_error(stack, site):
    """A value out of range (viewport_width 100 < 320): 400, the SDK's
    plain API error with our sentence, which names the field."""
    for convert in (kotlin_convert_url_to_pdf, kotlin_convert_url_to_screenshot):
        with pytest.raises(KotlinApiError) as e:
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
        result, sent_id = kotlin_convert_url_to_pdf(stack.url, stack.key, slow.url,
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
            outcome["result"] = kotlin_convert_url_to_pdf(stack.url, stack.key, slow.url,
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
                    seen.append(kotlin_get_job_status(stack.url, stack.key, sent[0])["status"])
                except KotlinApiError as exc:
                    assert exc.status == 404, exc
            time.sleep(0.2)
        worker.join(timeout=POLL_MAX_WAIT)
    finally:
        slow.close()
    assert "error" not in outcome, outcome.get("error")
    assert_result(outcome["result"], ".pdf")
    assert set(seen) <= {"processing", "success"}, seen
    final = kotlin_get_job_status(stack.url, stack.key, sent[0])
    assert (final["status"], final["presignedUrl"].startswith("http")) == ("success", True)


def test_failed_render_in_job_status(stack, site):
    """After the 422, getJobStatus on the job_id the SDK sent: "failed"
    with our sentence, no file."""
    rec = Recorder()
    with pytest.raises(KotlinApiError):
        kotlin_convert_url_to_pdf(stack.url, stack.key, site.url + "/no-such-page.html", post=rec)
    sent_id = json.loads(rec.sent[0][2])["job_id"]
    status = kotlin_get_job_status(stack.url, stack.key, sent_id)
    assert (status["status"], status["presignedUrl"]) == ("failed", None)
    assert isinstance(status["error"], str) and status["error"]
