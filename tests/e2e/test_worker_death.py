"""A worker killed with SIGKILL takes its Xvfb and renderer children with it
(issue: hardening, defect 7): they start with a clean signal mask and die
with their parent (PR_SET_PDEATHSIG)."""

import itertools
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import make_home, running
from stack import (SlowSite, Stack, children_of, psql, submit_and_wait_rendering,
                   wait_for_log_entry, worker_pid)


def blocked_signals(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("SigBlk:"):
                return int(line.split()[1], 16)
    raise AssertionError("no SigBlk line")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.fixture
def lone_stack():
    yield from running(Stack(make_home("enc-death-")))


def test_sigkilled_worker_leaves_no_xvfb_or_renderer(lone_stack):
    worker = worker_pid(lone_stack)
    # The API answers while the renderers still start: wait for them.
    deadline = time.time() + 30
    kids = children_of(worker)
    while time.time() < deadline and not any(c.startswith("enconvert-rend")
                                             for c in kids.values()):
        time.sleep(0.1)
        kids = children_of(worker)
    xvfb = [p for p, c in kids.items() if c == "Xvfb"]
    renderers = [p for p, c in kids.items() if c.startswith("enconvert-rend")]
    assert len(xvfb) == 1 and renderers, kids
    # An inherited mask stays; the engine blocks signals only for a moment
    # (while it starts threads), so wait a little for an empty one.
    for pid in xvfb + renderers:
        deadline = time.time() + 10
        while blocked_signals(pid) != 0 and time.time() < deadline:
            time.sleep(0.05)
        assert blocked_signals(pid) == 0, f"{kids[pid]} runs with signals blocked"

    os.kill(worker, signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(p) for p in xvfb + renderers):
        time.sleep(0.1)
    left = [kids[p] for p in xvfb + renderers if alive(p)]
    assert not left, f"still running after the worker's SIGKILL: {left}"


@pytest.fixture
def two_workers():
    yield from running(Stack(make_home("enc-takeover-"), workers=2))


def test_dead_workers_tasks_are_taken_over_within_30_s(two_workers):
    """Leases are short and renewed while a task runs (defect 6): when the
    worker rendering a batch dies, the other worker takes its tasks over
    within the lease (20 s by default), not after minutes."""
    s = two_workers
    slow = SlowSite(delay=4)
    try:
        r = s.call("POST", "/v1/convert/url-to-pdf",
                   {"url": [slow.url + f"?n={i}" for i in range(4)]})
        assert r.status == 202, r
        job_id = r.json()["job_id"]
        owners = ""
        deadline = time.time() + 30
        while time.time() < deadline and not owners:
            owners = psql(s.home, "SELECT string_agg(DISTINCT lease_owner, ',') FROM tasks "
                                  f"WHERE job_id = '{job_id}' AND status = 'processing'")
            time.sleep(0.1)
        assert owners, "no task was ever claimed"
        victim = owners.split(",")[0]  # local-N
        n = int(victim.split("-")[1])
        os.kill(worker_pid(s, n), signal.SIGKILL)
        killed_at = time.time()
        # Every task the dead worker held is claimed by the other one.
        while time.time() < killed_at + 60:
            held = psql(s.home, "SELECT count(*) FROM tasks WHERE job_id = "
                                f"'{job_id}' AND lease_owner = '{victim}' "
                                "AND status = 'processing'")
            if int(held) == 0:
                break
            time.sleep(0.2)
        taken_over_after = time.time() - killed_at
        final = s.wait_terminal(job_id, timeout=120)
    finally:
        slow.close()
    assert taken_over_after < 30, f"tasks waited {taken_over_after:.1f} s for a new owner"
    assert final["status"] == "completed"
    assert [t["status"] for t in final["tasks"]] == ["success"] * 4, final


def test_requests_in_flight_when_a_worker_stops_are_answered(two_workers):
    """A worker stopped (SIGTERM, a restart or an upgrade) while jobs are
    submitted: every submission is accepted, by it or by the other worker,
    and every job it reported exists; none is answered 503 "may have been
    created" because the stopping worker's answers were dropped."""
    s = two_workers
    stopped = worker_pid(s, 1)
    gone = threading.Event()        # set once the stopped worker has exited

    def submit_until_gone(first):
        # submits before the stop, during it and after it
        answers = []
        for i in itertools.count(first, 16):
            answers.append(s.call("POST", "/v1/convert/url-to-pdf",
                                  {"url": f"http://127.0.0.1:9/{i}", "async_mode": True}))
            if gone.is_set() or i > 100000:
                return answers

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(submit_until_gone, t) for t in range(16)]
        deadline = time.time() + 60
        while int(psql(s.home, "SELECT count(*) FROM jobs")) < 200 and time.time() < deadline:
            time.sleep(0.05)
        os.kill(stopped, signal.SIGTERM)
        deadline = time.time() + 20
        while alive(stopped) and time.time() < deadline:
            time.sleep(0.05)
        gone.set()
        answers = [a for f in futures for a in f.result()]
    assert not alive(stopped), "the worker did not stop"
    refused = [r.json() for r in answers if r.status != 202]
    assert not refused, refused[:3]
    job_ids = {r.json()["job_id"] for r in answers}
    assert len(job_ids) == len(answers)
    assert int(psql(s.home, "SELECT count(*) FROM jobs")) == len(answers)
    assert "is stopping" in open(os.path.join(s.home, "log", "nginx-error.log")).read()


