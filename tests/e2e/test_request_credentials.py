"""cookies, headers and auth (docs/api.md): they reach the target's origin —
the document and its same-origin sub-resources — and nothing else: no
other origin's sub-resource, no cross-origin redirect. Basic auth opens a
protected page. No value is left in the worker's logs or, once the job is
done, in the database; the next job on a view sees none of them."""

import base64
import os
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from stack import LoopbackServer, pdftotext, psql, send_html

COOKIE_SECRET = "ck-7f3a91e2"
HEADER_SECRET = "hd-52c0be4d"
BEARER_SECRET = "br-9d1e77a0"
PASSWORD = "pw-e8b04c13"
SECRETS = [COOKIE_SECRET, HEADER_SECRET, BEARER_SECRET, PASSWORD,
           base64.b64encode(f"alice:{PASSWORD}".encode()).decode()]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAE"
    "hQGAhKmMIQAAAABJRU5ErkJggg==")


class Recorder(LoopbackServer):
    """A loopback origin that records every request (path, headers) and
    answers with `pages(path, headers, other_base)`."""

    def __init__(self, pages):
        self.requests = []
        self.lock = threading.Lock()
        self.other = None
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with rec.lock:
                    rec.requests.append((self.path, dict(self.headers)))
                pages(self, rec.other)

        super().__init__(Handler)

    def seen(self, path, timeout=10):
        """Headers of the requests of `path`, waiting (bounded) for one."""
        deadline = time.time() + timeout
        while True:
            with self.lock:
                hits = [h for p, h in self.requests if p == path]
            if hits or time.time() >= deadline:
                return hits
            time.sleep(0.05)


def lower(headers):
    return {k.lower(): v for k, v in headers.items()}


def send_challenge(handler):
    """401 asking for Basic credentials."""
    body = b"<html><body>Sign in first</body></html>"
    handler.send_response(401)
    handler.send_header("WWW-Authenticate", 'Basic realm="staff"')
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def send_png(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "image/png")
    handler.send_header("Content-Length", str(len(PNG)))
    handler.end_headers()
    handler.wfile.write(PNG)


def target_pages(handler, other):
    h = lower(dict(handler.headers))
    path = handler.path
    if path.startswith("/page"):
        send_html(handler, (
            "<!doctype html><html><body>"
            f"<p>cookie header [{h.get('cookie', 'none')}]</p>"
            f"<p>tenant header [{h.get('x-tenant', 'none')}]</p>"
            f"<p>authorization [{h.get('authorization', 'none')}]</p>"
            "<img src='/same.png'>"
            f"<img src='{other.base}/other.png'>"
            "</body></html>").encode())
    elif path == "/protected":
        want = "Basic " + base64.b64encode(
            f"alice:{PASSWORD}".encode()).decode()
        if h.get("authorization") != want:
            send_challenge(handler)
            return
        send_html(handler, (
            "<!doctype html><html><body><h1>Protected content delta</h1>"
            f"<img src='{other.base}/other.png'></body></html>").encode())
    elif path == "/away":
        handler.send_response(302)
        handler.send_header("Location", f"{other.base}/landing")
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    elif path.endswith(".png"):
        send_png(handler)
    else:
        handler.send_error(404)


def other_pages(handler, _):
    if handler.path == "/landing":
        send_html(handler, b"<!doctype html><html><body>Landed epsilon"
                           b"</body></html>")
    else:
        send_png(handler)


@pytest.fixture
def origins():
    """The target (127.0.0.1:A) and another origin (127.0.0.1:B): another
    port is another origin."""
    target, other = Recorder(target_pages), Recorder(other_pages)
    target.other = other
    yield target, other
    target.close()
    other.close()


def render(stack, url, **fields):
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": url, **fields})
    assert r.status == 200, r
    file = stack.download(r.json()["presigned_url"])
    assert file.status == 200, file
    return r.json()["job_id"], pdftotext(file.body)


