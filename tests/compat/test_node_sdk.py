"""@enconvert/node-sdk against this service, unmodified: its requests and
what it reads (tests/compat/clients.py has the replay)."""

import json

import pytest

from clients import (ClientError, sdk_convert_url_to_pdf, sdk_get_batch_status,
                     sdk_get_job_status, sdk_wait_for_batch)
from stack import Response, SlowSite, request


def lost_answer(base, method, path, body, headers):
    """The POST reaches the service, but the client sees a 502 (a proxy
    in between gave up): the SDK then polls with its own job_id."""
    request(base, method, path, body, headers)
    return Response(502, {"content-type": "application/json"},
                    b'{"error":"bad gateway"}')


def test_sync_conversion(stack, site):
    result, job_id = sdk_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html")
    assert result["presignedUrl"].startswith("http")
    assert result["objectKey"].startswith("live/files/")
    assert result["filename"].endswith(".pdf")
    assert result["fileSize"] > 0
    assert isinstance(result["conversionTimeSeconds"], float)
    assert result["jobId"].startswith("job_")
    assert stack.download(result["presignedUrl"]).body.startswith(b"%PDF-")
    status = sdk_get_job_status(stack.url, stack.key, job_id)
    assert status["status"] == "success"
    assert status["objectKey"] == result["objectKey"]


def test_5xx_falls_back_to_polling_its_job_id(stack, site):
    result, job_id = sdk_convert_url_to_pdf(stack.url, stack.key, site.url + "/hello.html",
                                            post=lost_answer)
    assert result["objectKey"].startswith("live/files/")
    assert stack.download(result["presignedUrl"]).body.startswith(b"%PDF-")


def test_a_render_that_outlives_the_request_is_polled_to_its_result(short_wait_stack):
    """A sync render longer than nginx's wait (2 s; a page that answers
    after 4 s): a 202 was read as the result (presignedUrl "undefined");
    the 504 the SDK's job_id gets now makes it poll that id."""
    s = short_wait_stack
    slow = SlowSite(4)
    try:
        result, _ = sdk_convert_url_to_pdf(s.url, s.key, slow.url)
    finally:
        slow.close()
    assert result["objectKey"].startswith("live/files/")
    assert s.download(result["presignedUrl"]).body.startswith(b"%PDF-")


def test_failed_render_after_5xx_is_a_failure_not_a_timeout(stack, site):
    with pytest.raises(ClientError) as e:
        sdk_convert_url_to_pdf(stack.url, stack.key, site.url + "/no-such-page.html",
                               post=lost_answer)
    assert e.value.status == 500
    assert e.value.message and "timed out" not in e.value.message


def test_failed_render_is_an_api_error(stack, site):
    with pytest.raises(ClientError) as e:
        sdk_convert_url_to_pdf(stack.url, stack.key, site.url + "/no-such-page.html")
    assert e.value.status == 422


def test_bad_key_is_an_authentication_error(stack, site):
    with pytest.raises(ClientError) as e:
        sdk_convert_url_to_pdf(stack.url, "sk_live_" + "z" * 40, site.url + "/hello.html")
    assert e.value.status == 401


def test_wait_for_batch_save_to_has_a_zip(stack, site):
    """waitForBatch({saveTo}) needs zipDownloadUrl once the batch is done."""
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": [site.url + "/hello.html", site.url + "/second.html"],
                    "output_format": True})
    batch_id = json.loads(r.body)["batch_id"]
    status = sdk_wait_for_batch(stack.url, stack.key, batch_id)
    assert (status["status"], status["completed"]) == ("completed", 2)
    assert status["outputMode"] == "zip" and status["zipDownloadUrl"]
    assert stack.download(status["zipDownloadUrl"]).body.startswith(b"PK\x03\x04")


def test_batch_status_and_wait(stack, site):
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": [site.url + "/hello.html", site.url + "/no-such-page.html"]})
    batch_id = json.loads(r.body)["batch_id"]
    status = sdk_wait_for_batch(stack.url, stack.key, batch_id)
    assert status["batchId"] == batch_id
    assert (status["status"], status["total"], status["completed"], status["failed"],
            status["inProgress"]) == ("partial", 2, 1, 1, 0)
    assert status["outputMode"] == "individual" and status["zipDownloadUrl"] is None
    assert status["items"][0]["downloadUrl"] and status["items"][0]["outputFileSize"] > 0
    assert status["items"][1]["downloadUrl"] is None
    assert sdk_get_batch_status(stack.url, stack.key, batch_id) == status