def test_render_whose_lease_is_lost_is_stopped(lone_stack):
    """A worker that can no longer renew a task's lease (here: another
    owner took it) cancels the render instead of completing it twice."""
    s = lone_stack
    slow = SlowSite(delay=25)
    try:
        job_id = submit_and_wait_rendering(s, slow.url)
        psql(s.home, f"UPDATE tasks SET lease_owner = 'thief', lease_expires_at = "
                     f"now() + interval '1 hour' WHERE job_id = '{job_id}'")
        log = os.path.join(s.home, "log", "worker-1.log")
        # A renewal comes every lease/3 (~7 s): it finds the lease gone and
        # the renderer stops the page.
        assert wait_for_log_entry(log, 20, msg="render cancelled", why="lease lost",
                                  job_id=job_id), s.logs()
        assert wait_for_log_entry(log, 10, msg="render failed", error_code="cancelled",
                                  job_id=job_id), s.logs()
        # The task stays the thief's: nothing was recorded over it.
        row = psql(s.home, f"SELECT status || ',' || lease_owner FROM tasks "
                           f"WHERE job_id = '{job_id}'")
        assert row == "processing,thief", row
    finally:
        slow.close()


def test_renderers_stopped_from_outside_cost_their_pages_no_attempt():
    """A service manager that signals every process of the service at once
    (systemd's default KillMode) stops the renderers under their pages:
    that is no crash of the page. The render runs again, no attempt is used
    and the task is not marked to run alone (with max_attempts 1 the job
    failed as "crashed the renderer")."""
    s = Stack(make_home("enc-stopped-"),
              extra_env={"ENCONVERT_WORKER_EXTRA": "max_attempts = 1"})
    slow = SlowSite(delay=3)
    try:
        s.start()
        r = s.call("POST", "/v1/convert/url-to-pdf", {"url": slow.url, "async_mode": True})
        assert r.status == 202, r
        job_id = r.json()["job_id"]
        deadline = time.time() + 30
        while time.time() < deadline and psql(
                s.home, f"SELECT status FROM tasks WHERE job_id = '{job_id}'") != "processing":
            time.sleep(0.05)
        renderers = [p for p, c in children_of(worker_pid(s)).items()
                     if c.startswith("enconvert-rend")]
        assert renderers
        for pid in renderers:
            os.kill(pid, signal.SIGTERM)
        final = s.wait_terminal(job_id, timeout=90)
        assert final["status"] == "completed", final
        row = psql(s.home, f"SELECT attempts || ',' || run_alone FROM tasks "
                           f"WHERE job_id = '{job_id}'")
        assert row == "1,false", row
    finally:
        slow.close()
        s.stop()
