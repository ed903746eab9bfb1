"""Helpers to run the real local stack (scripts/stack.sh) under a temp dir
and talk to it over HTTP, shared by the end-to-end tests."""

import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("ENCONVERT_BUILD", os.path.join(REPO, "build"))
BAD_LOG_LEVELS = re.compile(r"\[(alert|emerg|crit)\]")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


def request(base, method, path, body=None, headers=None, timeout=120):
    """One HTTP request; body may be bytes, str or a JSON-able object."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    hdrs = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        hdrs.setdefault("Content-Type", "application/json")
    try:
        conn.request(method, path, body=body, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        conn.close()


class Stack:
    """A stack started by scripts/stack.sh in its own ENCONVERT_HOME."""

    def __init__(self, home, port=None, workers=1, extra_env=None):
        self.home = home
        self.port = port or free_port()
        self.env = dict(os.environ)
        self.env.update({
            "ENCONVERT_HOME": home,
            "PORT": str(self.port),
            "ENCONVERT_WORKERS": str(workers),
            "ENCONVERT_BUILD": BUILD,
        })
        self.env.update(extra_env or {})
        self.url = f"http://127.0.0.1:{self.port}"
        self.key = None

    def script(self, *args, check=True):
        return subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), *args],
                              env=self.env, capture_output=True, text=True,
                              timeout=300, check=check)

    def start(self):
        r = self.script("start", check=False)
        if r.returncode != 0:
            raise RuntimeError(f"stack start failed:\n{r.stdout}\n{r.stderr}\n"
                               + self.logs())
        self.key = self.read_env()["ENCONVERT_API_KEY"]
        return r

    def stop(self):
        return self.script("stop", check=False)

    def read_env(self):
        with open(os.path.join(self.home, "env")) as f:
            return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)

    def new_key(self, account):
        return self.script("key", account).stdout.strip().splitlines()[-1]

    def logs(self):
        out = []
        logdir = os.path.join(self.home, "log")
        for name in sorted(os.listdir(logdir)) if os.path.isdir(logdir) else []:
            with open(os.path.join(logdir, name), errors="replace") as f:
                out.append(f"--- {name}\n" + "".join(f.readlines()[-40:]))
        return "\n".join(out)

    def bad_nginx_log_lines(self):
        path = os.path.join(self.home, "log", "nginx-error.log")
        if not os.path.exists(path):
            return []
        with open(path, errors="replace") as f:
            return [line for line in f if BAD_LOG_LEVELS.search(line)]

    def call(self, method, path, body=None, key="default", headers=None, **kw):
        hdrs = dict(headers or {})
        if key == "default":
            key = self.key
        if key is not None:
            hdrs.setdefault("Authorization", f"Bearer {key}")
        return request(self.url, method, path, body, hdrs, **kw)

    def wait_terminal(self, job_id, key="default", timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            r = self.call("GET", f"/v1/convert/status/{job_id}", key=key)
            assert r.status == 200, r
            body = r.json()
            if body["status"] != "processing":
                return body
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} still processing after {timeout}s")

    def wait_notifications(self, job_id, timeout=60):
        """The job's status once it is terminal and none of its
        notifications is pending any more (each delivered or failed)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            body = self.wait_terminal(job_id)
            if body["notifications"] and all(n["state"] != "pending"
                                             for n in body["notifications"]):
                return body
            time.sleep(0.3)
        raise AssertionError(f"notifications of {job_id} still pending: {body['notifications']}")

    def download(self, presigned_url):
        u = urllib.parse.urlsplit(presigned_url)
        return request(self.url, "GET", u.path + "?" + u.query)


class FixtureSite:
    """Serves tests/e2e/fixtures/site on a free loopback port."""

    def __init__(self):
        root = os.path.join(os.path.dirname(__file__), "fixtures", "site")
        handler = partial(_QuietHandler, directory=root)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def children_of(pid):
    """{child pid: command name} of process `pid`, from /proc."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out[int(name)] = stat[stat.index("(") + 1:stat.rindex(")")]
    return out


def worker_pid(stack, n=1):
    with open(os.path.join(stack.home, "run", f"worker-{n}.pid")) as f:
        return int(f.read())


def log_entries(path):
    """Every line of a worker log (the worker's and its renderers' JSON lines)
    as dicts; a line that is not JSON fails the test: the log format is one
    JSON object per line."""
    entries = []
    with open(path, errors="replace") as f:
        for line in f:
            if line.strip():
                entries.append(json.loads(line))
    return entries


def wait_for_log_entry(path, timeout, poll=0.2, **fields):
    """The first log entry whose fields include all of `fields`, waiting up
    to `timeout` seconds for it (reading the log every `poll` seconds);
    None if none came."""
    deadline = time.time() + timeout
    while True:
        for e in log_entries(path):
            if all(e.get(k) == v for k, v in fields.items()):
                return e
        if time.time() >= deadline:
            return None
        time.sleep(poll)


def pdftotext(data):
    r = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                       check=True)
    return r.stdout.decode()


# ---- Helpers for tests/e2e/test_api.py: database access, slow and silent
# ---- servers, image headers.

PG_BINDIR = "/usr/lib/postgresql/15/bin"


def pg_user():
    """The cluster's superuser as scripts/stack.sh creates it."""
    import getpass
    return "postgres" if os.geteuid() == 0 else getpass.getuser()


