"""Notification receivers for tests: a test CA with server certificates made
with the openssl CLI, an HTTPS webhook receiver (python http.server + ssl)
and an SMTP sink (aiosmtpd). Used in-process by tests/e2e/test_notifications.py
and as a subprocess by the notifier's GoogleTest integration test:

    python3 receivers.py serve DIR

writes certificates into DIR, starts an SMTP sink, a trusted HTTPS receiver
and one whose certificate no configured CA signed, prints one JSON line
{"smtp_port", "https_port", "untrusted_port", "ca_file"} and then appends
every request to DIR/webhooks.jsonl and every mail to DIR/mail.jsonl until
it receives SIGTERM.

Receiver paths: /hook/ok -> 200, /hook/status/<code> -> <code>,
/hook/hang -> never answers, /hook/redirect -> 302 to /hook/ok,
/hook/slow/<seconds> -> 200 after that many seconds (0.1 to 60),
/hook/flaky/<n> -> 503 with Retry-After: 1 for the first n requests, then 200,
/hook/cut -> 200 whose body ends after 5 of its 100 bytes (the connection
closes), /hook/stall -> 200 whose body stops after 5 of its 100 bytes and
never goes on.
"""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class TestCA:
    """A throwaway CA in `directory`; issue() makes server certificates."""

    __test__ = False  # a helper, not a pytest test class

    def __init__(self, directory, name="ca"):
        self.dir = directory
        self.name = name
        os.makedirs(directory, exist_ok=True)
        self.key = os.path.join(directory, f"{name}.key")
        self.cert = os.path.join(directory, f"{name}.pem")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                 "-subj", f"/CN=enconvert test {name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)

    def issue(self, name, sans=("DNS:localhost", "IP:127.0.0.1")):
        """Returns (cert_path, key_path) for a server certificate."""
        key = os.path.join(self.dir, f"{name}.key")
        csr = os.path.join(self.dir, f"{name}.csr")
        cert = os.path.join(self.dir, f"{name}.pem")
        ext = os.path.join(self.dir, f"{name}.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                    f"subjectAltName={','.join(sans)}\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", key, "-out", csr, "-subj", "/CN=localhost", cwd=self.dir)
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                 "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext, cwd=self.dir)
        return cert, key


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._handle()

    def do_POST(self):
        self._handle()

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.owner._record({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "time": time.time(),
        })
        parts = self.path.strip("/").split("/")
        if parts[:2] == ["hook", "hang"]:
            self.server.owner.release.wait(120)
            return
        if parts[:2] == ["hook", "slow"] and len(parts) > 2:
            time.sleep(min(60.0, max(0.1, float(parts[2]))))
            return self._reply(200)
        if parts[:2] in (["hook", "cut"], ["hook", "stall"]):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b'{"ok"')
            self.wfile.flush()
            self.close_connection = True
            if parts[1] == "stall":
                self.server.owner.release.wait(120)
            return
        if parts[:2] == ["hook", "redirect"]:
            return self._reply(302, {"Location": "/hook/ok"})
        if parts[:2] == ["hook", "status"] and len(parts) > 2:
            return self._reply(int(parts[2]))
        if parts[:2] == ["hook", "flaky"] and len(parts) > 2:
            if self.server.owner.count(self.path) <= int(parts[2]):
                return self._reply(503, {"Retry-After": "1"})
        return self._reply(200)

    def _reply(self, code, headers=None):
        payload = b'{"ok":true}'
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _TlsServer(ThreadingHTTPServer):
    """TLS handshakes run on each connection's own thread: wrapping the
    listening socket would do them one at a time in accept(), so one slow
    client (or 1,000 at once, bench/notifications) would queue the rest."""

    # socketserver's default backlog of 5 drops the SYNs of a burst of
    # connections, which then wait out TCP's 1 s, 3 s, 7 s … retransmits.
    request_queue_size = 1024

    def __init__(self, address, handler, ctx):
        super().__init__(address, handler)
        self.ctx = ctx

    def finish_request(self, request, client_address):
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust our certificate
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()


