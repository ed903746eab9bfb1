"""output_format (docs/api.md "Batch ZIP"): true or "zip" with a
URL array of two or more is forwarded among the options; false is no ZIP;
any other value, or a single URL (a string or an array of one, as the
vendor's gateway refuses it), is a 400 naming the field and nothing reaches
the worker."""

import pytest

from ngxtest import assert_error, auth, final

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
U = "https://a.example"
V = "https://b.example"


def send(ngx, backend, route, body):
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    return ngx.request("POST", route, body, auth())


@pytest.mark.parametrize("value", [True, "zip", False])
@pytest.mark.parametrize("route", [PDF, SHOT])
def test_accepted_with_several_urls_and_forwarded(env, route, value):
    ngx, backend = env
    resp = send(ngx, backend, route, {"url": [U, V], "output_format": value})
    assert resp.status == 202, resp.body
    m = backend.messages()[-1]
    assert m["op"] == "convert" and m["urls"] == [U, V]
    assert m["options"]["output_format"] == value


def test_false_and_null_need_no_array(env):
    ngx, backend = env
    assert send(ngx, backend, PDF, {"url": U, "async_mode": True,
                                    "output_format": False}).status == 202
    assert send(ngx, backend, PDF, {"url": U, "async_mode": True,
                                    "output_format": None}).status == 202
    assert "output_format" not in backend.messages()[-1]["options"]


@pytest.mark.parametrize("value", ["ZIP", "individual", "", "zip\u0000x", 1, 0, [],
                                   {}])
def test_other_values_refused(env, value):
    ngx, backend = env
    resp = ngx.request("POST", PDF, {"url": [U, V], "output_format": value},
                       auth())
    err = assert_error(resp, 400, "invalid_value", "output_format")
    assert '"zip"' in err["detail"]
    assert backend.messages() == []


@pytest.mark.parametrize("body", [
    {"url": U, "output_format": "zip"},
    {"url": U, "output_format": True, "async_mode": True},
    {"url": [U], "output_format": "zip"},
])
@pytest.mark.parametrize("route", [PDF, SHOT])
def test_single_url_refused(env, route, body):
    ngx, backend = env
    resp = ngx.request("POST", route, body, auth())
    err = assert_error(resp, 400, "invalid_value", "output_format")
    assert "two or more" in err["detail"]
    assert backend.messages() == []
