"""Renderer crashes (issue: hardening, defects 2 and 3): the tasks of a
renderer child that dies go back to the queue with their attempt counted
and run again alone, so every innocent page completes, and a page that
kills its renderer on every attempt fails by itself after max_attempts."""

import os
import signal
import time

import pytest

from conftest import make_home, running
from stack import (LoopbackServer, Stack, _QuietHandler, children_of, pdftotext, psql,
                   send_html, worker_pid)

PDF = "/v1/convert/url-to-pdf"


def renderer_pids(stack):
    """Pids of the renderer children of the stack's worker."""
    return [p for p, comm in children_of(worker_pid(stack)).items()
            if comm.startswith("enconvert-rend")]


def kill_renderers(stack):
    pids = renderer_pids(stack)
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    return len(pids)


class CrashSite(LoopbackServer):
    """Pages on loopback: /page/N answers after `delay` seconds; a request
    for /crash kills the renderer that asked for it (a page that crashes
    its renderer every time it is loaded)."""

    def __init__(self, stack, delay):
        owner = self
        self.crash_requests = 0

        class Handler(_QuietHandler):
            def do_GET(self):
                if self.path.startswith("/crash"):
                    owner.crash_requests += 1
                    kill_renderers(stack)
                    return
                time.sleep(delay)
                send_html(self, (f"<!doctype html><title>{self.path}</title>"
                                 f"<h1>Innocent page {self.path}</h1>").encode())

        super().__init__(Handler)
        self.url = self.base


@pytest.fixture(scope="module")
def crash_stack():
    yield from running(Stack(make_home("enc-crash-")))


def task_attempts(stack, job_id):
    out = psql(stack.home, f"SELECT string_agg(attempts::text, ',' ORDER BY position) "
                           f"FROM tasks WHERE job_id = '{job_id}'")
    return [int(a) for a in out.split(",")]


def test_killed_renderers_mid_batch_lose_no_task(crash_stack):
    s = crash_stack
    site = CrashSite(s, delay=1.0)
    try:
        urls = [f"{site.url}/page/{i}" for i in range(10)]
        r = s.call("POST", PDF, {"url": urls})
        assert r.status == 202, r
        job_id = r.json()["job_id"]
        kills = 0
        deadline = time.time() + 60
        while kills < 3 and time.time() < deadline:
            running = psql(s.home, f"SELECT count(*) FROM tasks WHERE job_id = '{job_id}' "
                                   "AND status = 'processing'")
            if int(running) > 0 and kill_renderers(s):
                kills += 1
                time.sleep(1.5)  # let the restarted renderer take work again
            time.sleep(0.1)
        assert kills == 3
        final = s.wait_terminal(job_id, timeout=180)
    finally:
        site.close()
    assert final["status"] == "completed"
    assert [t["status"] for t in final["tasks"]] == ["success"] * len(urls), final
    attempts = task_attempts(s, job_id)
    assert max(attempts) >= 2, attempts  # the killed ones were rendered again
    for i, t in enumerate(final["tasks"]):
        file = s.download(t["presigned_url"])
        assert f"Innocent page /page/{i}" in pdftotext(file.body)


def test_page_that_crashes_every_renderer_fails_alone(crash_stack):
    s = crash_stack
    site = CrashSite(s, delay=0.5)
    try:
        urls = [f"{site.url}/page/a", f"{site.url}/crash", f"{site.url}/page/b",
                f"{site.url}/page/c"]
        r = s.call("POST", PDF, {"url": urls})
        assert r.status == 202, r
        final = s.wait_terminal(r.json()["job_id"], timeout=180)
    finally:
        site.close()
    statuses = [t["status"] for t in final["tasks"]]
    assert statuses == ["success", "failed", "success", "success"], final
    crashed = final["tasks"][1]
    assert crashed["error"] == \
        "Failed to render page: it crashed the renderer on each of 3 attempts."
    assert task_attempts(s, final["job_id"])[1] == 3
    assert site.crash_requests == 3
    row = psql(s.home, f"SELECT error_code FROM tasks WHERE job_id = '{final['job_id']}' "
                       "AND position = 1")
    assert row == "renderer_crashed"
