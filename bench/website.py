"""website: a 50-page site captured with one website-to-pdf request
(sitemap discovery, one task per page, one ZIP) against the same 50 pages
sent as 50 url-to-pdf requests, one URL each (async, all at once, polled
until every job is done). Same stack, same pages, alternating rounds; the
median round is reported as pages per second and the ratio. No target: the
figure is for reference (docs/benchmarks.md)."""

import os
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import lib
from lib import fmt, log

PAGES = lib.env_int("BENCH_SITE_PAGES", 50)
ROUNDS = lib.env_int("BENCH_SITE_ROUNDS", 3)
RENDERERS = lib.env_int("BENCH_RENDERERS", 2)
VIEWS = lib.env_int("BENCH_VIEWS", 2)


class SiteServer:
    """PAGES pages /site/page-N.html, each a copy of one of the fixture
    pages (cycled, so the site's mix is the render bench's), their
    sub-resources, and a sitemap listing them."""

    def __init__(self):
        fixtures = {n: open(os.path.join(lib.PAGES_DIR, n), "rb").read() for n in lib.PAGES}
        names = [lib.PAGES[i % len(lib.PAGES)] for i in range(PAGES)]
        server = self

        class Handler(SimpleHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def __init__(self, *a, **kw):
                super().__init__(*a, directory=lib.PAGES_DIR, **kw)

            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path == "/sitemap.xml":
                    return self.answer("application/xml", server.sitemap().encode())
                if path == "/robots.txt":
                    return self.answer("text/plain", b"User-agent: *\nAllow: /\n")
                if path.startswith("/site/page-") and path.endswith(".html"):
                    n = int(path[len("/site/page-"):-len(".html")])
                    if 1 <= n <= PAGES:
                        return self.answer("text/html; charset=utf-8", fixtures[names[n - 1]])
                return super().do_GET()

            def translate_path(self, path):
                path = path.split("?", 1)[0]
                if path.startswith("/site/"):
                    path = path[len("/site"):]
                if path.startswith("/img/"):
                    path = path[len("/img"):]
                return super().translate_path(path)

            def answer(self, ctype, body):
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def page_urls(self):
        return [f"{self.url}/site/page-{n}.html" for n in range(1, PAGES + 1)]

    def sitemap(self):
        locs = "".join(f"<url><loc>{u}</loc></url>" for u in self.page_urls())
        return ('<?xml version="1.0" encoding="UTF-8"?><urlset '
                f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>')

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def wait(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} not done within {timeout}s")


def website_round(st, site):
    t0 = time.perf_counter()
    r = st.call("POST", "/v1/convert/website-to-pdf",
                body={"url": site.url + "/", "crawl_mode": "sitemap", "max_pages": PAGES},
                timeout=300)
    if r.status != 202 or r.json().get("url_count") != PAGES:
        raise RuntimeError(f"website-to-pdf: HTTP {r.status} {r.body[:300]!r}")
    discovered = time.perf_counter() - t0
    batch = r.json()["batch_id"]
    state = {}

    def done():
        b = st.call("GET", f"/v1/convert/batch/{batch}").json()
        state["b"] = b
        return b["status"] != "processing"

    wait(done, 900, "website job")
    b = state["b"]
    if b["completed"] != PAGES or not b["zip_download_url"]:
        raise RuntimeError(f"website job ended {b['status']}: {b['completed']}/{b['total']}")
    return {"elapsed_s": time.perf_counter() - t0, "discovery_s": discovered}


def one_each_round(st, site):
    t0 = time.perf_counter()
    jobs = []
    for u in site.page_urls():
        r = st.call("POST", "/v1/convert/url-to-pdf", body={"url": u, "async_mode": True})
        if r.status != 202:
            raise RuntimeError(f"url-to-pdf: HTTP {r.status} {r.body[:300]!r}")
        jobs.append(r.json()["job_id"])
    pending = set(jobs)

    def done():
        for j in list(pending):
            s = st.call("GET", f"/v1/convert/status/{j}").json()
            if s["status"] == "completed":
                pending.discard(j)
            elif s["status"] != "processing":
                raise RuntimeError(f"{j} ended {s['status']}")
        return not pending

    wait(done, 900, "url-to-pdf jobs")
    return {"elapsed_s": time.perf_counter() - t0}


def bench_website():
    before = lib.machine_state("before website")
    site = SiteServer()
    rounds = {"website": [], "one_each": []}
    try:
        with lib.BenchStack(renderers=RENDERERS, views=VIEWS) as st:
            for u in site.page_urls()[:2]:  # warm-up, not counted
                assert st.call("POST", "/v1/convert/url-to-pdf", body={"url": u}).status == 200
            for i in range(ROUNDS):
                # Alternate which side goes first: neither always gets the
                # warmer page cache.
                order = [("website", website_round), ("one_each", one_each_round)]
                for name, fn in order if i % 2 == 0 else order[::-1]:
                    res = fn(st, site)
                    res["pages_per_s"] = PAGES / res["elapsed_s"]
                    rounds[name].append(res)
                    log(f"website round {i + 1} {name}: {res['elapsed_s']:.1f} s, "
                        f"{res['pages_per_s']:.2f} pages/s")
    finally:
        site.close()
    ours = lib.median([r["pages_per_s"] for r in rounds["website"]])
    peer = lib.median([r["pages_per_s"] for r in rounds["one_each"]])
    discovery = lib.median([r["discovery_s"] for r in rounds["website"]])
    rows = [
        {"metric": f"pages/s, {PAGES}-page site (one request vs one per page)",
         "ours": fmt(ours), "peer": fmt(peer), "ratio": fmt(ours / peer) + "x"},
        {"metric": "discovery (POST to 202, sitemap)", "ours": fmt(discovery * 1000, " ms")},
    ]
    lib.print_table(f"website: {RENDERERS} renderer(s) x {VIEWS} view(s), median of "
                    f"{ROUNDS} rounds", rows)
    lib.save("website", {"pages": PAGES, "renderers": RENDERERS, "views": VIEWS,
                         "rounds": rounds, "website_pages_per_s": ours,
                         "one_each_pages_per_s": peer, "ratio": ours / peer,
                         "discovery_s": discovery, "machine_before": before})
    return True