def test_cookies_and_headers_reach_the_origin_only(stack, origins):
    target, other = origins
    job_id, text = render(
        stack, target.base + "/page",
        cookies=[{"name": "session", "value": COOKIE_SECRET,
                  "url": target.base + "/"},
                 {"name": "lang", "value": "de", "domain": "127.0.0.1",
                  "httpOnly": True, "sameSite": "Lax"}],
        headers={"X-Tenant": HEADER_SECRET,
                 "Authorization": f"Bearer {BEARER_SECRET}"})
    assert f"session={COOKIE_SECRET}" in text and "lang=de" in text, text
    assert f"tenant header [{HEADER_SECRET}]" in text, text
    assert f"authorization [Bearer {BEARER_SECRET}]" in text, text
    # the same origin's sub-resource got them too
    same = target.seen("/same.png")
    assert same, target.requests
    assert lower(same[0]).get("x-tenant") == HEADER_SECRET
    assert lower(same[0]).get("authorization") == f"Bearer {BEARER_SECRET}"
    # another origin's sub-resource got none of them
    away = other.seen("/other.png")
    assert away, other.requests
    assert "x-tenant" not in lower(away[0])
    assert "authorization" not in lower(away[0])


def test_headers_do_not_follow_a_cross_origin_redirect(stack, origins):
    target, other = origins
    _, text = render(stack, target.base + "/away",
                     headers={"X-Tenant": HEADER_SECRET,
                              "Authorization": f"Bearer {BEARER_SECRET}"})
    assert "Landed epsilon" in text
    first = target.seen("/away")
    assert lower(first[0]).get("authorization") == f"Bearer {BEARER_SECRET}"
    landing = other.seen("/landing")
    assert landing, other.requests
    assert "authorization" not in lower(landing[0])
    assert "x-tenant" not in lower(landing[0])


def test_basic_auth_opens_a_protected_page_for_its_origin_only(stack,
                                                               origins):
    target, other = origins
    _, text = render(stack, target.base + "/protected",
                     auth={"username": "alice", "password": PASSWORD})
    assert "Protected content delta" in text, text
    away = other.seen("/other.png")
    assert away, other.requests
    assert "authorization" not in lower(away[0])
    # nor after a redirect to the other origin
    _, text = render(stack, target.base + "/away",
                     auth={"username": "alice", "password": PASSWORD})
    assert "Landed epsilon" in text
    assert "authorization" not in lower(other.seen("/landing")[0])


def test_wrong_password_is_refused_by_the_site(stack, origins):
    target, _ = origins
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": target.base + "/protected", "timeout": 10,
                    "auth": {"username": "alice", "password": "wrong"}})
    # the site's 401 answers at once: no dialog waits for the timeout
    assert r.status == 422 and r.json()["error"] == "http_error", r
    assert all(lower(h).get("authorization") != "Basic " + base64.b64encode(
        f"alice:{PASSWORD}".encode()).decode()
        for p, h in target.requests if p == "/protected")


def test_the_next_jobs_get_no_cookie_and_no_header(stack, origins):
    target, _ = origins
    render(stack, target.base + "/page",
           cookies=[{"name": "session", "value": COOKIE_SECRET,
                     "domain": "127.0.0.1"}],
           headers={"X-Tenant": HEADER_SECRET})
    # more jobs than the renderer has views: at least one runs on the view
    # the first job used
    for _ in range(4):
        _, text = render(stack, target.base + "/page?next")
        assert "cookie header [none]" in text, text
        assert "tenant header [none]" in text, text


