"""The worker's Prometheus endpoint and its JSON-lines log, on a running
stack: counters move as jobs run, every log line is JSON, a job's lines carry
its job_id in the worker and in the renderer, and no secret is ever logged."""

import os
import re
import signal
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from conftest import make_home, running
from stack import Stack, children_of, log_entries, wait_for_log_entry, worker_pid

import pytest

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(stack):
    """{(name, frozenset(labels)): value} of the worker's /metrics; fails on
    any line that is not valid exposition format."""
    url = stack.read_env()["ENCONVERT_METRICS_URL"]
    with urllib.request.urlopen(url, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        text = r.read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = SAMPLE.match(line)
        assert m, f"not exposition format: {line!r}"
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def ostack():
    yield from running(Stack(make_home("enc-obs-")))


def test_metrics_move_as_jobs_run(ostack, site):
    before = scrape(ostack)
    assert value(before, "enconvert_database_up") == 1

    ok = ostack.call("POST", "/v1/convert/url-to-pdf",
                     {"url": site.url + "/hello.html",
                      "notification_email": "ops@example.org"})
    assert ok.status == 200, ok
    failing = ostack.call("POST", "/v1/convert/url-to-screenshot",
                          {"url": site.url + "/does-not-exist.html"})
    assert failing.status == 422, failing
    ostack.wait_terminal(ok.json()["job_id"])

    # The worker counts a request once its answer is sent: a scrape right
    # after the answer may come first, so wait for the counts, not only the
    # email.
    def after():
        s = scrape(ostack)
        done = (value(s, "enconvert_notifications_total", type="email",
                      outcome="delivered") >= 1
                and value(s, "enconvert_intake_latency_seconds_count", kind="status") >= 1
                and value(s, "enconvert_intake_latency_seconds_count", kind="convert") >= 2)
        return s if done else None
    s = wait_for(after, 30, "the email and the requests to be counted")

    assert value(s, "enconvert_jobs_accepted_total", endpoint="url-to-pdf") == \
        value(before, "enconvert_jobs_accepted_total", endpoint="url-to-pdf") + 1
    assert value(s, "enconvert_jobs_accepted_total", endpoint="url-to-screenshot") == \
        value(before, "enconvert_jobs_accepted_total", endpoint="url-to-screenshot") + 1
    assert value(s, "enconvert_jobs_finished_total", endpoint="url-to-pdf",
                 status="completed") == 1
    assert value(s, "enconvert_jobs_finished_total", endpoint="url-to-screenshot",
                 status="failed") == 1
    assert value(s, "enconvert_render_duration_seconds_count", outcome="success") >= 1
    assert value(s, "enconvert_render_duration_seconds_count", outcome="failure") >= 1
    assert value(s, "enconvert_intake_latency_seconds_count", kind="convert") >= 2
    assert value(s, "enconvert_intake_latency_seconds_count", kind="status") >= 1
    assert value(s, "enconvert_tasks", state="queued") == 0
    assert value(s, "enconvert_tasks_in_flight") == 0
    assert ("enconvert_tasks", frozenset({("state", "processing")})) in s


def test_a_killed_renderer_is_counted(ostack, site):
    before = value(scrape(ostack), "enconvert_renderer_restarts_total", reason="lost")
    renderers = children_of(worker_pid(ostack))
    renderers = [p for p in renderers if "enconvert-render" in open(f"/proc/{p}/cmdline").read()]
    assert renderers
    os.kill(renderers[0], signal.SIGKILL)
    wait_for(lambda: value(scrape(ostack), "enconvert_renderer_restarts_total",
                           reason="lost") == before + 1,
             30, "the restart to be counted")
    # The pool is back: a page converts again.
    r = ostack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r


def test_log_is_json_lines_with_the_job_id_and_no_secret(ostack, site):
    token = "tok" + os.urandom(8).hex()
    r = ostack.call("POST", "/v1/convert/url-to-pdf",
                    {"url": site.url + "/hello.html?token=" + token})
    assert r.status == 200, r
    job_id = r.json()["job_id"]
    path = os.path.join(ostack.home, "log", "worker-1.log")
    # The renderer's own line about the render, then the worker's.
    rendered = wait_for_log_entry(path, 20, process="render", msg="render succeeded",
                                  job_id=job_id)
    assert rendered, ostack.logs()
    # Where the render's time went (docs/operations.md, the log): a PDF's
    # output split into the preparation script, WebKit's print and ours.
    timings = rendered["timings"]
    assert {"queued_ms", "load_ms", "settle_ms", "output_ms", "prepare_ms", "print_ms",
            "postprocess_ms"} <= timings.keys(), rendered
    parts = timings["prepare_ms"] + timings["print_ms"] + timings["postprocess_ms"]
    assert timings["print_ms"] > 0 and 0 < parts <= timings["output_ms"], rendered
    assert wait_for_log_entry(path, 20, process="worker", msg="job finished",
                              job_id=job_id), ostack.logs()

    entries = log_entries(path)  # fails on any line that is not JSON
    for e in entries:
        assert {"ts", "level", "process", "component", "msg"} <= e.keys(), e
        assert e["level"] in ("debug", "info", "warning", "error"), e
    mine = [e for e in entries if e.get("job_id") == job_id]
    assert {e["process"] for e in mine} == {"worker", "render"}, mine
    assert {"job created", "task claimed", "render succeeded", "task succeeded",
            "job finished"} <= {e["msg"] for e in mine}, mine
    # No web process looks for an accessibility bus (each one that did
    # logged "Can't connect to a11y bus" in the sandbox).
    assert not [e for e in entries if "a11y" in e["msg"]], entries
    # Every line about one of this job's tasks names the job.
    task_ids = {e["task_id"] for e in mine if "task_id" in e}
    assert all(e.get("job_id") == job_id for e in entries if e.get("task_id") in task_ids)

    with open(path, errors="replace") as f:
        text = f.read()
    with open(os.path.join(ostack.home, "secret")) as f:
        secret = f.read().strip()
    assert ostack.key not in text
    assert secret not in text
    assert token not in text


def test_documented_worker_metrics_are_the_page(ostack):
    """docs/metrics.md's worker table names every family of the page, with
    its type and label names."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    with open(os.path.join(repo, "docs", "metrics.md")) as f:
        section = f.read().split("\n## Worker\n")[1].split("\n## ")[0]
    documented = {}
    for name, kind, labels in re.findall(
            r"^\| `(enconvert_\w+)` \| (counter|gauge|histogram) \| ([^|]*) \|", section, re.M):
        documented[name] = (kind, set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", labels))))

    url = ostack.read_env()["ENCONVERT_METRICS_URL"]
    with urllib.request.urlopen(url, timeout=10) as r:
        text = r.read().decode()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
    page = {}
    for (name, labels), _ in scrape(ostack).items():
        base = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        page.setdefault(base, set()).update(k for k, _ in labels if k != "le")
    assert {n: kind for n, (kind, _) in documented.items()} == types
    # A labelled series appears once it has happened: compare those seen.
    for name, labels in page.items():
        assert labels == documented[name][1], name


def test_the_local_stack_serves_the_modules_metrics(ostack):
    r = ostack.call("GET", "/metrics", key=None)
    assert r.status == 200, r
    assert b"# TYPE enconvert_http_requests_total counter" in r.body


class _LargePage(BaseHTTPRequestHandler):
    """A page whose source is just over the 16 MiB the inert-page rule
    searches (settle_rule.h), nearly all of it one comment."""

    BODY = (b"<!doctype html><title>Large</title><p>A large source</p><!--"
            + b"x" * (16 * 1024 * 1024) + b"-->")

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.BODY)))
        self.end_headers()
        self.wfile.write(self.BODY)

    def log_message(self, *args):
        pass


@pytest.fixture
def large_page():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LargePage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/large.html"
    server.shutdown()
    server.server_close()


# A page that can start no request by itself is quiet 100 ms after its last
# request, any other one after 500 ms (docs/rendering.md, "Order of a
# render"): the render's log line says which rule applied and why. Without
# a test of the short rule, a change that made every page wait the full
# 500 ms would go unseen by every other test.
def test_the_render_log_says_which_quiet_rule_a_page_got(ostack, site, large_page):
    path = os.path.join(ostack.home, "log", "worker-1.log")
    for url, reason in ((site.url + "/hello.html", "inert"),
                        (site.url + "/noise.html", "script"),
                        (large_page, "large source")):
        r = ostack.call("POST", "/v1/convert/url-to-pdf", {"url": url})
        assert r.status == 200, (url, r)
        rendered = wait_for_log_entry(path, 20, process="render", msg="render succeeded",
                                      job_id=r.json()["job_id"])
        assert rendered, ostack.logs()
        assert rendered["settle_reason"] == reason, rendered
