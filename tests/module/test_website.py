"""Website capture routes (docs/api.md "Website capture"):
POST /v1/convert/website-to-pdf and /website-to-screenshot take one start
URL, the fields of url-to-pdf / url-to-screenshot and the crawl fields
(crawl_mode, include_patterns, exclude_patterns, max_pages, max_depth);
the module sends the usual convert message with the route as endpoint,
batch and async true, and waits for the worker's answer as for a sync
convert (schema/messages.md)."""

import threading
import time

import pytest

from ngxtest import accepted, assert_error, auth, final
from test_metrics import METRICS, answer_everything, expect
from test_validation import PDF, SHOT, forwarded, reject

SITE_PDF = "/v1/convert/website-to-pdf"
SITE_SHOT = "/v1/convert/website-to-screenshot"
WEBSITE = (SITE_PDF, SITE_SHOT)
U = "https://docs.example/"
JOB = "batch_" + "0123456789abcdef" * 2
CRAWL = {"crawl_mode": "full", "include_patterns": ["^/guide/"],
         "exclude_patterns": ["\\?sort=", "/login"], "max_pages": 7,
         "max_depth": 0}
DISCOVERED = (b'{"success":true,"status":"processing","job_id":"' + JOB.encode()
              + b'","batch_id":"' + JOB.encode() + b'","url_count":7,'
              b'"total_discovered":9,"discovery_method":"full_crawl",'
              b'"truncated":true,"output_format":"zip"}')


def route_name(route):
    return route.rsplit("/", 1)[1]


# --- the message ------------------------------------------------------------

@pytest.mark.parametrize("route,own", [
    (SITE_PDF, {"single_page": True, "pdf_options": {"page_size": "letter"}}),
    (SITE_SHOT, {"image_format": "webp", "image_quality": 70,
                 "full_page": False}),
])
def test_message_for_the_worker(env, route, own):
    ngx, backend = env
    body = {"url": U, **CRAWL, **own, "async_mode": False, "job_id": "j-7",
            "output_format": "zip", "viewport_width": 1280,
            "notification_email": "ops@example.com", "crawl_mode": "auto"}
    m = forwarded(ngx, backend, body, path=route)
    assert m["op"] == "convert"
    assert m["endpoint"] == route_name(route)
    assert m["urls"] == [U]
    assert m["batch"] is True and m["async"] is True
    want = {k: v for k, v in body.items() if k not in ("url", "async_mode")}
    if "pdf_options" in own:
        want["pdf_options"] = {"page_size": "Letter"}    # canonical spelling
    assert m["options"] == want


def test_defaults_are_not_filled_in_and_nulls_dropped(env):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "crawl_mode": None,
                                 "max_pages": None, "async_mode": True},
                  path=SITE_SHOT)
    assert m["urls"] == [U] and m["options"] == {}
    assert m["batch"] is True and m["async"] is True


@pytest.mark.parametrize("value", [True, False, "zip"])
def test_output_format_accepted_with_one_url(env, value):
    ngx, backend = env
    m = forwarded(ngx, backend, {"url": U, "output_format": value},
                  path=SITE_PDF)
    assert m["options"]["output_format"] == value


# --- refused ------------------------------------------------------------------

@pytest.mark.parametrize("route", WEBSITE)
@pytest.mark.parametrize("body,code,field", [
    ({"url": [U]}, "invalid_type", "url"),
    ({"url": [U, "https://b.example/"]}, "invalid_type", "url"),
    ({"url": []}, "invalid_url", "url"),
    ({"url": 5}, "invalid_type", "url"),
    ({"url": "ftp://docs.example/"}, "invalid_url", "url"),
    ({}, "missing_field", "url"),
    ({"crawl_mode": "sitemap"}, "missing_field", "url"),
    ({"url": U, "direct_download": True}, "invalid_value",
     "direct_download"),
    ({"url": U, "direct_download": "yes"}, "invalid_type",
     "direct_download"),
    ({"url": U, "crawl_mode": "Sitemap"}, "invalid_value", "crawl_mode"),
    ({"url": U, "crawl_mode": "automatic"}, "invalid_value", "crawl_mode"),
    ({"url": U, "crawl_mode": ""}, "invalid_value", "crawl_mode"),
    ({"url": U, "crawl_mode": 1}, "invalid_type", "crawl_mode"),
    ({"url": U, "max_pages": 0}, "out_of_range", "max_pages"),
    ({"url": U, "max_pages": 1001}, "out_of_range", "max_pages"),
    ({"url": U, "max_pages": 10.5}, "invalid_type", "max_pages"),
    ({"url": U, "max_pages": "10"}, "invalid_type", "max_pages"),
    ({"url": U, "max_depth": -1}, "out_of_range", "max_depth"),
    ({"url": U, "max_depth": 11}, "out_of_range", "max_depth"),
    ({"url": U, "max_depth": True}, "invalid_type", "max_depth"),
    ({"url": U, "include_patterns": "^/a"}, "invalid_type",
     "include_patterns"),
    ({"url": U, "exclude_patterns": [1]}, "invalid_type",
     "exclude_patterns[0]"),
    ({"url": U, "exclude_patterns": ["a"] * 21}, "out_of_range",
     "exclude_patterns"),
    ({"url": U, "include_patterns": ["a", "b" * 501]}, "out_of_range",
     "include_patterns[1]"),
    ({"url": U, "include_patterns": [""]}, "out_of_range",
     "include_patterns[0]"),
    ({"url": U, "output_format": "individual"}, "invalid_value",
     "output_format"),
    ({"url": U, "crawl": "full"}, "unknown_field", "crawl"),
    ({"url": U, "max_urls": 3}, "unknown_field", "max_urls"),
])
def test_refused(env, route, body, code, field):
    ngx, backend = env
    err = reject(ngx, backend, body, 400, code, field, path=route)
    if field == "direct_download" and code == "invalid_value":
        assert "website capture" in err["detail"], err
    if field == "url" and code == "invalid_type" and isinstance(
            body.get("url"), list):
        assert "one" in err["detail"], err


