"""The Swift SDK (enconvert/swift-sdk) against this service, unmodified:
convertUrlToPdf and convertUrlToScreenshot (sync, with its job_id and its
fallback to polling that id after a 5xx, saveTo downloads), getJobStatus,
getBatchStatus and waitForBatch (with and without saveTo), and the
failures: a bad key, a failed render, a batch with one failing URL, an
unknown job (tests/compat/clients_swift.py has the replay). Its bodies come
from JSONSerialization: keys in any order, `/` escaped as `\\/`. The SDK
has no URL-array or async_mode call: the batches it polls here are created
with a plain request, as another client would."""

import json
import threading
import time
import random
import zipfile

import pytest

from clients_swift import (SWIFT_UA, URLSESSION_HEADERS, Answer, SwiftError,
                           send, swift_basic_auth, swift_convert_url_to_pdf,
                           swift_convert_url_to_screenshot, swift_cookie,
                           swift_get_batch_status, swift_get_job_status, swift_pdf_options,
                           swift_wait_for_batch)
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
    result, sent_id = swift_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                               save_to=str(dest), post=rec)
    (method, path, body, headers), = rec.sent
    assert (method, path) == ("POST", "/v1/convert/url-to-pdf")
    assert headers == {"X-API-Key": stack.key, "User-Agent": SWIFT_UA,
                       "content-type": "application/json", **URLSESSION_HEADERS}
    assert b"http:\\/\\/127.0.0.1" in body
    assert json.loads(body)["job_id"] == sent_id and len(sent_id) == 32

    assert_result(result, ".pdf")
    assert result["jobId"].startswith("job_")
    data = read(dest)
    assert data.startswith(b"%PDF-") and len(data) == result["fileSize"]
    # getJobStatus with the id the SDK hands out and with the one it sent
    # (the id pollJob uses): a JobStatusValue, the clients' vocabulary
    for job_id in (result["jobId"], sent_id):
        status = swift_get_job_status(stack.url, stack.key, job_id)
        assert status["status"] == "success", job_id
        assert status["objectKey"] == result["objectKey"]
        assert status["presignedUrl"].startswith("http")
        assert status["error"] is None
        assert stack.download(status["presignedUrl"]).body.startswith(b"%PDF-")


def test_url_to_screenshot_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "shot.png"
    result, sent_id = swift_convert_url_to_screenshot(stack.url, stack.key,
                                                      site.url + "/hello.html",
                                                      save_to=str(dest))
    assert_result(result, ".png")
    data = read(dest)
    assert data.startswith(PNG) and len(data) == result["fileSize"]
    for job_id in (result["jobId"], sent_id):
        status = swift_get_job_status(stack.url, stack.key, job_id)
        assert (status["status"], status["objectKey"]) == ("success", result["objectKey"])


def test_any_key_order_of_json_serialization(stack, site):
    """Swift's Dictionary has no stable order: the same request with its
    keys (nested ones too) in other orders, job_id first or last."""
    orders = set()
    for seed in range(4):
        rec = Recorder()
        result, _ = swift_convert_url_to_pdf(
            stack.url, stack.key, site.url + "/hello.html", post=rec,
            rng=random.Random(seed),
            pdf_options=swift_pdf_options(page_size="A4", margins={"top": 10, "left": 12.5},
                                          header={"content": "Swift", "height": 12}),
            output_filename="swift-order")
        assert_result(result, ".pdf")
        assert result["filename"] == "swift-order.pdf"
        orders.add(tuple(json.loads(rec.sent[0][2])))
    assert len(orders) > 1


def test_json_escapes_of_json_serialization(stack, site):
    """`/` is written `\\/`, non-ASCII as raw UTF-8: the values arrive intact."""
    url = site.url + "/hello.html?a=1&b=2+3&c='x'"
    rec = Recorder()
    result, _ = swift_convert_url_to_pdf(
        stack.url, stack.key, url, post=rec,
        pdf_options=swift_pdf_options(header={"content": "<b>Caf\u00e9</b> &amp; 'A/B' +1"}))
    body = rec.sent[0][2]
    assert "Caf\u00e9".encode() in body and b"<\\/b>" in body
    assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['jobId']}")
    assert r.status == 200 and r.json()["url"] == url
    text = " ".join(pdftotext(stack.download(result["presignedUrl"]).body).split())
    assert "Caf\u00e9 & 'A/B' +1" in text


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    result, _ = swift_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=swift_pdf_options(page_size="A4", orientation="landscape",
                                      margins={"top": 10, "bottom": 12.5}, scale=1,
                                      grayscale=True,
                                      header={"content": "Swift SDK", "height": 10},
                                      footer={"content": "page"}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename="swift-report",
        auth=swift_basic_auth("user", "secret"),
        cookies=[swift_cookie("session", "abc", url=site.url + "/"),
                 swift_cookie("pref", "1", domain="127.0.0.1", path="/", expires=1893456000,
                              http_only=True, secure=False, same_site="Lax")],
        headers={"X-Swift-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    assert_result(result, ".pdf")
    assert result["filename"] == "swift-report.pdf"
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    shot, _ = swift_convert_url_to_screenshot(
        stack.url, stack.key, site.url + "/hello.html", viewport_width=800,
        viewport_height=600, load_media=False, enable_scroll=False,
        output_filename="swift-shot", save_to=str(tmp_path / "shot.png"))
    assert_result(shot, ".png")
    assert shot["filename"] == "swift-shot.png"
    assert read(tmp_path / "shot.png").startswith(PNG)


def test_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.pdf"
    result, sent_id = swift_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                               post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                               save_to=str(dest))
    assert_result(result, ".pdf")
    assert result["jobId"].startswith("job_")   # from the status answer, not sent_id
    assert result["jobId"] != sent_id
    assert read(dest).startswith(b"%PDF-")


def test_screenshot_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.png"
    result, _ = swift_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                                post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                                save_to=str(dest))
    assert_result(result, ".png")
    assert read(dest).startswith(PNG)


