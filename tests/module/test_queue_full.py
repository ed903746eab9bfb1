"""A full queue: the worker's 429 / 503 queue_full answers reach
the client as the worker composed them — status, Retry-After and body — even
where the API's location routes nginx's own 429 and 503 to error pages."""

import json

import pytest

from ngxtest import auth, final

PDF = "/v1/convert/url-to-pdf"
PAGES = ("error_page 429 = @enconvert_rate_limited; "
         "error_page 500 503 @enconvert_error;")
LOCATIONS = ("location @enconvert_rate_limited { enconvert_rate_limited; }"
             "location @enconvert_error { enconvert_error; }")


@pytest.mark.parametrize("status,detail", [
    (429, "Your account's queue has no room for this request's 1 URL"),
    (503, "The service's queue has no room for this request's 1 URL"),
])
def test_queue_full_answer_is_relayed_with_its_retry_after(make_env, status,
                                                           detail):
    ngx, backend = make_env(extra_api=PAGES, extra_server=LOCATIONS)
    body = json.dumps({"success": False, "error": "queue_full",
                       "detail": detail}).encode()
    backend.responder = lambda m: [(0, final(
        m, status=status, body=body, headers=[["Retry-After", "30"]]))]

    resp = ngx.request("POST", PDF, {"url": "https://example.com",
                                     "async_mode": True}, auth())

    assert resp.status == status
    assert resp.headers["retry-after"] == "30"
    assert resp.headers["content-type"] == "application/json"
    assert resp.body == body
