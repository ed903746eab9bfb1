"""The outbound safety rules (docs/api.md) through the whole stack: with
only 127.0.0.1 exempt, the rest of 127.0.0.0/8 stands for an internal
network. A page on it, a redirect to it and the sub-resources a public page
points at it never reach it; the task says why."""
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import make_home
from stack import REPO, Stack, pdftotext


class Server:
    """An HTTP server on `address` answering every GET with `respond(path)`
    -> (status, headers, body), counting the requests it gets."""

    def __init__(self, address, respond):
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                owner.requests += 1
                status, headers, body = respond(self.path)
                self.send_response(status)
                for name, value in headers + [("Content-Length", str(len(body)))]:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((address, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{address}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def internal_server():
    """127.0.0.2: stands for an internal service."""
    return Server("127.0.0.2",
                  lambda path: (200, [("Content-Type", "text/html")], b"<p>internal secret</p>"))


def public_site(target):
    """127.0.0.1: /go redirects to `target`; any other path is a page that
    embeds `target` as an image, a frame and a fetch."""
    page = (f"<!doctype html><title>Public</title><h1>Public page delta</h1>"
            f"<img src=\"{target}/secret.png\"><iframe src=\"{target}/\"></iframe>"
            f"<script>fetch('{target}/secret.json').catch(() => {{}});</script>").encode()

    def respond(path):
        if path == "/go":
            return 302, [("Location", target + "/")], b""
        return 200, [("Content-Type", "text/html; charset=utf-8")], page

    return Server("127.0.0.1", respond)


@pytest.fixture(scope="module")
def guarded():
    internal = internal_server()
    site = public_site(internal.base)
    s = Stack(make_home("enc-ssrf-"),
              extra_env={"ENCONVERT_ALLOWED_NETWORKS": "127.0.0.1/32"})
    try:
        s.start()
        yield s, internal, site
    finally:
        s.stop()
        site.close()
        internal.close()


def test_internal_page_is_422_blocked_address_and_never_contacted(guarded):
    s, internal, _ = guarded
    r = s.call("POST", "/v1/convert/url-to-pdf", {"url": internal.base + "/"})
    assert r.status == 422, r
    body = r.json()
    assert body["success"] is False
    assert body["error"] == "blocked_address", body
    assert "127.0.0.2" in body["detail"]
    assert internal.requests == 0


def test_redirect_to_internal_address_fails_the_task(guarded):
    s, internal, site = guarded
    r = s.call("POST", "/v1/convert/url-to-pdf", {"url": site.base + "/go", "async_mode": True})
    assert r.status == 202, r
    status = s.wait_terminal(r.json()["job_id"])
    assert status["status"] == "failed", status
    task = status["tasks"][0]
    assert task["error"].startswith("Failed to load page: 127.0.0.2"), task
    assert internal.requests == 0


def test_public_page_renders_without_its_internal_subresources(guarded):
    s, internal, site = guarded
    r = s.call("POST", "/v1/convert/url-to-pdf",
               {"url": site.base + "/page", "wait_until": "networkidle"})
    assert r.status == 200, r
    pdf = s.download(r.json()["presigned_url"])
    assert "Public page delta" in pdftotext(pdf.body)
    assert internal.requests == 0


def test_new_key_leaves_the_workers_allow_list_alone(guarded):
    """`make key` in a shell without the stack's settings used to rewrite the
    worker's configuration with loopback allowed again (hardening, defect
    12)."""
    s, internal, _ = guarded
    conf = os.path.join(s.home, "worker-1.conf")
    with open(conf) as f:
        before = f.read()
    assert "allowed_networks = 127.0.0.1/32" in before
    env = {k: v for k, v in s.env.items() if k != "ENCONVERT_ALLOWED_NETWORKS"}
    r = subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), "key", "other"],
                       env=env, capture_output=True, text=True, timeout=120, check=True)
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("sk_live_")
    with open(conf) as f:
        assert f.read() == before
    r = s.call("POST", "/v1/convert/url-to-pdf", {"url": internal.base + "/"}, key=key)
    assert r.status == 422 and r.json()["error"] == "blocked_address", r