class HttpsReceiver:
    """HTTPS webhook receiver on 127.0.0.1; .requests lists what arrived."""

    def __init__(self, cert, key, log_file=None):
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.log_file = log_file
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.server = _TlsServer(("127.0.0.1", 0), _Handler, ctx)
        self.server.daemon_threads = True
        self.server.owner = self
        self.port = self.server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _record(self, req):
        with self.lock:
            self.requests.append(req)
            if self.log_file:
                with open(self.log_file, "a") as f:
                    f.write(json.dumps(req) + "\n")

    def count(self, path):
        with self.lock:
            return sum(1 for r in self.requests if r["path"] == path)

    def wait_for(self, path, n=1, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = [r for r in self.requests if r["path"] == path]
            if len(got) >= n:
                return got
            time.sleep(0.1)
        raise AssertionError(f"{n} request(s) to {path} not received in {timeout}s")

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """aiosmtpd on 127.0.0.1 recording every message in .messages."""

    def __init__(self, log_file=None, tls=None, auth_name="smtp_auth.jsonl"):
        from aiosmtpd.controller import Controller

        self.messages = []
        self.lock = threading.Lock()
        self.log_file = log_file
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                msg = {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "data": envelope.original_content.decode("utf-8", "replace"),
                }
                with sink.lock:
                    sink.messages.append(msg)
                    if sink.log_file:
                        with open(sink.log_file, "a") as f:
                            f.write(json.dumps(msg) + "\n")
                return "250 OK"

        # Without `tls` it offers AUTH over plain text (and no STARTTLS): a
        # client that sends credentials there is recorded in smtp_auth.jsonl.
        # With `tls` (cert, key) it offers STARTTLS, and AUTH only after it;
        # logins are recorded in `auth_name`, with their passwords.
        self.logins = []
        auth_file = os.path.join(os.path.dirname(log_file), auth_name) \
            if log_file else None

        def authenticator(server, session, envelope, mechanism, auth_data):
            from aiosmtpd.smtp import AuthResult
            login = getattr(auth_data, "login", b"") or b""
            password = getattr(auth_data, "password", b"") or b""
            with sink.lock:
                sink.logins.append(login)
                if auth_file:
                    with open(auth_file, "a") as f:
                        f.write(json.dumps({"mechanism": mechanism,
                                            "login": login.decode("utf-8", "replace"),
                                            "password": password.decode("utf-8", "replace"),
                                            "tls": session.ssl is not None}) + "\n")
            return AuthResult(success=True)

        self.port = free_port()
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                         authenticator=authenticator, tls_context=context,
                                         require_starttls=True, auth_require_tls=True)
        else:
            self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port,
                                         authenticator=authenticator, auth_require_tls=False)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{self.port}"

    def wait_for(self, n=1, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.messages) >= n:
                    return list(self.messages)
            time.sleep(0.1)
        raise AssertionError(f"{n} message(s) not received in {timeout}s")

    def close(self):
        self.controller.stop()


def serve(directory):
    ca = TestCA(directory, "ca")
    cert, key = ca.issue("server")
    rogue = TestCA(directory, "rogue-ca")
    rogue_cert, rogue_key = rogue.issue("rogue-server")
    smtp = SmtpSink(os.path.join(directory, "mail.jsonl"))
    smtp_tls = SmtpSink(os.path.join(directory, "mail.jsonl"), tls=(cert, key),
                        auth_name="smtp_tls_auth.jsonl")
    trusted = HttpsReceiver(cert, key, os.path.join(directory, "webhooks.jsonl"))
    untrusted = HttpsReceiver(rogue_cert, rogue_key, os.path.join(directory, "webhooks.jsonl"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(json.dumps({"smtp_port": smtp.port, "smtp_tls_port": smtp_tls.port,
                      "https_port": trusted.port,
                      "untrusted_port": untrusted.port, "ca_file": ca.cert}), flush=True)
    stop.wait()
    for r in (trusted, untrusted):
        r.release.set()
    smtp.close()
    smtp_tls.close()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        sys.exit("usage: receivers.py serve DIR")