def test_failed_render_after_5xx_is_a_failure_not_a_timeout(stack, site):
    for convert in (swift_convert_url_to_pdf, swift_convert_url_to_screenshot):
        with pytest.raises(SwiftError) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html",
                    post=lost_answer, poll_max_wait=POLL_MAX_WAIT)
        assert (e.value.status, e.value.kind) == (500, "api")
        assert e.value.message not in ("", "Conversion failed", "Conversion timed out")


def test_failed_render_is_an_api_error(stack, site):
    for convert in (swift_convert_url_to_pdf, swift_convert_url_to_screenshot):
        with pytest.raises(SwiftError) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html")
        assert (e.value.status, e.value.kind) == (422, "api")
        assert e.value.message and not e.value.message.startswith("{")   # the `detail`


def test_unknown_job_is_an_api_error(stack):
    with pytest.raises(SwiftError) as e:
        swift_get_job_status(stack.url, stack.key, "0" * 32)
    assert (e.value.status, e.value.kind) == (404, "api")
    assert e.value.message and not e.value.message.startswith("{")


def test_bad_key_is_an_authentication_error(stack, site):
    for key in (BAD_KEY, "sk_test_short"):
        for convert in (swift_convert_url_to_pdf, swift_convert_url_to_screenshot):
            with pytest.raises(SwiftError) as e:
                convert(stack.url, key, site.url + "/hello.html")
            assert (e.value.status, e.value.kind) == (401, "authentication"), key
            assert e.value.message and not e.value.message.startswith("{")
    result, _ = swift_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    for call in (swift_get_job_status, swift_get_batch_status):
        with pytest.raises(SwiftError) as e:
            call(stack.url, BAD_KEY, result["jobId"])
        assert (e.value.status, e.value.kind) == (401, "authentication")


def test_batch_with_one_failing_url(stack, site, tmp_path):
    ok_url, bad_url = site.url + "/hello.html", site.url + "/no-such-page.html"
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": [ok_url, bad_url]})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    status = swift_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT)
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

    again = swift_get_batch_status(stack.url, stack.key, batch_id)
    for s in (again, status):
        for item in s["items"]:
            item.pop("downloadUrl")          # signed afresh on each call
    assert again == status

    with pytest.raises(SwiftError) as e:
        swift_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
                             save_to=str(tmp_path / "batch.zip"))
    assert e.value.status == 500 and "no ZIP is available" in e.value.message


def test_wait_for_batch_saves_the_zip(stack, site, tmp_path):
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": urls, "output_format": "zip"})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    dest = tmp_path / "site.zip"
    status = swift_wait_for_batch(stack.url, stack.key, batch_id, timeout=BATCH_TIMEOUT,
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
    for convert in (swift_convert_url_to_pdf, swift_convert_url_to_screenshot):
        with pytest.raises(SwiftError) as e:
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
        result, sent_id = swift_convert_url_to_pdf(stack.url, stack.key, slow.url,
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
            outcome["result"] = swift_convert_url_to_pdf(stack.url, stack.key, slow.url,
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
                    seen.append(swift_get_job_status(stack.url, stack.key, sent[0])["status"])
                except SwiftError as exc:
                    assert exc.status == 404, exc
            time.sleep(0.2)
        worker.join(timeout=POLL_MAX_WAIT)
    finally:
        slow.close()
    assert "error" not in outcome, outcome.get("error")
    assert_result(outcome["result"], ".pdf")
    assert set(seen) <= {"processing", "success"}, seen
    final = swift_get_job_status(stack.url, stack.key, sent[0])
    assert (final["status"], final["presignedUrl"].startswith("http")) == ("success", True)


def test_failed_render_in_job_status(stack, site):
    """After the 422, getJobStatus on the job_id the SDK sent: "failed"
    with our sentence, no file."""
    rec = Recorder()
    with pytest.raises(SwiftError):
        swift_convert_url_to_pdf(stack.url, stack.key, site.url + "/no-such-page.html", post=rec)
    sent_id = json.loads(rec.sent[0][2])["job_id"]
    status = swift_get_job_status(stack.url, stack.key, sent_id)
    assert (status["status"], status["presignedUrl"]) == ("failed", None)
    assert isinstance(status["error"], str) and status["error"]
