"""block_ads's list on a host that has not compiled it yet (docs/rendering.md,
"block_ads: the list"): nothing is compiled before a job asks for it; a job
whose timeout runs out during the compile fails as a timeout (the renderer
is not taken for hung, the compile goes on); one renderer of the host
compiles while the other waits for its result in the cache. A stack of its
own, with an empty cache directory and two renderers of one view each."""

import os
import shutil

import pytest

from conftest import make_home, running
from stack import Stack, log_entries
from test_render_behaviour import PDF, Site, token

COMPILING = "compiling the ad list (once per list and host)"
WAITING = "another renderer compiles the ad list; waiting for it"


@pytest.fixture(scope="module")
def cold():
    cache = make_home("enc-cache-")
    stack = Stack(make_home("enc-ads-"), extra_env={
        "XDG_CACHE_HOME": cache, "ENCONVERT_RENDERERS": "2",
        "ENCONVERT_VIEWS_PER_RENDERER": "1"})
    site = Site()
    try:
        for s in running(stack):
            yield s, site, os.path.join(cache, "enconvert", "content-filters")
    finally:
        site.close()
        shutil.rmtree(cache, ignore_errors=True)  # a compiled list is 30 MB


def submit(stack, url, timeout):
    r = stack.call("POST", PDF, {"url": url, "block_ads": True, "async_mode": True,
                                 "timeout": timeout})
    assert r.status == 202, r
    return r.json()["job_id"]


def messages(stack):
    return [e.get("msg", "") for e in
            log_entries(os.path.join(stack.home, "log", "worker-1.log"))]


def test_first_use_compiles_once_for_the_host(cold):
    stack, site, cache = cold
    assert COMPILING not in messages(stack)  # starting compiles nothing

    short = stack.wait_terminal(submit(stack, f"{site.base}/ads?t={token()}", 5))
    assert short["status"] == "failed", short
    assert "ad list (block_ads) was still being prepared" in short["tasks"][0]["error"]

    # Submitted while the list compiles: one job a renderer.
    tokens = [token(), token()]
    jobs = [submit(stack, f"{site.base}/ads?t={t}", 300) for t in tokens]
    for job_id in jobs:
        status = stack.wait_terminal(job_id, timeout=330)
        assert status["status"] == "completed", status
    for t in tokens:
        assert site.requested(f"/ads?t={t}")
        assert not site.requested(f"/banner-ad.png?t={t}")

    log = messages(stack)
    assert log.count(COMPILING) == 1
    assert log.count(WAITING) == 1
    assert not [m for m in log if m.endswith("restarting")], log
    files = os.listdir(cache)
    assert [f for f in files if f.startswith("ContentRuleList-enconvert-block-ads-")], files
    assert not [f for f in files if f.startswith("compiling-")], files
