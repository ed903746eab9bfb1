"""make run / make stop behaviour: var/env, pid files, re-running start,
several worker processes, and stop leaving nothing behind."""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from stack import BUILD, REPO, Stack, request, wait_for_log_entry, worker_pid


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


def wait_gone(pid, timeout=20):
    deadline = time.time() + timeout
    while pid_alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not pid_alive(pid), f"process {pid} is still running"


def test_start_and_stop_go_by_what_runs_not_by_a_stale_pid_file(fresh_home, site):
    """A worker that died and was never reaped (a zombie: whoever adopted
    it may never wait for it) is started again by `make run`; a pid file
    naming some other program is neither taken for our worker nor killed
    by `make stop`."""
    s = Stack(fresh_home)
    pidfile = os.path.join(fresh_home, "run", "worker-1.pid")
    zombie = subprocess.Popen(["true"])  # this test never waits for it
    other = subprocess.Popen(["sleep", "120"])
    try:
        s.start()
        with open(pidfile) as f:
            first = int(f.read())
        os.kill(first, signal.SIGKILL)
        wait_gone(first)
        wait_gone(zombie.pid)
        assert os.path.exists(f"/proc/{zombie.pid}")  # exited, not reaped
        with open(pidfile, "w") as f:
            f.write(str(zombie.pid))

        s.start()
        with open(pidfile) as f:
            second = int(f.read())
        assert second != zombie.pid and pid_alive(second)
        r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
        assert r.status == 200, r

        # The number of a process of ours that ended long ago, now another
        # program's: `make stop` leaves that program alone.
        os.kill(second, signal.SIGKILL)
        wait_gone(second)
        with open(pidfile, "w") as f:
            f.write(str(other.pid))
        s.stop()
        assert other.poll() is None, "make stop killed a process that is not ours"
        assert not os.path.exists(pidfile)
    finally:
        s.stop()
        zombie.wait()
        other.kill()
        other.wait()


def test_a_sighup_neither_stops_nor_kills_the_worker(fresh_home, site):
    """SIGHUP (a closed terminal, a "reload" habit) used to end the worker
    by its default action: no stop, nothing handed back, and under systemd
    no restart (a signal's exit looks deliberate). It is logged and
    ignored: the configuration is read only at start."""
    s = Stack(fresh_home)
    try:
        s.start()
        pid = worker_pid(s)
        os.kill(pid, signal.SIGHUP)
        log = os.path.join(fresh_home, "log", "worker-1.log")
        assert wait_for_log_entry(log, 10, msg="SIGHUP ignored: the configuration is read only "
                                               "at start; restart the worker to apply a change"), \
            s.logs()
        assert pid_alive(pid)
        r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
        assert r.status == 200, r
        assert worker_pid(s) == pid
    finally:
        s.stop()


def test_under_umask_0027_nginx_connects_and_stored_files_are_not_group_writable(
        fresh_home, site):
    """The package's unit runs the worker with UMask=0027: nginx (the
    socket's group) still connects, as the worker makes its ipc:// socket
    group-writable itself, and what it stores is readable by that group,
    not writable. The unit used UMask=0007 for the socket's sake: every
    www-data process could rewrite or delete any tenant's files."""
    s = Stack(fresh_home, extra_env={"ENCONVERT_WORKER_UMASK": "0027"})
    try:
        s.start()
        sock = os.path.join(fresh_home, "run", "worker-1.sock")
        assert os.stat(sock).st_mode & 0o777 == 0o660, oct(os.stat(sock).st_mode)
        r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
        assert r.status == 200, r
        stored = []
        for root, dirs, files in os.walk(os.path.join(fresh_home, "storage")):
            stored += [os.path.join(root, f) for f in files]
        assert stored
        for path in stored:
            assert os.stat(path).st_mode & 0o022 == 0, (path, oct(os.stat(path).st_mode))
    finally:
        s.stop()


