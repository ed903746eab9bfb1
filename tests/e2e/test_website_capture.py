"""Website capture (docs/website-capture.md), end to end: a
loopback site of 30+ interlinked pages with a sitemap, a robots.txt that
forbids a section, a link trap, links to another site and to an internal
address. Sitemap mode, full mode with include/exclude patterns and with the
defaults, the page limit, the 400s; the ZIP holds one file per page plus
manifest.json, and the notifications are sent once, at the end.

The stack allows 127.0.0.1/32 only: the "internal" server listens on
127.0.0.2, an address the outbound policy refuses, and must never see a
request. The "external" site is a second loopback server on another port:
another site, which a crawl of the first never enters. No traffic leaves
this machine."""

import io
import json
import threading
import time
import zipfile
from collections import Counter
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from conftest import make_home
from stack import Stack, _QuietHandler, send_html

WEBSITE_PDF = "/v1/convert/website-to-pdf"
WEBSITE_SHOT = "/v1/convert/website-to-screenshot"

DOCS = 20
POSTS = 10


class RecordingHandler(_QuietHandler):
    """Counts every request path in `self.server.hits` and answers from
    `self.server.pages` (path+query → (content type, body))."""

    def do_GET(self):
        with self.server.lock:
            self.server.hits[self.path] += 1
        page = self.server.pages(self.path)
        if page is None:
            self.send_error(404)
            return
        ctype, body = page
        if ctype == "text/html":
            send_html(self, body)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class RecordingServer:
    def __init__(self, host, pages):
        self.server = ThreadingHTTPServer((host, 0), RecordingHandler)
        self.server.daemon_threads = True
        self.server.hits = Counter()
        self.server.lock = threading.Lock()
        self.server.pages = pages
        self.base = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def hits(self, prefix=""):
        with self.server.lock:
            return sum(n for p, n in self.server.hits.items() if p.startswith(prefix))

    def hit_counts(self, path):
        with self.server.lock:
            return self.server.hits[path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def html(title, links=()):
    items = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
    return (f"<!doctype html><html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1><p>Page {title} of the test site.</p>"
            f"<ul>{items}</ul></body></html>").encode()


class TestSite:
    """The site under capture. `external` and `internal` are the bases of
    the two servers it links to but a crawl must never request."""

    __test__ = False

    def __init__(self, external, internal, sitemap=True):
        self.external, self.internal, self.sitemap = external, internal, sitemap
        self.server = RecordingServer("127.0.0.1", self.page)
        self.base = self.server.base

    def pages(self):
        """Every page a capture may list (robots.txt allows it, it is HTML)."""
        return (["/", "/about.html", "/docs/", "/blog/"]
                + [f"/docs/page-{i}.html" for i in range(1, DOCS + 1)]
                + [f"/blog/post-{i}.html" for i in range(1, POSTS + 1)])

    def page(self, path):
        if path == "/robots.txt":
            lines = "User-agent: *\nDisallow: /private/\n"
            if self.sitemap:
                lines += f"Sitemap: {self.base}/sitemap.xml\n"
            return "text/plain", lines.encode()
        if path == "/sitemap.xml":
            if not self.sitemap:
                return None
            urls = self.pages() + ["/private/secret.html"]
            body = "".join(f"<url><loc>{self.base}{u}</loc></url>" for u in urls)
            return "application/xml", (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{body}</urlset>").encode()
        if path == "/":
            return "text/html", html("Home", [
                "/about.html", "/docs/", "/blog/", "/private/secret.html",
                "/calendar?page=1", "/login", "/logo.png",
                f"{self.external}/elsewhere.html", f"{self.internal}/internal.html"])
        if path == "/about.html":
            return "text/html", html("About", ["/", f"{self.internal}/admin-panel.html"])
        if path == "/docs/":
            return "text/html", html("Docs", [f"/docs/page-{i}.html"
                                              for i in range(1, DOCS + 1)])
        if path.startswith("/docs/page-"):
            n = int(path[len("/docs/page-"):-len(".html")])
            if not 1 <= n <= DOCS:
                return None
            return "text/html", html(f"Docs {n}", ["/docs/", f"/docs/page-{n % DOCS + 1}.html"])
        if path == "/blog/":
            return "text/html", html("Blog", [f"post-{i}.html" for i in range(1, POSTS + 1)])
        if path.startswith("/blog/post-"):
            return "text/html", html(f"Post {path}", ["/blog/", "/"])
        if path.startswith("/calendar?page="):
            n = int(path.split("=", 1)[1])
            return "text/html", html(f"Calendar {n}", [f"/calendar?page={n + 1}"])
        if path.startswith("/private/") or path == "/login":
            return "text/html", html("Not for crawlers")
        if path == "/logo.png":
            return "image/png", b"\x89PNG\r\n\x1a\n"
        return None

    def close(self):
        self.server.close()


@pytest.fixture(scope="module")
def others():
    """The external site and the internal address (127.0.0.2)."""
    external = RecordingServer("127.0.0.1", lambda p: ("text/html", html("External")))
    internal = RecordingServer("127.0.0.2", lambda p: ("text/html", html("Internal")))
    yield external, internal
    external.close()
    internal.close()


@pytest.fixture
def website(others):
    site = TestSite(others[0].base, others[1].base)
    yield site
    site.close()


@pytest.fixture(scope="module")
def wstack(certs, smtp):
    """Loopback 127.0.0.1 only (127.0.0.2 is internal), mail to the sink,
    webhooks to the test CA's receiver."""
    s = Stack(make_home("enc-site-"), extra_env={
        "ENCONVERT_ALLOWED_NETWORKS": "127.0.0.1/32",
        "ENCONVERT_SMTP_URL": smtp.url,
        "ENCONVERT_TLS_CA_FILE": certs["ca"],
        "ENCONVERT_VIEWS_PER_RENDERER": "4",
    })
    try:
        s.start()
        yield s
    finally:
        s.stop()


def wait_batch(stack, batch_id, timeout=240, key="default"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = stack.call("GET", f"/v1/convert/batch/{batch_id}", key=key)
        assert r.status == 200, r
        b = r.json()
        if b["status"] != "processing":
            return b
        time.sleep(0.5)
    raise AssertionError(f"website job {batch_id} still processing after {timeout}s")


def zip_entries(stack, batch):
    assert batch["output_mode"] == "zip" and batch["zip_download_url"], batch
    z = stack.download(batch["zip_download_url"])
    assert z.status == 200, z
    with zipfile.ZipFile(io.BytesIO(z.body)) as f:
        assert f.testzip() is None
        return {i.filename: f.read(i) for i in f.infolist()}


def entry_name(path, ext):
    if path.endswith("/"):
        path += "index"
    return path.lstrip("/").removesuffix(".html") + "." + ext


def paths(urls):
    return sorted(urlsplit(u).path + (f"?{urlsplit(u).query}" if urlsplit(u).query else "")
                  for u in urls)


def test_sitemap_mode_captures_every_page_into_one_zip_and_notifies_once(
        wstack, website, others, receiver, smtp):
    r = wstack.call("POST", WEBSITE_PDF, {
        "url": website.base + "/", "crawl_mode": "sitemap",
        "callback_url": receiver.url + "/hook/ok", "notification_email": "site@example.com"})
    assert r.status == 202, r
    a = r.json()
    expected = website.pages()
    # As every 202 of a job: the message names where the notifications go.
    assert "notified at site@example.com" in a["message"], a
    assert "Results will be sent to your callback URL." in a["message"], a
    assert a["batch_id"] == a["job_id"]
    assert (a["discovery_method"], a["output_format"], a["status"]) == (
        "sitemap", "zip", "processing")
    # robots.txt forbids /private/: the sitemap's entry for it is dropped.
    assert a["url_count"] == len(expected) and a["total_discovered"] == len(expected), a
    assert a["truncated"] is False

    b = wait_batch(wstack, a["batch_id"])
    assert (b["status"], b["total"], b["completed"], b["failed"]) == (
        "completed", len(expected), len(expected), 0), b
    assert paths(i["source_url"] for i in b["items"]) == sorted(expected)
    assert b["discovery"]["state"] == "done" and b["discovery_method"] == "sitemap"

    files = zip_entries(wstack, b)
    assert sorted(files) == sorted([entry_name(p, "pdf") for p in expected] + ["manifest.json"])
    assert all(data.startswith(b"%PDF-") for n, data in files.items() if n.endswith(".pdf"))
    manifest = json.loads(files["manifest.json"])
    assert manifest["batch_id"] == a["batch_id"] and manifest["failed"] == []
    assert {f["file"]: paths([f["source_url"]])[0] for f in manifest["files"]}[
        "docs/page-3.pdf"] == "/docs/page-3.html"

    # Sitemap mode reads no page beyond the start page: every other page is
    # requested once, by its render.
    assert website.server.hit_counts("/docs/page-3.html") == 1
    assert website.server.hit_counts("/blog/") == 1
    assert website.server.hits("/private/") == 0
    assert others[0].hits() == 0 and others[1].hits() == 0

    # One webhook and one mail, at the end, for the whole site.
    deadline = time.time() + 60
    while time.time() < deadline:
        with receiver.lock:
            hooks = [q for q in receiver.requests
                     if json.loads(q["body"] or "{}").get("job_id") == a["job_id"]]
        with smtp.lock:
            mails = [m for m in smtp.messages if a["job_id"] in m["data"]]
        if hooks and mails:
            break
        time.sleep(0.2)
    assert len(hooks) == 1 and len(mails) == 1, (hooks, mails)
    payload = json.loads(hooks[0]["body"])
    assert payload["status"] == "completed" and payload["total_tasks"] == len(expected)
    # The receivers have them; the notifier records each delivery just after.
    status = wstack.wait_notifications(a["job_id"])
    assert [n["state"] for n in status["notifications"]] == ["delivered", "delivered"], status


def test_full_mode_with_include_and_exclude_patterns(wstack, website, others):
    r = wstack.call("POST", WEBSITE_SHOT, {
        "url": website.base + "/", "crawl_mode": "full",
        "include_patterns": ["^/docs/"], "exclude_patterns": ["page-1[0-9]\\.html$"],
        "viewport_width": 800, "viewport_height": 600, "full_page": False})
    assert r.status == 202, r
    a = r.json()
    want = ["/docs/"] + [f"/docs/page-{i}.html" for i in list(range(1, 10)) + [20]]
    assert a["discovery_method"] == "full_crawl" and a["url_count"] == len(want), a
    b = wait_batch(wstack, a["batch_id"])
    assert b["status"] == "completed", b
    assert paths(i["source_url"] for i in b["items"]) == sorted(want)
    files = zip_entries(wstack, b)
    assert sorted(files) == sorted([entry_name(p, "png") for p in want] + ["manifest.json"])
    assert all(d.startswith(b"\x89PNG") for n, d in files.items() if n.endswith(".png"))
    # Pages the patterns refuse are not even read.
    assert website.server.hits("/blog/") == 0 and website.server.hits("/docs/page-15") == 0
    assert others[0].hits() == 0 and others[1].hits() == 0


def test_full_mode_obeys_robots_cuts_the_trap_and_never_leaves_the_site(
        wstack, website, others):
    r = wstack.call("POST", WEBSITE_PDF, {"url": website.base + "/", "crawl_mode": "full",
                                          "max_depth": 10})
    assert r.status == 202, r
    a = r.json()
    b = wait_batch(wstack, a["batch_id"])
    assert b["status"] == "completed", b
    got = paths(i["source_url"] for i in b["items"])
    calendar = [p for p in got if p.startswith("/calendar")]
    assert sorted(set(got) - set(calendar)) == sorted(website.pages())
    # The trap: a few of its pages, then cut.
    assert 1 <= len(calendar) <= 7, calendar
    assert website.server.hits("/calendar") <= 2 * 7
    # robots.txt, the default exclusions (login, assets), the other site
    # and the internal address: never requested.
    assert website.server.hits("/private/") == 0
    assert website.server.hits("/login") == 0 and website.server.hits("/logo.png") == 0
    assert others[0].hits() == 0, "the external site was requested"
    assert others[1].hits() == 0, "the internal address was requested"


def test_page_limit_cuts_the_site_and_says_so(wstack, website):
    r = wstack.call("POST", WEBSITE_PDF, {"url": website.base + "/", "crawl_mode": "sitemap",
                                          "max_pages": 3})
    assert r.status == 202, r
    a = r.json()
    assert (a["url_count"], a["truncated"]) == (3, True), a
    assert a["total_discovered"] == len(website.pages())
    b = wait_batch(wstack, a["batch_id"])
    assert (b["status"], b["total"]) == ("completed", 3), b
    assert b["discovery"]["truncated"] is True


def test_sitemap_mode_without_a_sitemap_is_400_and_the_job_failed(wstack, others):
    site = TestSite(others[0].base, others[1].base, sitemap=False)
    try:
        r = wstack.call("POST", WEBSITE_PDF, {"url": site.base + "/", "crawl_mode": "sitemap"})
        assert r.status == 400, r
        body = r.json()
        assert body["error"] == "no_sitemap" and body["job_id"], body
        b = wstack.call("GET", f"/v1/convert/batch/{body['job_id']}").json()
        assert (b["status"], b["total"]) == ("failed", 0), b
        assert b["discovery"]["error_code"] == "no_sitemap"
        # auto falls back to the full crawl on the same site.
        r = wstack.call("POST", WEBSITE_PDF, {"url": site.base + "/", "max_pages": 2})
        assert r.status == 202 and r.json()["discovery_method"] == "full_crawl", r
        wait_batch(wstack, r.json()["batch_id"])
    finally:
        site.close()


def test_a_site_with_nothing_to_capture_notifies_its_url_and_why(
        wstack, others, receiver, smtp):
    # Discovery fails: the job has no task. The webhook and the mail report
    # the submitted URL, failed with the discovery's reason (before: "0 of
    # 0 URLs converted", and a payload with no URL and no reason).
    site = TestSite(others[0].base, others[1].base, sitemap=False)
    try:
        start = site.base + "/"
        r = wstack.call("POST", WEBSITE_PDF, {
            "url": start, "crawl_mode": "sitemap",
            "callback_url": receiver.url + "/hook/ok",
            "notification_email": "nosite@example.com"})
        assert r.status == 400 and r.json()["error"] == "no_sitemap", r
        job_id = r.json()["job_id"]
        status = wstack.wait_notifications(job_id)
        assert [n["state"] for n in status["notifications"]] == ["delivered", "delivered"]
        assert (status["total_tasks"], status["failed_tasks"]) == (1, 1), status
        with receiver.lock:
            (hook,) = [q for q in receiver.requests
                       if json.loads(q["body"] or "{}").get("job_id") == job_id]
        payload = json.loads(hook["body"])
        assert payload["status"] == "failed" and payload["total_tasks"] == 1, payload
        (task,) = payload["tasks"]
        assert task["url"] == start and task["status"] == "failed", payload
        assert task["error"] == status["discovery"]["error"] and task["error"], payload
        with smtp.lock:
            (mail,) = [m for m in smtp.messages if job_id in m["data"]]
        text = mail["data"].replace("=\r\n", "")
        assert start in text and "0 of 1 URL converted" in text, text
    finally:
        site.close()


def test_nothing_to_capture_is_400_no_pages(wstack, others):
    r = wstack.call("POST", WEBSITE_PDF, {"url": others[0].base + "/", "crawl_mode": "full",
                                          "include_patterns": ["^/nothing-matches$"]})
    assert r.status == 400, r
    assert r.json()["error"] == "no_pages" and r.json()["detail"], r


def test_internal_start_url_is_refused_and_never_requested(wstack, others):
    before = others[1].hits()
    r = wstack.call("POST", WEBSITE_PDF, {"url": others[1].base + "/", "crawl_mode": "full"})
    assert r.status == 400, r
    assert r.json()["error"] == "no_pages", r
    assert "private or reserved address" in r.json()["detail"], r
    assert others[1].hits() == before


def test_bad_pattern_is_400_and_creates_nothing(wstack, website):
    r = wstack.call("POST", WEBSITE_PDF, {"url": website.base + "/",
                                          "include_patterns": ["(unclosed"]})
    assert r.status == 400, r
    assert (r.json()["error"], r.json()["field"]) == ("invalid_pattern", "include_patterns"), r
    assert "job_id" not in r.json()
    assert website.server.hits() == 0


def test_another_account_cannot_see_the_site_job(wstack, website):
    r = wstack.call("POST", WEBSITE_PDF, {"url": website.base + "/", "crawl_mode": "sitemap",
                                          "max_pages": 1})
    assert r.status == 202, r
    other = wstack.new_key("site-other")
    assert wstack.call("GET", f"/v1/convert/batch/{r.json()['batch_id']}",
                       key=other).status == 404
    wait_batch(wstack, r.json()["batch_id"])


def test_a_runaway_pattern_holds_neither_the_request_nor_the_next_capture(
        wstack, website, others):
    """A tenant's include pattern that backtracks without end (`^/(a|a)*$`)
    against its own site's `/aaa…a!` paths: each search gives up at its
    step limit and decides the safe way (not included), so the POST is
    answered with the pages that do match, and the discoverers every
    tenant shares are free for the next capture at once."""
    good = ["/", "/a", "/aa", "/aaa"]
    traps = ["/" + "a" * n + "!" for n in range(28, 28 + 60)]

    def page(path):
        if path == "/robots.txt":
            return "text/plain", f"Sitemap: {site.base}/sitemap.xml\n".encode()
        if path == "/sitemap.xml":
            body = "".join(f"<url><loc>{site.base}{u}</loc></url>" for u in good + traps)
            return "application/xml", (
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"{body}</urlset>").encode()
        if path in good or path in traps:
            return "text/html", html(f"Page {path}")
        return None

    site = RecordingServer("127.0.0.1", page)
    try:
        started = time.monotonic()
        r = wstack.call("POST", WEBSITE_PDF, {
            "url": site.base + "/", "crawl_mode": "sitemap",
            "include_patterns": ["^/(a|a)*$"]}, timeout=60)
        answered_in = time.monotonic() - started
        assert r.status == 202, r
        a = r.json()
        assert a["url_count"] == len(good), (a, answered_in)
        b = wait_batch(wstack, a["batch_id"])
        assert b["status"] == "completed", b
        assert paths(i["source_url"] for i in b["items"]) == sorted(good)
        # No trap page was read: the pattern refused them before.
        assert sum(site.hit_counts(t) for t in traps) == 0
        # Another tenant's capture right after is served as usual.
        other = wstack.new_key("site-after-runaway")
        r = wstack.call("POST", WEBSITE_PDF, {"url": website.base + "/", "crawl_mode": "sitemap",
                                              "max_pages": 2}, key=other, timeout=60)
        assert r.status == 202, r
        b = wait_batch(wstack, r.json()["batch_id"], key=other)
        assert (b["status"], b["total"]) == ("completed", 2), b
    finally:
        site.close()

