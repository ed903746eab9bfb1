"""An S3-compatible store on loopback for the end-to-end tests: s3rver (npm,
tests/s3/package.json) behind a proxy that checks every request's AWS
Signature V4 with botocore, an implementation independent of the worker's.
s3rver itself does not verify V4 signatures; a real store does, so the
proxy refuses what AWS would refuse (403 SignatureDoesNotMatch)."""

import datetime
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from stack import REPO, LoopbackServer, free_port

S3_DIR = os.path.join(REPO, "tests", "s3")
S3RVER = os.path.join(S3_DIR, "node_modules", ".bin", "s3rver")
REGION = "us-east-1"
# s3rver knows one access key id; it does not check V4 signatures, the
# proxy checks them with this secret.
ACCESS_KEY_ID = "S3RVER"
SECRET_ACCESS_KEY = "enconvert-test-secret-3f9c0a1b2c3d4e5f"


def ensure_s3rver():
    """Installs s3rver from tests/s3/package-lock.json on first use."""
    if os.path.exists(S3RVER):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is missing: run scripts/deps.sh (make test does)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                   cwd=S3_DIR, check=True, timeout=600)


class S3rver:
    """s3rver on a free loopback port, its files in a temp directory; the
    buckets in `buckets` exist from the start."""

    def __init__(self, buckets):
        ensure_s3rver()
        self.port = free_port()
        self.root = tempfile.mkdtemp(prefix="enc-s3rver-")
        self.buckets = buckets
        self.proc = None
        self.start()

    def start(self):
        args = [S3RVER, "-d", self.root, "-a", "127.0.0.1", "-p", str(self.port), "--silent"]
        for b in self.buckets:
            args += ["--configure-bucket", b]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("s3rver exited at start")
                time.sleep(0.1)
        raise RuntimeError("s3rver did not start listening")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def get(self, path):
        """(status, headers, body) straight from s3rver, without the proxy."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            conn.close()

    def keys(self, bucket):
        """Every object key in `bucket` (ListObjectsV2)."""
        status, _, body = self.get(f"/{bucket}?list-type=2&max-keys=1000")
        assert status == 200, body
        return sorted(e.text for e in ElementTree.fromstring(body).iter()
                      if e.tag.split("}")[-1] == "Key")


def _sigv4_problem(method, path, headers, body):
    """Why AWS would refuse this request's signature, or None. Header
    signatures (the worker's uploads) and presigned query signatures (the
    links it hands out) are recomputed with botocore."""
    from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    creds = Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    split = urllib.parse.urlsplit(path)
    params = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    host = headers.get("Host")
    url = f"http://{host}{split.path}"
    auth_header = headers.get("Authorization")
    if auth_header:
        algorithm, _, rest = auth_header.partition(" ")
        if algorithm != "AWS4-HMAC-SHA256":
            return "not a SigV4 Authorization header"
        parts = dict(p.strip().split("=", 1) for p in rest.split(","))
        key_id, date, region, service, _ = parts["Credential"].split("/")
        if (key_id, region, service) != (ACCESS_KEY_ID, REGION, "s3"):
            return f"wrong credential scope {parts['Credential']}"
        amz_date = headers.get("X-Amz-Date", "")
        if amz_date[:8] != date:
            return "X-Amz-Date does not match the credential's date"
        payload = headers.get("X-Amz-Content-SHA256")
        if payload is None:
            return "x-amz-content-sha256 missing"
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            return "x-amz-content-sha256 does not match the body"
        signed = parts["SignedHeaders"].split(";")
        req = AWSRequest(method=method, url=url, data=body, params=dict(params),
                         headers={h: headers.get(h, "") for h in signed})
        req.context["timestamp"] = amz_date
        signer = S3SigV4Auth(creds, "s3", REGION)
        provided = parts["Signature"]
    elif "X-Amz-Signature" in dict(params):
        q = dict(params)
        provided = q.pop("X-Amz-Signature")
        if q.get("X-Amz-SignedHeaders") != "host":
            return "presigned URL signs more than host"
        if not q["X-Amz-Credential"].startswith(ACCESS_KEY_ID + "/"):
            return "wrong access key id"
        req = AWSRequest(method=method, url=url, params=q, headers={"host": host})
        req.context["timestamp"] = q["X-Amz-Date"]
        signer = S3SigV4QueryAuth(creds, "s3", REGION, expires=int(q["X-Amz-Expires"]))
        signed_at = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        age = datetime.datetime.utcnow() - signed_at
        if age.total_seconds() > int(q["X-Amz-Expires"]):
            return "presigned URL expired"
    else:
        return None  # anonymous: s3rver decides
    canonical = signer.canonical_request(req)
    expected = signer.signature(signer.string_to_sign(req, canonical), req)
    return None if expected == provided else "signature does not match"


class SigV4Proxy(LoopbackServer):
    """Forwards to s3rver what carries a valid signature; records every
    request as (method, path, verdict)."""

    def __init__(self, upstream_port):
        proxy = self
        self.requests = []
        self.lock = threading.Lock()
        # Seconds each PUT is held before it is forwarded (a stalled store).
        self.put_delay = 0
        # f(method, path) -> None to forward, or (status, error code) to
        # answer instead of the store (a store refusing some requests;
        # code None: an empty answer, e.g. 204).
        self.intercept = None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive and 100-continue, as S3

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.relay()

            do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

            def relay(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    problem = _sigv4_problem(self.command, self.path, self.headers, body)
                except Exception as e:  # a malformed signature is a refusal too
                    problem = f"unreadable signature: {e!r}"
                with proxy.lock:
                    proxy.requests.append((self.command, self.path, problem or "ok"))
                if self.command == "PUT" and proxy.put_delay:
                    time.sleep(proxy.put_delay)
                canned = proxy.intercept and proxy.intercept(self.command, self.path)
                if canned and not problem:
                    status, code = canned
                    self.answer(status, [("Content-Type", "application/xml")] if code else [],
                                f"<Error><Code>{code}</Code><Message>refused by the test"
                                "</Message></Error>".encode() if code else b"")
                    return
                if problem:
                    self.answer(403, [("Content-Type", "application/xml")],
                                ("<Error><Code>SignatureDoesNotMatch</Code><Message>"
                                 f"{escape(problem)}</Message></Error>").encode())
                    return
                hop = {"connection", "keep-alive", "expect", "transfer-encoding"}
                fwd = {k: v for k, v in self.headers.items() if k.lower() not in hop}
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=fwd)
                    r = conn.getresponse()
                    data = r.read()
                    headers = [(k, v) for k, v in r.getheaders()
                               if k.lower() not in hop | {"content-length"}]
                    self.answer(r.status, headers, data)
                except OSError:
                    # The store is down: what a load balancer in front of it says.
                    self.answer(503, [("Content-Type", "application/xml")],
                                b"<Error><Code>ServiceUnavailable</Code>"
                                b"<Message>Please reduce your request rate.</Message></Error>")
                finally:
                    conn.close()

            def answer(self, status, headers, data):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

        super().__init__(Handler)
        self.endpoint = self.base

    def seen(self):
        with self.lock:
            return list(self.requests)

    def refused(self):
        return [r for r in self.seen() if r[2] != "ok"]