def test_limits_at_the_edges_forwarded(env):
    ngx, backend = env
    body = {"url": U, "max_pages": 1000, "max_depth": 10,
            "include_patterns": ["x" * 500] * 20, "exclude_patterns": [],
            "direct_download": False}
    m = forwarded(ngx, backend, body, path=SITE_PDF)
    assert m["options"] == {k: v for k, v in body.items() if k != "url"}
    m = forwarded(ngx, backend, {"url": U, "max_pages": 1, "max_depth": 0},
                  path=SITE_SHOT)
    assert m["options"] == {"max_pages": 1, "max_depth": 0}


@pytest.mark.parametrize("route", [PDF, SHOT])
@pytest.mark.parametrize("field,value", [
    ("crawl_mode", "auto"), ("include_patterns", ["^/a"]),
    ("exclude_patterns", []), ("max_pages", 10), ("max_depth", 1),
])
def test_crawl_fields_refused_on_url_routes(env, route, field, value):
    ngx, backend = env
    err = reject(ngx, backend, {"url": "https://a.example", field: value},
                 400, "invalid_field", field, path=route)
    assert "/v1/convert/website-to-pdf" in err["detail"], err
    assert "/v1/convert/website-to-screenshot" in err["detail"], err


@pytest.mark.parametrize("route,field,value,where", [
    (SITE_SHOT, "pdf_options", {}, ("url-to-pdf", "website-to-pdf")),
    (SITE_SHOT, "single_page", True, ("url-to-pdf", "website-to-pdf")),
    (SITE_PDF, "image_format", "png",
     ("url-to-screenshot", "website-to-screenshot")),
    (SITE_PDF, "full_page", False,
     ("url-to-screenshot", "website-to-screenshot")),
    (SHOT, "pdf_options", {}, ("url-to-pdf", "website-to-pdf")),
    (PDF, "image_quality", 50,
     ("url-to-screenshot", "website-to-screenshot")),
])
def test_fields_of_the_other_kind_refused(env, route, field, value, where):
    ngx, backend = env
    err = reject(ngx, backend, {"url": U, field: value}, 400,
                 "invalid_field", field, path=route)
    for name in where:
        assert "/v1/convert/" + name in err["detail"], err


@pytest.mark.parametrize("route", WEBSITE)
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_other_methods_405(env, route, method):
    ngx, backend = env
    resp = ngx.request(method, route, headers=auth())
    assert resp.status == 405
    assert resp.headers["allow"] == "POST"
    if method != "HEAD":
        assert_error(resp, 405, "method_not_allowed")
    assert backend.messages() == []


@pytest.mark.parametrize("path", [SITE_PDF + "/", SITE_PDF + "/x",
                                  "/v1/convert/website-to-docx",
                                  "/v1/convert/website-to-"])
def test_near_misses_404(env, path):
    ngx, backend = env
    assert_error(ngx.request("POST", path, {"url": U}, auth()), 404,
                 "not_found")


# --- the answers ----------------------------------------------------------------

def test_final_202_after_accepted_relayed(make_env):
    """The worker's 202 comes once the pages are found: after
    enconvert_timeout, within enconvert_sync_timeout."""
    ngx, backend = make_env(timeout="300ms", sync_timeout="3s")
    backend.responder = lambda m: [
        (0, accepted(m, JOB)),
        (0.8, final(m, status=202, body=DISCOVERED))]
    start = time.monotonic()
    resp = ngx.request("POST", SITE_PDF, {"url": U}, auth())
    took = time.monotonic() - start
    assert resp.status == 202, resp.body
    assert resp.body == DISCOVERED
    assert 0.7 < took < 2.5, took


