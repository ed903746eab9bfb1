"""Helpers for the nginx module tests: a real /usr/sbin/nginx with the
enconvert module loaded, and a scripted fake worker (zmq ROUTER)."""

import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time

import msgpack
import zmq
import zmq.utils.z85
from zmq.utils.monitor import recv_monitor_message

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# ENCONVERT_BUILD: the CMake build directory whose module is tested (as for
# scripts/build-module.sh; make sanitize: its ASan build), default build/
MODULE = os.path.join(os.environ.get("ENCONVERT_BUILD",
                                     os.path.join(REPO, "build")),
                      "nginx", "ngx_http_enconvert_module.so")
NGINX = os.environ.get("ENCONVERT_NGINX", "/usr/sbin/nginx")

API_KEY = "sk_live_" + "A1b2C3d4E5" * 4          # 48 characters
SECRET = "0123456789abcdef" * 4

# ENCONVERT_VALGRIND=1: run nginx under valgrind and fail on its reports
# (timing assertions may fail then; use it to look for memory errors)
VALGRIND = os.environ.get("ENCONVERT_VALGRIND") == "1"


def wait_for(pred, timeout=3.0):
    """Polls `pred` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeBackend:
    """A zmq ROUTER standing in for the worker.

    `responder(msg)` returns a list of (delay_seconds, reply) where reply
    is a dict (packed with msgpack) or raw bytes.  The default responder
    sends nothing.

    With `curve_secret` (a Z85 secret key, bytes) the ROUTER is a CURVE
    server like the worker's, and a ZAP handler lets in only the client
    public keys in `allowed_clients` (Z85, bytes); `zap_seen` lists
    (key, allowed) for every client that tried."""

    def __init__(self, endpoint, curve_secret=None, allowed_clients=()):
        self.endpoint = endpoint
        self.received = []
        self.responder = lambda msg: []
        # "whoami" is answered 200 here, not recorded (False: responder)
        self.knows_keys = True
        self.key_checks = []
        self.zap_seen = []
        self.allowed_clients = set(allowed_clients)
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._zap = None
        if curve_secret is not None:
            self._zap = self._ctx.socket(zmq.REP)
            self._zap.setsockopt(zmq.LINGER, 0)
            self._zap.bind("inproc://zeromq.zap.01")
            self._sock.curve_server = True
            self._sock.curve_secretkey = curve_secret
            self._sock.zap_domain = b"enconvert"
        self._sock.bind(endpoint)
        # the port the system chose for "tcp://127.0.0.1:*"
        self.endpoint = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._monitor = self._sock.get_monitor_socket(
            zmq.EVENT_HANDSHAKE_SUCCEEDED)
        self.connected = threading.Event()
        self.handshakes = 0         # DEALERs connected (one per nginx worker)
        self._stop = threading.Event()
        self._outbox = []           # (due, identity, payload)
        self.hold = False           # True: replies wait in the outbox
        self._identities = set()    # the DEALERs that sent something
        self._say_stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        poller.register(self._monitor, zmq.POLLIN)
        if self._zap is not None:
            poller.register(self._zap, zmq.POLLIN)
        while not self._stop.is_set():
            events = dict(poller.poll(20))
            if self._zap is not None and self._zap in events:
                self._answer_zap()
            if self._monitor in events:
                ev = recv_monitor_message(self._monitor)
                if ev["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                    self.handshakes += 1
                    self.connected.set()
            if self._say_stopping.is_set():
                self._say_stopping.clear()
                for ident in self._identities:
                    self._sock.send_multipart([ident, msgpack.packb(
                        {"v": 1, "id": 0, "kind": "stopping"})])
            if self._sock in events:
                frames = self._sock.recv_multipart()
                ident, payload = frames[0], frames[1:]
                self._identities.add(ident)
                msg = msgpack.unpackb(payload[0], raw=False) \
                    if len(payload) == 1 else None
                if self.knows_keys and msg and msg.get("op") == "whoami":
                    # the module asks about the key before it refuses a
                    # body: a worker that knows every key (key_checks)
                    self.key_checks.append(msg)
                    replies = [(0, final(msg, status=200,
                                         body=b'{"project_id":"p1"}'))]
                else:
                    with self._lock:
                        self.received.append({"frames": len(payload),
                                              "msg": msg})
                    replies = self.responder(msg)
                now = time.monotonic()
                for delay, reply in replies:
                    if isinstance(reply, dict):
                        reply = msgpack.packb(reply, use_bin_type=True)
                    self._outbox.append((now + delay, ident, reply))
            if self.hold:
                continue
            now = time.monotonic()
            due = [o for o in self._outbox if o[0] <= now]
            self._outbox = [o for o in self._outbox if o[0] > now]
            for _, ident, payload in sorted(due, key=lambda o: o[0]):
                self._sock.send_multipart([ident, payload])

    def _answer_zap(self):
        # version, request id, domain, address, identity, mechanism, key
        frames = self._zap.recv_multipart()
        key = zmq.utils.z85.encode(frames[6]) \
            if len(frames) == 7 and frames[5] == b"CURVE" else b""
        ok = key in self.allowed_clients
        self.zap_seen.append((key, ok))
        self._zap.send_multipart([b"1.0", frames[1],
                                  b"200" if ok else b"400",
                                  b"OK" if ok else b"not allowed", b"", b""])

    def say_stopping(self):
        """Tells every module that sent something that this worker stops,
        as the worker does on SIGTERM."""
        self._say_stopping.set()

    def unsent(self):
        """Replies not yet handed to zmq (held, or not yet due)."""
        return len(self._outbox)

    def messages(self):
        with self._lock:
            return [r["msg"] for r in self.received]

    def close(self, linger_ms=0):
        """Stops it; `linger_ms` lets the replies sent so far still go
        out (the worker's own socket lingers as it exits)."""
        if self._stop.is_set():
            return                  # closed already (idempotent)
        self._stop.set()
        self._thread.join(2)
        self._sock.disable_monitor()
        self._monitor.close()
        self._sock.close(linger=linger_ms)
        if self._zap is not None:
            self._zap.close()
        self._ctx.term()


def final(msg, status=200, body=b"", content_type="application/json",
          headers=None, **extra):
    reply = {"v": 1, "id": msg["id"], "kind": "final", "status": status,
             "content_type": content_type, "body": body}
    if headers is not None:
        reply["headers"] = headers
    reply.update(extra)
    return reply


def accepted(msg, job_id, notice=None):
    reply = {"v": 1, "id": msg["id"], "kind": "accepted", "job_id": job_id}
    if notice is not None:
        reply["notice"] = notice
    return reply


class Nginx:
    def __init__(self, tmp, module, backend_endpoints, extra_http="",
                 extra_api="", extra_server="", timeout="1s",
                 sync_timeout="1500ms", worker_processes=1, listen_opts="",
                 server_name="localhost"):
        self.tmp = tmp
        self.port = free_port()
        self.error_log = os.path.join(tmp, "error.log")
        self.storage = os.path.join(tmp, "storage")
        os.makedirs(self.storage, exist_ok=True)
        os.makedirs(os.path.join(tmp, "logs"), exist_ok=True)
        secret_file = os.path.join(tmp, "secret")
        with open(secret_file, "w") as f:
            f.write(SECRET + "\n")
        user = "user root;" if os.geteuid() == 0 else ""
        temp = "".join(
            f"{d}_temp_path {tmp}/{d}_temp;\n    "
            for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        self.conf = os.path.join(tmp, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
load_module {module};
{user}
worker_processes {worker_processes};
daemon off;
master_process on;
pid {tmp}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 256; }}
http {{
    access_log off;
    {temp}
    enconvert_backend {' '.join(backend_endpoints)};
    enconvert_signing_secret_file {secret_file};
    enconvert_timeout {timeout};
    enconvert_sync_timeout {sync_timeout};
    {extra_http}
    server {{
        listen 127.0.0.1:{self.port} {listen_opts};
        server_name {server_name};
        location /v1/ {{
            enconvert_api;
            {extra_api}
        }}
        location = /health {{
            enconvert_api;
        }}
        location /_enconvert_files/ {{
            internal;
            alias {self.storage}/;
        }}
        {extra_server}
    }}
}}
""")
        wrapper = []
        if VALGRIND:
            wrapper = ["valgrind", "-q", f"--log-file={tmp}/valgrind.%p.log",
                       "--error-exitcode=99"]
        self.proc = subprocess.Popen(
            wrapper + [NGINX, "-p", tmp, "-c", self.conf,
                       "-e", self.error_log],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + (30 if VALGRIND else 5)
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    out = self.proc.stdout.read().decode(errors="replace")
                    raise RuntimeError("nginx did not start: " + out
                                       + self.log())
                time.sleep(0.02)

    def reload(self):
        """`nginx -s reload` with the same configuration."""
        res = subprocess.run([NGINX, "-p", self.tmp, "-c", self.conf,
                              "-e", self.error_log, "-s", "reload"],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stderr

    def log(self):
        try:
            with open(self.error_log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        result = Response(resp.status, dict(resp.getheaders()), data)
        conn.close()
        return result

    def stop(self):
        if self.proc.poll() is None:
            # graceful quit: also checks the module leaves no open socket
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body

    def json(self):
        return json.loads(self.body)


def auth(key=API_KEY):
    return {"Authorization": "Bearer " + key}


def presign(key, expires, secret=SECRET):
    msg = f"GET\n/v1/files/{key}\n{expires}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


def assert_error(resp, status, code, field=None):
    """The API error shape: status, stable code, a detail, the field."""
    assert resp.status == status, (resp.status, resp.body)
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["success"] is False
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    return body


def assert_nothing_sent(ngx, backend, before=0):
    """Proves the module sent the backend nothing since the first `before`
    messages: a /v1/health probe travels the same DEALER->ROUTER pipe
    (one nginx worker, ZeroMQ keeps order), so once the fake backend has
    answered the probe it has recorded everything sent before it."""
    prev = backend.responder

    def probe(m):
        if m and m.get("op") == "health":
            return [(0, final(m, status=200, body=b'{"status":"ok"}'))]
        return prev(m)

    backend.responder = probe
    try:
        resp = ngx.request("GET", "/v1/health")
    finally:
        backend.responder = prev
    assert resp.status == 200, resp.body
    with backend._lock:
        msgs = [r["msg"] for r in backend.received]
        assert len(msgs) == before + 1, msgs
        assert msgs[-1]["op"] == "health", msgs
        del backend.received[-1]


def raw_request(port, data, timeout=5):
    """Sends raw bytes, returns the answer as a Response."""
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(data)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode("latin-1").split("\r\n")
                hdrs = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                n = int(hdrs.get("content-length", "-1"))
                if n >= 0 and len(rest) >= n:
                    return Response(int(lines[0].split()[1]), hdrs,
                                    rest[:n])
    raise AssertionError("no complete answer: %r" % buf)


def nginx_t(tmp_path, module_so, http_lines):
    """`nginx -t` of an http{} with `http_lines` and an enconvert_api
    location; returns the CompletedProcess (stderr has the messages)."""
    conf = tmp_path / "t.conf"
    conf.write_text(f"""
load_module {module_so};
error_log {tmp_path}/t.log;
pid {tmp_path}/t.pid;
events {{}}
http {{
    client_body_temp_path {tmp_path};
    {http_lines}
    server {{ listen 127.0.0.1:1; location /v1/ {{ enconvert_api; }} }}
}}
""")
    return subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf),
                           "-e", str(tmp_path / "t.log")],
                          capture_output=True, text=True)


def put_file(ngx, key, data=b"%PDF-1.7 test file"):
    """Writes a stored result under nginx's storage alias, as the worker
    would; returns its bytes."""
    path = os.path.join(ngx.storage, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return data
