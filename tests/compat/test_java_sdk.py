"""The Java SDK (enconvert/java-sdk) against this service, unmodified:
convertUrlToPdf and convertUrlToScreenshot (sync, with its own job_id and
its fallback to polling that id after a 5xx, saveTo downloads),
getJobStatus, getBatchStatus and waitForBatch (with and without saveTo),
and the failures: a bad key, a failed render, a batch with one failing URL
(tests/compat/clients_java.py has the replay). The SDK has no URL-array or
async_mode call: the batches it polls here are created with a plain
request, as another client would. Its website, markdown, file-upload and V2
methods are not implemented by this service and not tested."""

import json
import zipfile

import pytest

from clients_java import (JDouble, JLong, JavaApiException, JavaAuthenticationException,
                          gson_to_json, java_basic_auth, java_convert_url_to_pdf,
                          java_convert_url_to_screenshot, java_cookie,
                          java_get_batch_status, java_get_job_status, java_pdf_options,
                          java_wait_for_batch, java_wire)
from stack import Response

PNG = b"\x89PNG\r\n\x1a\n"
BAD_KEY = "sk_live_" + "j" * 40
# bounds of the tests' own waits: the SDK's intervals, shorter deadlines
POLL_MAX_WAIT = 120
BATCH_TIMEOUT_MS = 120_000


def lost_answer(base, method, path, body, headers):
    """The POST reaches the service, but the SDK sees a 502 (a proxy in
    between gave up): it then polls GET /v1/convert/status/{its job_id}."""
    java_wire(base, method, path, body, headers)
    return Response(502, {"content-type": "application/json"}, b'{"error":"bad gateway"}')


def recording(post):
    """`post` that also records the job_id the SDK put in its body."""
    def send(base, method, path, body, headers):
        send.sent.append(json.loads(body)["job_id"])
        return post(base, method, path, body, headers)
    send.sent = []
    return send


def assert_failed_status(status):
    """getJobStatus of a failed job: the clients' sync vocabulary."""
    assert status["status"] == "failed"
    assert isinstance(status["error"], str) and status["error"]
    assert status["presignedUrl"] is None and status["objectKey"] is None


def assert_result(result, ext):
    assert result["presignedUrl"].startswith("http")
    assert result["objectKey"].startswith("live/files/")
    assert result["objectKey"].endswith(ext)
    assert result["filename"].endswith(ext)
    assert result["fileSize"] is not None and result["fileSize"] > 0
    assert result["conversionTimeSeconds"] is not None and result["conversionTimeSeconds"] >= 0
    assert result["jobId"]


def read(path):
    with open(path, "rb") as f:
        return f.read()


def test_gson_encoding_of_the_replay():
    """The replay writes what new Gson().toJson writes."""
    assert gson_to_json({"url": "http://h/a?b=é&c=<d>'", "n": 10, "d": JDouble(10),
                         "l": JLong(5), "skip": None, "b": False}) == \
        '{"url":"http://h/a?b\\u003dé\\u0026c\\u003d\\u003cd\\u003e\\u0027","n":10,' \
        '"d":10.0,"l":5,"b":false}'


def test_url_to_pdf_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "out" / "page.pdf"
    result, sent_id = java_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                              save_to=str(dest))
    assert_result(result, ".pdf")
    assert result["jobId"].startswith("job_")       # the answer's id is kept
    data = read(dest)
    assert data.startswith(b"%PDF-") and len(data) == result["fileSize"]
    for job_id in (result["jobId"], sent_id):
        status = java_get_job_status(stack.url, stack.key, job_id)
        assert status["status"] == "success", job_id
        assert status["objectKey"] == result["objectKey"]
        assert status["presignedUrl"].startswith("http")
        assert status["error"] is None
        assert stack.download(status["presignedUrl"]).body.startswith(b"%PDF-")


def test_url_to_screenshot_sync_and_save_to(stack, site, tmp_path):
    dest = tmp_path / "shot.png"
    result, sent_id = java_convert_url_to_screenshot(stack.url, stack.key,
                                                     site.url + "/hello.html",
                                                     save_to=str(dest))
    assert_result(result, ".png")
    assert read(dest).startswith(PNG)
    for job_id in (result["jobId"], sent_id):
        status = java_get_job_status(stack.url, stack.key, job_id)
        assert (status["status"], status["objectKey"]) == ("success", result["objectKey"])