def copy_build(dest):
    """What a stack runs of the build (the binaries; the renderer's files
    beside it), copied, so that a test may make them look rebuilt without
    touching the real build."""
    render = "worker/src/render_child"
    for rel in ("worker/enconvert-worker", "nginx/ngx_http_enconvert_module.so",
                f"{render}/enconvert-render", f"{render}/fonts.conf", f"{render}/ad_rules.json",
                f"{render}/web-extension"):
        target = os.path.join(dest, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.isdir(os.path.join(BUILD, rel)):
            shutil.copytree(os.path.join(BUILD, rel), target)
        else:
            shutil.copy2(os.path.join(BUILD, rel), target)
    return dest


def rebuilt(path):
    """Makes `path` look built after everything running started."""
    later = time.time() + 5
    os.utime(path, (later, later))


def nginx_master_pid(s):
    with open(os.path.join(s.home, "run", "nginx.pid")) as f:
        return int(f.read())


def test_start_again_restarts_what_is_out_of_date(fresh_home, site):
    """`make run` after a change runs the change: a worker whose binaries
    were rebuilt, or whose settings changed, is restarted, and nginx when
    the module was rebuilt (a reload keeps the module the master loaded).
    Before, a running worker was left as it was and nginx only reloaded:
    the old code and settings went on serving under "enconvert is
    running"."""
    build = copy_build(os.path.join(fresh_home, "build"))
    s = Stack(fresh_home, extra_env={"ENCONVERT_BUILD": build})
    try:
        s.start()
        worker, master = worker_pid(s), nginx_master_pid(s)

        s.start()  # nothing changed: nothing restarted
        assert (worker_pid(s), nginx_master_pid(s)) == (worker, master)

        render = os.path.join(build, "worker", "src", "render_child", "enconvert-render")
        rebuilt(render)
        s.start()
        assert worker_pid(s) != worker
        assert nginx_master_pid(s) == master
        worker = worker_pid(s)
        # Built long ago again: only the setting below may restart it now.
        os.utime(render, (time.time() - 3600, time.time() - 3600))
        s.start()
        assert worker_pid(s) == worker

        # A setting with a '&' (an SMTP URL's query string) reaches the
        # configuration as written: bash 5.2's pattern substitution put the
        # matched text in its place.
        s.env["ENCONVERT_WORKER_EXTRA"] = "# a setting's comment: ?a=1&b=2"
        s.start()
        assert worker_pid(s) != worker
        with open(os.path.join(fresh_home, "worker-1.conf")) as f:
            assert "# a setting's comment: ?a=1&b=2\n" in f.read()

        rebuilt(os.path.join(build, "nginx", "ngx_http_enconvert_module.so"))
        s.start()
        assert nginx_master_pid(s) != master
        wait_gone(master)
        r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
        assert r.status == 200, r
    finally:
        s.stop()
    assert not s.bad_nginx_log_lines()


def test_a_kept_api_key_the_database_no_longer_knows_is_replaced(fresh_home):
    """`make stop; rm -rf var/pg; make run` (a new database) printed the key
    of the old one: the curl example answered 401. The env file holding
    the key is the owner's alone."""
    s = Stack(fresh_home)
    try:
        s.start()
        old = s.key
        s.stop()
        shutil.rmtree(os.path.join(fresh_home, "pg"))
        out = s.start()
        assert s.key != old
        assert s.key in out.stdout
        assert s.call("GET", "/v1/convert/status/job_nothing").status == 404
        assert s.call("GET", "/v1/convert/status/job_nothing", key=old).status == 401
        assert os.stat(os.path.join(fresh_home, "env")).st_mode & 0o077 == 0
    finally:
        s.stop()


def test_a_cluster_whose_creation_was_killed_is_made_again(fresh_home):
    """initdb writes PG_VERSION first: killed half way (a kill -9, the OOM
    killer, a CI timeout) it left a cluster that every later run took for
    made and could not start ("PostgreSQL did not start")."""
    s = Stack(fresh_home)
    first = subprocess.Popen([os.path.join(REPO, "scripts", "stack.sh"), "db"], env=s.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        deadline = time.time() + 60
        marks = [os.path.join(fresh_home, d, "PG_VERSION") for d in ("pg", "pg.new")]
        while not any(os.path.exists(m) for m in marks) and time.time() < deadline:
            time.sleep(0.01)
        assert any(os.path.exists(m) for m in marks), "initdb never started"
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        s.start()
        assert s.call("GET", "/v1/convert/status/job_nothing").status == 404
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
        s.stop()


def test_two_starts_at_once_start_one_worker(fresh_home):
    """Two `make run`s at once (two terminals) both found nothing running:
    each started a worker, the second took the first's socket and pid
    file, and `make stop` never stopped the first."""
    s = Stack(fresh_home)
    runs = [subprocess.Popen([os.path.join(REPO, "scripts", "stack.sh"), "start"], env=s.env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    try:
        for r in runs:
            _, err = r.communicate(timeout=300)
            assert r.returncode == 0, err
        conf = os.path.join(fresh_home, "worker-1.conf")
        workers = [p for p in os.listdir("/proc") if p.isdigit() and pid_alive(int(p))
                   and conf in cmdline(int(p))]
        assert len(workers) == 1, workers
    finally:
        s.stop()


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_kept_metrics_port_something_else_took_is_replaced(fresh_home):
    """The worker's metrics port is picked once and kept; picked from the
    range outgoing connections use, it may be taken by the next start. The
    worker then could not listen, and every `make run` failed after a
    minute's wait for health."""
    s = Stack(fresh_home)
    port_file = os.path.join(fresh_home, "metrics-1.port")
    holder = socket.socket()
    try:
        s.start()
        s.stop()
        with open(port_file) as f:
            taken = int(f.read())
        holder.bind(("127.0.0.1", taken))
        holder.listen()
        s.start()
        with open(port_file) as f:
            port = int(f.read())
        assert port != taken
        assert s.read_env()["ENCONVERT_METRICS_URL"] == f"http://127.0.0.1:{port}/metrics"
        r = request(f"http://127.0.0.1:{port}", "GET", "/metrics")
        assert r.status == 200, r
    finally:
        holder.close()
        s.stop()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_to_the_starting_commands_group_leaves_the_worker_running(fresh_home, sig):
    """Ctrl-C in the terminal of `make run`, or a task runner ending it,
    signals its whole process group: the worker was in it (nginx and
    PostgreSQL are not, they start sessions of their own) and stopped,
    leaving the rest running without it."""
    s = Stack(fresh_home)
    run = subprocess.Popen([os.path.join(REPO, "scripts", "stack.sh"), "start"], env=s.env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                           start_new_session=True)
    try:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        pid = worker_pid(s)
        log = os.path.join(fresh_home, "log", "worker-1.log")
        # Waiting for its signals only once it is ready.
        assert wait_for_log_entry(log, 60, msg="ready"), s.logs()
        try:
            os.killpg(run.pid, sig)
        except ProcessLookupError:
            pass  # nothing of ours is left in that group: the point
        assert not wait_for_log_entry(log, 3, msg="stopping"), "the group's signal stopped it"
        assert pid_alive(pid)
    finally:
        s.stop()


def test_a_home_too_long_for_its_sockets_is_refused_by_name(fresh_home):
    """Unix socket paths hold 107 bytes: under a long checkout path
    PostgreSQL failed with only "see postgres.log" to go by."""
    home = os.path.join(fresh_home, "x" * (81 - len(fresh_home) - 1))
    assert len(home) == 81
    s = Stack(home)
    r = s.script("start", check=False)
    assert r.returncode != 0
    assert f"{home} is 81 characters long" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(home, "pg")), "started before refusing"


def test_a_home_with_white_space_is_refused_by_name(fresh_home):
    """nginx's configure, its configuration and PostgreSQL's options split
    on white space: such a path failed far from its cause."""
    home = os.path.join(fresh_home, "my stack")
    r = Stack(home).script("start", check=False)
    assert r.returncode != 0
    assert "has white space in it" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(home, "pg"))