def psql(home, sql):
    """Runs one SQL statement against a stack's database; returns the
    unaligned, tuples-only output."""
    with open(os.path.join(home, "pg.port")) as f:
        port = f.read().strip()
    r = subprocess.run(["psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1",
                        "-h", os.path.join(home, "run", "pg"), "-p", port,
                        "-U", pg_user(), "-d", "enconvert", "-c", sql],
                       capture_output=True, text=True, timeout=60, check=True)
    return r.stdout.strip()


def wait_for_sql(home, sql, expected, timeout=30, poll=0.1):
    """What `sql` answers once it answers `expected`, or when `timeout`
    seconds have passed (for the caller's assert)."""
    deadline = time.time() + timeout
    value = psql(home, sql)
    while value != expected and time.time() < deadline:
        time.sleep(poll)
        value = psql(home, sql)
    return value


def row_counts(home):
    """(jobs, tasks) row counts."""
    out = psql(home, "SELECT (SELECT count(*) FROM jobs) || ',' || "
                     "(SELECT count(*) FROM tasks)")
    jobs, tasks = out.split(",")
    return int(jobs), int(tasks)


def submit_and_wait_rendering(stack, url, timeout=60, wait=30):
    """Submits `url` as an async one-page job and waits (at most `wait`
    seconds) until a worker has claimed its task; returns the job id."""
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": url, "async_mode": True, "timeout": timeout})
    assert r.status == 202, r
    job_id = r.json()["job_id"]
    deadline = time.time() + wait
    while time.time() < deadline and psql(
            stack.home, f"SELECT status FROM tasks WHERE job_id = '{job_id}'") != "processing":
        time.sleep(0.1)
    return job_id


def stop_postgres(home):
    """Stops a stack's PostgreSQL (fast shutdown); start it again with
    Stack.script("db")."""
    cmd = [os.path.join(PG_BINDIR, "pg_ctl"), "-D", os.path.join(home, "pg"),
           "-m", "fast", "-w", "stop"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--"] + cmd
    subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)


class SilentServer:
    """A loopback TCP port that accepts connections (the kernel completes the
    handshake) but never answers: a page that never loads."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/never"

    def close(self):
        self.sock.close()


def send_html(handler, body):
    """Answers a request with 200 and an HTML body."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class LoopbackServer:
    """`handler` (a BaseHTTPRequestHandler class) served on a free loopback
    port from a daemon thread; `base` is its http://127.0.0.1:PORT."""

    def __init__(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SlowSite(LoopbackServer):
    """Serves a small HTML page after `delay` seconds, on a free loopback port."""

    def __init__(self, delay):
        body = (b"<!doctype html><html><head><title>Slow</title></head>"
                b"<body><h1>Slow page gamma</h1></body></html>")

        class Handler(_QuietHandler):
            def do_GET(self):
                time.sleep(delay)
                send_html(self, body)

        super().__init__(Handler)
        self.url = self.base + "/slow"


def decoded_image(data):
    """A PNG, JPEG or WebP decoded with GdkPixbuf: (width, height,
    rowstride, channels, bytes); pixel (x, y) starts at y * rowstride +
    x * channels."""
    import gi
    gi.require_version("GdkPixbuf", "2.0")
    from gi.repository import GdkPixbuf
    loader = GdkPixbuf.PixbufLoader()
    loader.write(data)
    loader.close()
    pb = loader.get_pixbuf()
    return (pb.get_width(), pb.get_height(), pb.get_rowstride(), pb.get_n_channels(),
            pb.get_pixels())


def png_size(data):
    """(width, height) from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def jpeg_size(data):
    """(width, height) from a JPEG's first SOFn segment."""
    assert data[:3] == b"\xff\xd8\xff", data[:16]
    i = 2
    while i + 9 < len(data):
        assert data[i] == 0xFF, f"bad JPEG marker at {i}"
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return (int.from_bytes(data[i + 7:i + 9], "big"),
                    int.from_bytes(data[i + 5:i + 7], "big"))
        i += 2 + length
    raise AssertionError("no SOF segment in JPEG")