def test_base_url_with_trailing_slashes(stack, site):
    """The constructor strips trailing slashes before baseUrl + path."""
    result, _ = java_convert_url_to_pdf(stack.url + "//", stack.key, site.url + "/hello.html")
    assert_result(result, ".pdf")


def test_json_escapes_of_gson_in_the_url(stack, site):
    """Gson writes =, &, ' as \\u003d, \\u0026, \\u0027: the URL arrives
    intact."""
    url = site.url + "/hello.html?a=1&b='x'&c=%C3%A9"
    result, _ = java_convert_url_to_pdf(stack.url, stack.key, url)
    assert_result(result, ".pdf")
    r = stack.call("GET", f"/v1/convert/status/{result['jobId']}")
    assert r.status == 200 and r.json()["url"] == url


def test_non_ascii_in_options(stack, site):
    """Gson sends non-ASCII as UTF-8 bytes, HTML characters escaped."""
    result, _ = java_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                        output_filename="r\u00e9sum\u00e9 \U0001F4C4",
                                        headers={"X-Note": "a=b & <c>"})
    assert_result(result, ".pdf")
    assert "sum" in result["filename"]


def test_every_option_the_sdk_sends(stack, site, tmp_path):
    """UrlToPdfOptions as the SDK puts them on the wire: insertion order,
    Doubles for every PDF size (10 -> 10.0), a Long cookie expiry."""
    result, _ = java_convert_url_to_pdf(
        stack.url, stack.key, site.url + "/hello.html",
        single_page=False,
        pdf_options=java_pdf_options(page_size="A4", orientation="landscape",
                                     margins={"top": 10, "bottom": 12.5, "left": 15,
                                              "right": 15},
                                     scale=1, grayscale=True,
                                     header={"content": "Java SDK", "height": 10},
                                     footer={"content": "page", "height": 12}),
        viewport_width=1280, viewport_height=800, load_media=False, enable_scroll=False,
        output_filename="java-report",
        auth=java_basic_auth("user", "secret"),
        cookies=[java_cookie("session", "abc", url=site.url + "/"),
                 java_cookie("pref", "1", domain="127.0.0.1", path="/",
                             expires=4102444800, http_only=True, secure=False,
                             same_site="Lax")],
        headers={"X-Java-Test": "1", "Accept-Language": "en"},
        save_to=str(tmp_path / "report.pdf"))
    assert_result(result, ".pdf")
    assert result["filename"].startswith("java-report")
    assert read(tmp_path / "report.pdf").startswith(b"%PDF-")

    result, _ = java_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                        pdf_options=java_pdf_options(page_width=210,
                                                                     page_height=297.5))
    assert_result(result, ".pdf")

    shot, _ = java_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                             viewport_width=800, viewport_height=600,
                                             load_media=False, enable_scroll=False,
                                             output_filename="java-shot")
    assert_result(shot, ".png")
    assert shot["filename"].startswith("java-shot")


def test_5xx_falls_back_to_polling_its_job_id(stack, site, tmp_path):
    dest = tmp_path / "fallback.pdf"
    result, sent_id = java_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                              post=lost_answer, poll_max_wait=POLL_MAX_WAIT,
                                              save_to=str(dest))
    assert_result(result, ".pdf")
    # pollJob returns the status object as is: its job_id, not the sent one
    assert result["jobId"].startswith("job_") and result["jobId"] != sent_id
    assert read(dest).startswith(b"%PDF-")


def test_screenshot_5xx_falls_back_to_polling_its_job_id(stack, site):
    result, _ = java_convert_url_to_screenshot(stack.url, stack.key, site.url + "/hello.html",
                                               post=lost_answer, poll_max_wait=POLL_MAX_WAIT)
    assert_result(result, ".png")
    assert stack.download(result["presignedUrl"]).body.startswith(PNG)


