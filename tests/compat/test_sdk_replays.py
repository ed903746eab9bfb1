"""What every SDK replay (sdk_cases.py: Kotlin, Swift, C#, Java, PHP, Go)
must do against this service, unmodified, written once and run per SDK
(the test id names it): convertUrlToPdf and convertUrlToScreenshot (sync,
with its own job_id and its fallback to polling that id after a 5xx, saveTo
downloads), getJobStatus, getBatchStatus and waitForBatch (with and without
saveTo), and the failures: a bad key, a failed render, a batch with one
failing URL, an unknown job. The SDKs have no URL-array or async_mode call:
the batches they poll here are created with a plain request, as another
client would. What only one SDK does is tested in test_<sdk>_sdk.py."""

import json
import threading
import time
import zipfile

import pytest

from sdk_cases import (ALL, KSC, PNG, POLL_MAX_WAIT, WITHOUT_GO, Recorder, bad_gateway,
                       read)
from stack import SlowSite


def sdks(cases):
    return pytest.mark.parametrize("sdk", cases, ids=[c.name for c in cases])


@sdks(ALL)
def test_url_to_pdf_sync_and_save_to(sdk, stack, site, tmp_path):
    dest = tmp_path / "out" / "page.pdf"
    url = site.url + "/hello.html"
    rec = Recorder(sdk.send)
    result, sent_id = sdk.pdf(stack.url, stack.key, url, save_to=str(dest), post=rec)
    # the request as the SDK sends it
    (method, path, body, headers), = rec.sent
    assert (method, path) == ("POST", "/v1/convert/url-to-pdf")
    sdk.check_post(body, headers, stack.key, url, sent_id)
    assert len(sent_id) == 32 and json.loads(body)["job_id"] == sent_id

    sdk.assert_result(result, ".pdf")
    job_id, size, object_key = sdk.get(result, "jobId", "fileSize", "objectKey")
    assert job_id.startswith("job_")            # the answer's id is kept
    data = read(dest)
    assert data.startswith(b"%PDF-") and len(data) == size
    # getJobStatus with the id the SDK hands out and with the one it sent
    # (the id its pollJob uses): the clients' vocabulary
    for job_id in (job_id, sent_id):
        status = sdk.job_status(stack.url, stack.key, job_id)
        assert status[sdk.f("status")] == "success", job_id
        assert status[sdk.f("objectKey")] == object_key
        assert status[sdk.f("presignedUrl")].startswith("http")
        assert status[sdk.f("error")] == sdk.absent
        assert stack.download(status[sdk.f("presignedUrl")]).body.startswith(b"%PDF-")


@sdks(ALL)
def test_url_to_screenshot_sync_and_save_to(sdk, stack, site, tmp_path):
    dest = tmp_path / "shot.png"
    result, sent_id = sdk.shot(stack.url, stack.key, site.url + "/hello.html",
                               save_to=str(dest))
    sdk.assert_result(result, ".png")
    data = read(dest)
    assert data.startswith(PNG) and len(data) == result[sdk.f("fileSize")]
    for job_id in (result[sdk.f("jobId")], sent_id):
        status = sdk.job_status(stack.url, stack.key, job_id)
        assert sdk.get(status, "status", "objectKey") == ("success", result[sdk.f("objectKey")])


