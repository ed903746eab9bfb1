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


def pdftotext(data):
    r = subprocess.run(["pdftotext", "-", "-"], input=data, capture_output=True,
                       check=True)
    return r.stdout.decode()
