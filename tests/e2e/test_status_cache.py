"""A finished job's status kept by nginx, end to end: once the
worker has answered a finished job's status, nginx answers the next polls
itself (counted by enconvert_status_cache_hits_total), with the worker's
answer but links signed afresh on every call that download the files;
another account's key still gets 404 from a warm zone."""

import re
import time
import urllib.parse

from stack import pdftotext

PDF = "/v1/convert/url-to-pdf"
LINK_QUERY = re.compile(r"\?expires=\d+&signature=[0-9a-f]{64}")


def hits(stack):
    r = stack.call("GET", "/metrics", key=None)
    assert r.status == 200, r
    m = re.search(r"^enconvert_status_cache_hits_total (\d+)$", r.body.decode(), re.M)
    assert m, r.body
    return int(m.group(1))


def without_links(body):
    return LINK_QUERY.sub("", body.decode())


def links(body):
    return [t["presigned_url"] for t in body["tasks"] if t["status"] == "success"]


def next_second():
    """Waits (bounded) until the clock enters the next second, so links
    signed now cannot equal links signed before."""
    target = int(time.time()) + 1
    deadline = time.monotonic() + 2
    while time.time() < target and time.monotonic() < deadline:
        time.sleep(0.02)
    assert time.time() >= target


def test_a_finished_jobs_status_is_answered_by_nginx_with_fresh_links(stack, site):
    urls = [site.url + "/hello.html", site.url + "/hello.html?copy=2"]
    r = stack.call("POST", PDF, {"url": urls})
    assert r.status == 202, r
    job_id = r.json()["job_id"]
    stack.wait_terminal(job_id)
    path = f"/v1/convert/status/{job_id}"

    # the worker's answer to a poll of the finished job is what nginx keeps
    from_worker = stack.call("GET", path)
    assert from_worker.status == 200, from_worker
    assert from_worker.json()["status"] == "completed"
    before = hits(stack)

    next_second()
    kept = stack.call("GET", path)
    assert kept.status == 200, kept
    assert hits(stack) == before + 1
    assert kept.headers["content-type"] == "application/json"
    assert without_links(kept.body) == without_links(from_worker.body)

    next_second()
    again = stack.call("GET", path)
    assert hits(stack) == before + 2
    seen = [links(from_worker.json()), links(kept.json()), links(again.json())]
    assert len(seen[0]) == 2
    for i in range(2):
        assert len({s[i] for s in seen}) == 3, "a link was handed out twice"
    for url in links(kept.json()) + links(again.json()):
        expires = int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["expires"][0])
        assert expires > time.time() + 60
        dl = stack.download(url)
        assert dl.status == 200, dl
        assert "Quarterly report alpha" in pdftotext(dl.body)


def test_another_account_gets_404_from_a_warm_zone(stack, site):
    r = stack.call("POST", PDF, {"url": site.url + "/hello.html", "async_mode": True})
    assert r.status == 202, r
    job_id = r.json()["job_id"]
    stack.wait_terminal(job_id)
    path = f"/v1/convert/status/{job_id}"
    assert stack.call("GET", path).status == 200
    before = hits(stack)
    assert stack.call("GET", path).status == 200
    assert hits(stack) == before + 1            # warm

    other = stack.new_key("cache-other")
    unknown = stack.call("GET", "/v1/convert/status/job_" + "f" * 32, key=None,
                         headers={"X-API-Key": other})
    for hdrs in ({"Authorization": f"Bearer {other}"}, {"X-API-Key": other}):
        for _ in range(2):
            theirs = stack.call("GET", path, key=None, headers=hdrs)
            assert theirs.status == 404, theirs
            assert theirs.body == unknown.body
    assert hits(stack) == before + 1            # never from the zone
    # the owner's key still is
    assert stack.call("GET", path).status == 200
    assert hits(stack) == before + 2