def test_no_value_in_logs_or_in_the_database(stack, origins):
    target, _ = origins
    job_id, _ = render(
        stack, target.base + "/page",
        cookies=[{"name": "session", "value": COOKIE_SECRET,
                  "domain": "127.0.0.1"}],
        headers={"X-Tenant": HEADER_SECRET})
    job2, _ = render(stack, target.base + "/protected",
                     auth={"username": "alice", "password": PASSWORD})
    r = stack.call("POST", "/v1/convert/url-to-pdf",
                   {"url": target.base + "/page", "async_mode": True,
                    "headers": {"Authorization": f"Bearer {BEARER_SECRET}"}})
    assert r.status == 202, r
    job3 = r.json()["job_id"]
    assert stack.wait_terminal(job3)["status"] == "completed"

    logdir = os.path.join(stack.home, "log")
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name), errors="replace") as f:
            content = f.read()
        for secret in SECRETS:
            assert secret not in content, (name, secret)

    rows = psql(stack.home, "SELECT options::text FROM jobs WHERE id IN "
                            f"('{job_id}', '{job2}', '{job3}')")
    assert rows.count("[redacted]") >= 3, rows
    everything = psql(stack.home, "SELECT string_agg(j::text, ' ') FROM "
                                  "jobs j")
    for secret in SECRETS:
        assert secret not in everything, secret
    # names stay for support, values go
    assert '"X-Tenant": "[redacted]"' in rows, rows
    assert '"name": "session"' in rows, rows


# A page may carry credentials of its own (an XHR's user and password, a
# `user:password@` sub-resource). Answered by the engine, they would stay in
# the network session's credential cache, which clearing website data does
# not empty, and the view's next jobs (other tenants') would send them.
PLANTED = "pw-3c61d9f0"


def planting_pages(handler, _):
    h = lower(dict(handler.headers))
    path = handler.path
    want = "Basic " + base64.b64encode(f"alice:{PLANTED}".encode()).decode()
    if path == "/plant":
        send_html(handler, (
            "<!doctype html><html><body><p>planting</p>"
            f"<img src='http://alice:{PLANTED}@127.0.0.1:"
            f"{handler.server.server_address[1]}/private/pixel.png'>"
            "<script>var x = new XMLHttpRequest();"
            f"x.open('GET', '/private/data', true, 'alice', '{PLANTED}');"
            "x.send();</script></body></html>").encode())
    elif path.startswith("/private/") and h.get("authorization") != want:
        send_challenge(handler)
    elif path.endswith(".png"):
        send_png(handler)
    else:
        send_html(handler, b"<!doctype html><html><body>Private zeta"
                           b"</body></html>")


def test_credentials_a_page_carries_reach_no_later_job(stack):
    site = Recorder(planting_pages)
    try:
        r = stack.call("POST", "/v1/convert/url-to-pdf",
                       {"url": site.base + "/plant"})
        assert r.status == 200, r
        planted = len(site.requests)
        # more jobs than the renderer has views: some run on the view the
        # planting page used
        for n in range(5):
            r = stack.call("POST", "/v1/convert/url-to-pdf",
                           {"url": f"{site.base}/private/page?n={n}",
                            "timeout": 15})
            assert r.status == 422 and r.json()["error"] == "http_error", r
        later = site.requests[planted:]
        assert len(later) >= 5, later
        assert not [p for p, h in later if "authorization" in lower(h)], later
    finally:
        site.close()


# A view's history holds its earlier jobs' pages (WebKitGTK cannot clear
# it): a page going back would load another tenant's URL into its own
# capture.
def history_pages(handler, _):
    if handler.path.startswith("/secret"):
        send_html(handler, b"<!doctype html><html><body>Secret eta"
                           b"</body></html>")
    else:
        send_html(handler, (
            "<!doctype html><html><body>Going back theta"
            "<script>setTimeout(function () { history.go(-2); }, 100);"
            "setTimeout(function () { history.back(); }, 400);"
            "</script></body></html>").encode())


def test_a_page_cannot_go_back_to_an_earlier_jobs_page(stack):
    site = Recorder(history_pages)
    try:
        _, text = render(stack, site.base + "/secret?token=abc123")
        assert "Secret eta" in text, text
        for n in range(6):
            _, text = render(stack, f"{site.base}/back?n={n}", delay=1500)
            assert "Going back theta" in text and "Secret" not in text, text
        paths = [p for p, _ in site.requests if p != "/favicon.ico"]
        assert len(paths) == len(set(paths)), paths
    finally:
        site.close()