@sdks(KSC)
def test_every_option_the_sdk_sends(sdk, stack, site, tmp_path):
    """UrlToPdfOptions and PdfOptions as the SDK puts them on the wire:
    insertion order, doubles for the PDF sizes, unset members left out."""
    name, s = sdk.slug, sdk.sdk
    result, _ = sdk.pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=s.pdf_options(page_size="A4", orientation="landscape",
                                  margins={"top": 10, "bottom": 12.5}, scale=1,
                                  grayscale=True,
                                  header={"content": f"{sdk.label} SDK", "height": 10},
                                  footer={"content": "page"}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename=f"{name}-report",
        auth=s.basic_auth("user", "secret"),
        cookies=[s.cookie("session", "abc", url=site.url + "/"),
                 s.cookie("pref", "1", domain="127.0.0.1", path="/", expires=1893456000,
                          http_only=True, secure=False, same_site="Lax")],
        headers={f"X-{sdk.header_label}-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    sdk.assert_result(result, ".pdf")
    assert result[sdk.f("filename")] == f"{name}-report.pdf"
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    shot, _ = sdk.shot(
        stack.url, stack.key, site.url + "/hello.html", viewport_width=800,
        viewport_height=600, load_media=False, enable_scroll=False,
        output_filename=f"{name}-shot", save_to=str(tmp_path / "shot.png"))
    sdk.assert_result(shot, ".png")
    assert shot[sdk.f("filename")] == f"{name}-shot.png"
    assert read(tmp_path / "shot.png").startswith(PNG)


@sdks(ALL)
def test_a_render_that_outlives_the_request_is_polled_to_its_result(sdk, short_wait_stack,
                                                                    tmp_path):
    """A sync render longer than nginx's wait (2 s here, a page that answers
    after 4 s): the service answered 202, which every SDK read as the
    finished result (an empty link, "undefined" in Node; Swift threw). With
    the SDK's own job_id in the body the answer is a 504, and the SDK polls
    that id to the result."""
    s = short_wait_stack
    slow = SlowSite(4)
    dest = tmp_path / "slow.pdf"
    try:
        result, _ = sdk.pdf(s.url, s.key, slow.url, poll_max_wait=POLL_MAX_WAIT,
                            save_to=str(dest))
    finally:
        slow.close()
    sdk.assert_result(result, ".pdf")
    assert read(dest).startswith(b"%PDF-")


@sdks(ALL)
def test_5xx_falls_back_to_polling_its_job_id(sdk, stack, site, tmp_path):
    dest = tmp_path / "fallback.pdf"
    result, sent_id = sdk.pdf(stack.url, stack.key, site.url + "/hello.html",
                              post=sdk.lost_answer, poll_max_wait=POLL_MAX_WAIT,
                              save_to=str(dest))
    sdk.assert_result(result, ".pdf")
    # pollJob returns the status object as is: its job_id, not the sent one
    job_id = result[sdk.f("jobId")]
    assert job_id.startswith("job_")
    assert sent_id and job_id != sent_id
    assert read(dest).startswith(b"%PDF-")


@sdks(ALL)
def test_screenshot_5xx_falls_back_to_polling_its_job_id(sdk, stack, site, tmp_path):
    dest = tmp_path / "fallback.png"
    result, _ = sdk.shot(stack.url, stack.key, site.url + "/hello.html",
                         post=sdk.lost_answer, poll_max_wait=POLL_MAX_WAIT, save_to=str(dest))
    sdk.assert_result(result, ".png")
    assert read(dest).startswith(PNG)
    assert stack.download(result[sdk.f("presignedUrl")]).body.startswith(PNG)


@sdks(ALL)
def test_failed_render_after_5xx_is_a_failure_not_a_timeout(sdk, stack, site):
    for convert in sdk.converts():
        post = Recorder(sdk.lost_answer)
        with pytest.raises(sdk.error) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html",
                    post=post, poll_max_wait=POLL_MAX_WAIT)
        sdk.assert_api_error(e.value, 500)
        # the status answer's `error` sentence, not the SDK's own fallbacks
        assert e.value.message not in ("", "Conversion failed", "Conversion timed out")
        status = sdk.job_status(stack.url, stack.key, post.job_ids()[0])
        sdk.assert_failed_status(status)
        assert status[sdk.f("error")] == e.value.message


@sdks(ALL)
def test_failed_render_is_an_api_error(sdk, stack, site):
    for convert in sdk.converts():
        post = Recorder(sdk.send)
        with pytest.raises(sdk.error) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html", post=post)
        sdk.assert_api_error(e.value, 422)
        assert e.value.message and not e.value.message.startswith(("{", "["))  # the `detail`
        # its own job_id now names the failed job
        sdk.assert_failed_status(sdk.job_status(stack.url, stack.key, post.job_ids()[0]))


@sdks(WITHOUT_GO)
def test_unknown_job_is_an_api_error(sdk, stack):
    with pytest.raises(sdk.error) as e:
        sdk.job_status(stack.url, stack.key, "0" * 32)
    sdk.assert_api_error(e.value, 404)
    assert e.value.message and not e.value.message.startswith("{")


@sdks(ALL)
def test_bad_key_is_an_authentication_error(sdk, stack, site):
    for key in (sdk.bad_key, "sk_test_short"):
        for convert in sdk.converts():
            with pytest.raises(sdk.error) as e:
                convert(stack.url, key, site.url + "/hello.html")
            sdk.assert_auth_error(e.value)
            assert e.value.message and not e.value.message.startswith("{"), key
    result, _ = sdk.pdf(stack.url, stack.key, site.url + "/hello.html")
    for call in (sdk.job_status, sdk.batch_status):
        with pytest.raises(sdk.error) as e:
            call(stack.url, sdk.bad_key, result[sdk.f("jobId")])
        sdk.assert_auth_error(e.value)
    # a lost answer with a bad key: pollJob ends on the 401, not a timeout
    with pytest.raises(sdk.error) as e:
        sdk.pdf(stack.url, sdk.bad_key, site.url + "/hello.html",
                post=sdk.lost_answer, poll_max_wait=POLL_MAX_WAIT)
    sdk.assert_auth_error(e.value)


@sdks(ALL)
def test_batch_with_one_failing_url(sdk, stack, site, tmp_path):
    ok_url, bad_url = site.url + "/hello.html", site.url + "/no-such-page.html"
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": [ok_url, bad_url]})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    status = sdk.wait(stack.url, stack.key, batch_id)
    assert status[sdk.f("batchId")] == batch_id
    assert sdk.get(status, "status", "total", "completed", "failed",
                   "inProgress") == ("partial", 2, 1, 1, 0)
    assert sdk.get(status, "outputMode", "zipDownloadUrl") == ("individual", sdk.absent)
    ok, bad = status[sdk.f("items")]
    assert sdk.get(ok, "sourceUrl", "status") == (ok_url, "Success")
    size, duration = sdk.get(ok, "outputFileSize", "duration")
    assert isinstance(size, int) and size > 0
    assert duration is not None and float(duration) >= 0
    assert stack.download(ok[sdk.f("downloadUrl")]).body.startswith(b"%PDF-")
    assert sdk.get(bad, "sourceUrl", "status", "downloadUrl", "outputFileSize",
                   "duration") == (bad_url, "Failed", sdk.absent, None, sdk.absent)

    again = sdk.batch_status(stack.url, stack.key, batch_id)
    for s in (again, status):
        for item in s[sdk.f("items")]:
            item.pop(sdk.f("downloadUrl"))          # signed afresh on each call
    assert again == status

    # waitForBatch with saveTo on a batch without a ZIP: the SDK's own error
    with pytest.raises(sdk.error) as e:
        sdk.wait(stack.url, stack.key, batch_id, save_to=str(tmp_path / "batch.zip"))
    assert e.value.status == 500 and "no ZIP is available" in e.value.message


@sdks(ALL)
def test_wait_for_batch_saves_the_zip(sdk, stack, site, tmp_path):
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": urls, "output_format": sdk.output_format})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    dest = tmp_path / "zips" / "site.zip"
    status = sdk.wait(stack.url, stack.key, batch_id, save_to=str(dest))
    assert sdk.get(status, "status", "total", "completed", "failed",
                   "inProgress") == ("completed", 2, 2, 0, 0)
    assert status[sdk.f("outputMode")] == "zip"
    assert status[sdk.f("zipDownloadUrl")].startswith("http")
    assert [i[sdk.f("sourceUrl")] for i in status[sdk.f("items")]] == urls
    with zipfile.ZipFile(dest) as z:
        names = z.namelist()
        assert len(names) == 2
        for name in names:
            assert z.read(name).startswith(b"%PDF-"), name


@sdks(KSC)
def test_invalid_option_is_an_api_error(sdk, stack, site):
    """A value out of range (viewport_width 100 < 320): 400, the SDK's
    plain API error with our sentence, which names the field."""
    for convert in sdk.converts():
        with pytest.raises(sdk.error) as e:
            convert(stack.url, stack.key, site.url + "/hello.html", viewport_width=100)
        sdk.assert_api_error(e.value, 400)
        assert "viewport_width" in e.value.message and not e.value.message.startswith("{")


@sdks(KSC)
def test_5xx_while_the_render_runs(sdk, stack, tmp_path):
    """The proxy gives up at once, while the render still runs (a page that
    answers after 4 s): the POST goes on, the SDK polls its job_id through
    404 or "processing" answers until "success"."""
    slow = SlowSite(4)
    posts = []

    def early_lost_answer(base, method, path, body, headers):
        t = threading.Thread(target=sdk.send, args=(base, method, path, body, headers),
                             daemon=True)
        t.start()
        posts.append(t)
        return bad_gateway()

    try:
        result, sent_id = sdk.pdf(stack.url, stack.key, slow.url, post=early_lost_answer,
                                  poll_max_wait=POLL_MAX_WAIT,
                                  save_to=str(tmp_path / "slow.pdf"))
        sdk.assert_result(result, ".pdf")
        assert read(tmp_path / "slow.pdf").startswith(b"%PDF-")
    finally:
        for t in posts:
            t.join(timeout=POLL_MAX_WAIT)
        slow.close()


@sdks(KSC)
def test_job_status_while_the_render_runs(sdk, stack):
    """getJobStatus on the SDK's own job_id while its sync POST still runs:
    404 until the job exists, then a status the SDK's model knows."""
    slow = SlowSite(4)
    sent = []
    outcome = {}

    def record(base, method, path, body, headers):
        sent.append(json.loads(body)["job_id"])
        return sdk.send(base, method, path, body, headers)

    def convert():
        try:
            outcome["result"] = sdk.pdf(stack.url, stack.key, slow.url, post=record)[0]
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
                    seen.append(sdk.job_status(stack.url, stack.key, sent[0])[sdk.f("status")])
                except sdk.error as exc:
                    assert exc.status == 404, exc
            time.sleep(0.2)
        worker.join(timeout=POLL_MAX_WAIT)
    finally:
        slow.close()
    assert "error" not in outcome, outcome.get("error")
    sdk.assert_result(outcome["result"], ".pdf")
    assert set(seen) <= {"processing", "success"}, seen
    final = sdk.job_status(stack.url, stack.key, sent[0])
    assert final[sdk.f("status")] == "success"
    assert final[sdk.f("presignedUrl")].startswith("http")


@sdks(KSC)
def test_failed_render_in_job_status(sdk, stack, site):
    """After the 422, getJobStatus on the job_id the SDK sent: "failed"
    with our sentence, no file."""
    rec = Recorder(sdk.send)
    with pytest.raises(sdk.error):
        sdk.pdf(stack.url, stack.key, site.url + "/no-such-page.html", post=rec)
    status = sdk.job_status(stack.url, stack.key, rec.job_ids()[0])
    assert sdk.get(status, "status", "presignedUrl") == ("failed", None)
    error = status[sdk.f("error")]
    assert isinstance(error, str) and error