@pytest.mark.parametrize("code,job_id", [("no_sitemap", JOB),
                                         ("no_pages", JOB),
                                         ("invalid_pattern", None)])
def test_final_400_relayed(env, code, job_id):
    ngx, backend = env
    body = ('{"success":false,"error":"%s","detail":"A sentence."%s}'
            % (code, ',"job_id":"%s"' % job_id if job_id
               else ',"field":"exclude_patterns"')).encode()
    backend.responder = lambda m: (
        [(0, accepted(m, job_id))] if job_id else []) + [
        (0.05, final(m, status=400, body=body))]
    resp = ngx.request("POST", SITE_SHOT,
                       {"url": U, "crawl_mode": "sitemap",
                        "exclude_patterns": ["("]}, auth())
    got = assert_error(resp, 400, code)
    assert got.get("job_id") == job_id


@pytest.mark.parametrize("route", WEBSITE)
def test_sync_timeout_after_accepted_answers_202(make_env, route):
    ngx, backend = make_env(timeout="300ms", sync_timeout="900ms")
    backend.responder = lambda m: [(0, accepted(m, JOB))]
    start = time.monotonic()
    resp = ngx.request("POST", route, {"url": U}, auth())
    took = time.monotonic() - start
    assert resp.status == 202, resp.body
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body == {
        "success": True, "status": "processing", "job_id": JOB,
        "batch_id": JOB, "url_count": None, "output_format": "zip",
        "message": "The site's pages are still being discovered. Poll GET "
                   "/v1/convert/batch/" + JOB + " for progress."}
    assert 0.8 < took < 2.5, took
    # the job goes on: no backend timeout counted for it
    assert "backend timed out" not in ngx.log()


def test_sync_timeout_202_names_where_notifications_go(make_env):
    ngx, backend = make_env(timeout="300ms", sync_timeout="600ms")
    notice = "You will be notified at a@example.com when complete."
    backend.responder = lambda m: [(0, accepted(m, JOB, notice))]
    resp = ngx.request("POST", SITE_PDF, {"url": U}, auth())
    assert resp.status == 202, resp.body
    assert resp.json()["message"] == (
        "The site's pages are still being discovered. " + notice
        + " Poll GET /v1/convert/batch/" + JOB + " for progress.")


def test_no_accepted_504(make_env):
    ngx, backend = make_env(timeout="300ms", sync_timeout="5s")
    start = time.monotonic()
    resp = ngx.request("POST", SITE_PDF, {"url": U}, auth())
    assert_error(resp, 504, "backend_timeout")
    assert time.monotonic() - start < 2


def test_lost_worker_after_accepted_answers_202(make_env):
    ngx, backend = make_env(timeout="5s", sync_timeout="20s")
    backend.responder = lambda m: [(0, accepted(m, JOB))]

    def lose():
        time.sleep(0.4)             # the "accepted" has arrived
        backend.close()

    threading.Thread(target=lose, daemon=True).start()
    start = time.monotonic()
    resp = ngx.request("POST", SITE_SHOT, {"url": U}, auth(), timeout=30)
    assert resp.status == 202, resp.body
    body = resp.json()
    assert (body["job_id"], body["batch_id"], body["url_count"],
            body["output_format"]) == (JOB, JOB, None, "zip")
    assert "/v1/convert/batch/" + JOB in body["message"]
    assert time.monotonic() - start < 4


def test_url_routes_keep_their_processing_answer(make_env):
    """A sync url-to-pdf whose wait runs out is answered as before."""
    ngx, backend = make_env(timeout="300ms", sync_timeout="600ms")
    backend.responder = lambda m: [(0, accepted(m, "job_1"))]
    body = ngx.request("POST", PDF, {"url": U}, auth()).json()
    assert body["url_count"] == 1 and "output_format" not in body
    assert "/v1/convert/status/job_1" in body["message"]


# --- metrics ------------------------------------------------------------------

def test_counted_on_their_routes(make_env):
    ngx, backend = make_env(extra_server=METRICS)
    backend.responder = answer_everything
    assert ngx.request("POST", SITE_PDF, {"url": U}, auth()).status == 202
    assert ngx.request("POST", SITE_SHOT, {"url": U}, auth()).status == 202
    assert_error(ngx.request("POST", SITE_SHOT, {"url": [U]}, auth()), 400,
                 "invalid_type", "url")
    assert_error(ngx.request("GET", SITE_PDF), 405, "method_not_allowed")
    expect(ngx, {("website-to-pdf", "202"): 1,
                 ("website-to-screenshot", "202"): 1,
                 ("website-to-screenshot", "400"): 1,
                 ("website-to-pdf", "405"): 1})