def test_failed_render_after_5xx_is_a_failure_not_a_timeout(stack, site):
    for convert in (java_convert_url_to_pdf, java_convert_url_to_screenshot):
        post = recording(lost_answer)
        with pytest.raises(JavaApiException) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html",
                    post=post, poll_max_wait=POLL_MAX_WAIT)
        assert type(e.value) is JavaApiException and e.value.status == 500
        # the status answer's `error` sentence, not the SDK's own fallbacks
        assert e.value.message not in ("", "Conversion failed", "Conversion timed out")
        status = java_get_job_status(stack.url, stack.key, post.sent[0])
        assert_failed_status(status)
        assert status["error"] == e.value.message


def test_failed_render_is_an_api_error(stack, site):
    for convert in (java_convert_url_to_pdf, java_convert_url_to_screenshot):
        post = recording(java_wire)
        with pytest.raises(JavaApiException) as e:
            convert(stack.url, stack.key, site.url + "/no-such-page.html", post=post)
        assert type(e.value) is JavaApiException and e.value.status == 422
        assert e.value.message and not e.value.message.startswith(("{", "["))  # the `detail`
        # its own job_id now names the failed job
        assert_failed_status(java_get_job_status(stack.url, stack.key, post.sent[0]))


def test_bad_key_is_an_authentication_error(stack, site):
    for key in (BAD_KEY, "sk_test_short"):
        for convert in (java_convert_url_to_pdf, java_convert_url_to_screenshot):
            with pytest.raises(JavaAuthenticationException) as e:
                convert(stack.url, key, site.url + "/hello.html")
            assert e.value.status == 401 and e.value.message, key
    result, _ = java_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    for call in (java_get_job_status, java_get_batch_status):
        with pytest.raises(JavaAuthenticationException) as e:
            call(stack.url, BAD_KEY, result["jobId"])
        assert e.value.status == 401
    # a lost answer with a bad key: pollJob ends on the 401, not a timeout
    with pytest.raises(JavaAuthenticationException):
        java_convert_url_to_pdf(stack.url, BAD_KEY, site.url + "/hello.html",
                                post=lost_answer, poll_max_wait=POLL_MAX_WAIT)


def test_unknown_job_is_an_api_error(stack):
    with pytest.raises(JavaApiException) as e:
        java_get_job_status(stack.url, stack.key, "0" * 32)
    assert type(e.value) is JavaApiException and e.value.status == 404 and e.value.message


def test_batch_with_one_failing_url(stack, site, tmp_path):
    ok_url, bad_url = site.url + "/hello.html", site.url + "/no-such-page.html"
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": [ok_url, bad_url]})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    status = java_wait_for_batch(stack.url, stack.key, batch_id, timeout_ms=BATCH_TIMEOUT_MS)
    assert status["batchId"] == batch_id
    assert (status["status"], status["total"], status["completed"], status["failed"],
            status["inProgress"]) == ("partial", 2, 1, 1, 0)
    assert (status["outputMode"], status["zipDownloadUrl"]) == ("individual", None)
    ok, bad = status["items"]
    assert (ok["sourceUrl"], ok["status"]) == (ok_url, "Success")
    assert ok["outputFileSize"] > 0
    assert ok["duration"] is not None and float(ok["duration"]) >= 0
    assert stack.download(ok["downloadUrl"]).body.startswith(b"%PDF-")
    assert (bad["sourceUrl"], bad["status"], bad["downloadUrl"], bad["outputFileSize"],
            bad["duration"]) == (bad_url, "Failed", None, None, None)

    again = java_get_batch_status(stack.url, stack.key, batch_id)
    for s in (again, status):
        for item in s["items"]:
            item.pop("downloadUrl")          # signed afresh on each call
    assert again == status

    # waitForBatch with saveTo on a batch without a ZIP: the SDK's own error
    with pytest.raises(JavaApiException) as e:
        java_wait_for_batch(stack.url, stack.key, batch_id, timeout_ms=BATCH_TIMEOUT_MS,
                            save_to=str(tmp_path / "batch.zip"))
    assert e.value.status == 500 and "no ZIP is available" in e.value.message


def test_wait_for_batch_saves_the_zip(stack, site, tmp_path):
    urls = [site.url + "/hello.html", site.url + "/second.html"]
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": urls, "output_format": True})
    assert r.status == 202, r
    batch_id = json.loads(r.body)["batch_id"]
    dest = tmp_path / "zips" / "site.zip"
    status = java_wait_for_batch(stack.url, stack.key, batch_id, timeout_ms=BATCH_TIMEOUT_MS,
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
