"""make run / make stop behaviour: var/env, pid files, re-running start,
several worker processes, and stop leaving nothing behind."""

import os
import time

from stack import Stack, request


def pid_alive(pid):
    """True for a running process; a zombie (exited, not yet reaped by
    whoever adopted it) counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_start_twice_then_stop(fresh_home, site):
    s = Stack(fresh_home, workers=2)
    # What a killed worker left in the scratch directory hours ago.
    scratch = os.path.join(fresh_home, "storage", ".tmp")
    os.makedirs(scratch)
    stale = os.path.join(scratch, "task_7.pdf.part")
    with open(stale, "w") as f:
        f.write("half a PDF")
    os.utime(stale, (time.time() - 7 * 3600, time.time() - 7 * 3600))
    try:
        out = s.start()
        assert s.key in out.stdout
        assert "curl" in out.stdout
        env = s.read_env()
        assert env["ENCONVERT_URL"] == s.url
        assert env["ENCONVERT_API_KEY"].startswith("sk_live_")
        run = os.path.join(fresh_home, "run")
        pidfiles = sorted(f for f in os.listdir(run) if f.endswith(".pid"))
        assert pidfiles == ["nginx.pid", "worker-1.pid", "worker-2.pid"]
        pids = [int(open(os.path.join(run, f)).read()) for f in pidfiles]
        assert all(pid_alive(p) for p in pids)
        deadline = time.time() + 20
        while os.path.exists(stale) and time.time() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(stale), "stale scratch file left"

        # Requests succeed with two worker processes behind the module.
        for _ in range(4):
            r = s.call("POST", "/v1/convert/url-to-pdf",
                       {"url": site.url + "/hello.html"})
            assert r.status == 200, r

        s.start()  # again, while up
        assert s.read_env()["ENCONVERT_API_KEY"] == env["ENCONVERT_API_KEY"]
        assert request(s.url, "GET", "/v1/health").status == 200
        assert all(pid_alive(p) for p in pids[1:])
    finally:
        s.stop()
    assert not any(pid_alive(p) for p in pids)
    try:
        r = request(s.url, "GET", "/v1/health", timeout=2)
        assert r.status != 200
    except OSError:
        pass  # nothing listens any more: expected
    assert not s.bad_nginx_log_lines()


def test_worker_down_gives_fast_503(fresh_home, site):
    s = Stack(fresh_home)
    try:
        s.start()
        with open(os.path.join(fresh_home, "run", "worker-1.pid")) as f:
            pid = int(f.read())
        os.kill(pid, 15)
        deadline = time.time() + 20
        while pid_alive(pid) and time.time() < deadline:
            time.sleep(0.1)
        assert not pid_alive(pid), "worker did not stop on SIGTERM"
        t0 = time.time()
        r = s.call("POST", "/v1/convert/url-to-pdf",
                   {"url": site.url + "/hello.html", "async_mode": True})
        assert r.status == 503, r
        assert "retry-after" in r.headers
        assert time.time() - t0 < 1.5
        assert r.json()["success"] is False
    finally:
        s.stop()
