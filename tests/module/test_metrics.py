"""enconvert_metrics: the module's Prometheus counters (docs/metrics.md).

Requests are counted by API route and status in a shared memory zone: the
counters move as requests are made, are the same whichever nginx worker
process answers the scrape, and survive `nginx -s reload`."""

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from ngxtest import (NGINX, REPO, FakeBackend, Nginx, assert_error,
                     auth, final, presign, put_file, wait_for)
# the fixture that makes a temp dir fit for the shipped examples
from test_conf_examples import installed_paths, nginx_t, tmp  # noqa: F401
from thread_pause import worker_pid

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

METRICS = """
        location = /metrics {
            enconvert_metrics;
            allow 127.0.0.1;
            deny all;
            add_header X-Worker $pid always;
        }
"""

BACKEND = ("enconvert_backend_timeouts_total",
           "enconvert_backend_unavailable_total",
           "enconvert_backend_bad_replies_total",
           "enconvert_backend_requests_in_flight")


# --- the text exposition format 0.0.4, strictly ------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(rf"({NAME})(?:\{{(.*)\}})? (-?[0-9]+)")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse(text):
    """{(name, ((label, value), ...)): int} of a metrics page; fails on
    anything the format does not allow or the module should not write."""
    assert text.endswith("\n"), text
    helps, types, samples = {}, {}, {}
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP "):].partition(" ")
            assert re.fullmatch(NAME, name) and help_text, line
            assert name not in helps and name not in types, line
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE "):].partition(" ")
            assert name in helps and name not in types, line
            assert kind in ("counter", "gauge"), line
            assert kind != "counter" or name.endswith("_total"), line
            types[name] = kind
        else:
            m = SAMPLE.fullmatch(line)
            assert m, "not a sample line: %r" % line
            name, labels, value = m.group(1), m.group(2), int(m.group(3))
            assert name in types, "sample before its # TYPE: %r" % line
            pairs = LABEL.findall(labels or "")
            assert ",".join('%s="%s"' % p for p in pairs) == (labels or ""), \
                line
            key = (name, tuple(pairs))
            assert key not in samples, "duplicate series: %r" % line
            assert types[name] == "gauge" or value >= 0, line
            samples[key] = value
    assert set(helps) == set(types), (helps, types)
    return samples


def scrape(ngx, method="GET"):
    resp = ngx.request(method, "/metrics")
    assert resp.status == 200, resp.body
    assert resp.headers["content-type"] == CONTENT_TYPE
    return resp, parse(resp.body.decode())


def requests_total(samples):
    """{(route, status): count} of enconvert_http_requests_total."""
    out = {}
    for (name, labels), value in samples.items():
        if name == "enconvert_http_requests_total":
            d = dict(labels)
            assert set(d) == {"route", "status"}, labels
            out[(d["route"], d["status"])] = value
    return out


def backend_counters(samples):
    return {name: samples[(name, ())] for name in BACKEND}


def expect(ngx, requests, **backend):
    """Waits (bounded) until a scrape shows exactly these request counts
    and these backend counters (the log phase runs right after a response
    is sent), then returns the parsed page."""
    want_backend = dict.fromkeys(BACKEND, 0)
    want_backend.update({"enconvert_backend_" + k: v
                         for k, v in backend.items()})
    got = {}

    def check():
        got["samples"] = scrape(ngx)[1]
        return (requests_total(got["samples"]) == requests
                and backend_counters(got["samples"]) == want_backend)

    wait_for(check, 3.0)
    assert requests_total(got["samples"]) == requests
    assert backend_counters(got["samples"]) == want_backend
    return got["samples"]


def answer_everything(m):
    """The fake worker's answers: a 202 for async converts, a 200 for the
    rest."""
    if m["op"] == "convert":
        status = 202 if m["async"] else 200
        return [(0, final(m, status=status, body=b'{"success":true}'))]
    return [(0, final(m, status=200, body=b'{"status":"ok"}'))]


@pytest.fixture
def menv(make_env):
    """One nginx with the metrics location; the fake worker answers."""
    ngx, backend = make_env(extra_server=METRICS)
    backend.responder = answer_everything
    return ngx, backend


# --- counters move ---------------------------------------------------------

def test_requests_counted_by_route_and_status(menv):
    ngx, backend = menv
    expect(ngx, {})
    body = {"url": "https://a.example"}

    assert ngx.request("POST", PDF, {**body, "async_mode": True},
                       auth()).status == 202
    assert ngx.request("POST", SHOT, body, auth()).status == 200
    assert_error(ngx.request("POST", PDF, {"url": "ftp://x"}, auth()),
                 400, "invalid_url", "url")
    assert_error(ngx.request("POST", PDF, body), 401, "missing_api_key")
    assert_error(ngx.request("POST", PDF, body, {"X-API-Key": "sk_live_x"}),
                 401, "invalid_api_key")
    assert_error(ngx.request("GET", SHOT), 405, "method_not_allowed")
    assert ngx.request("GET", "/v1/convert/status/job_1",
                       headers=auth()).status == 200
    assert ngx.request("GET", "/v1/health").status == 200
    assert ngx.request("HEAD", "/v1/health").status == 200
    assert_error(ngx.request("GET", "/v1/nothing"), 404, "not_found")

    expect(ngx, {("url-to-pdf", "202"): 1,
                 ("url-to-screenshot", "200"): 1,
                 ("url-to-pdf", "400"): 1,
                 ("url-to-pdf", "401"): 2,
                 ("url-to-screenshot", "405"): 1,
                 ("status", "200"): 1,
                 ("health", "200"): 2,
                 ("other", "404"): 1})

    # they keep moving; the scrapes themselves are not counted
    for _ in range(3):
        ngx.request("POST", PDF, {**body, "async_mode": True}, auth())
    samples = expect(ngx, {("url-to-pdf", "202"): 4,
                           ("url-to-screenshot", "200"): 1,
                           ("url-to-pdf", "400"): 1,
                           ("url-to-pdf", "401"): 2,
                           ("url-to-screenshot", "405"): 1,
                           ("status", "200"): 1,
                           ("health", "200"): 2,
                           ("other", "404"): 1})
    assert not any(route == "metrics" for route, _ in
                   requests_total(samples))


def test_backend_timeout_counted(make_env):
    ngx, backend = make_env(extra_server=METRICS, timeout="300ms")
    # the fake worker never answers
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert_error(resp, 504, "backend_timeout")
    # a health probe the worker does not answer is a timeout too
    assert ngx.request("GET", "/v1/health").status == 503
    expect(ngx, {("url-to-pdf", "504"): 1, ("health", "503"): 1},
           timeouts_total=2)


def test_sync_wait_turned_into_a_job_is_no_timeout(make_env):
    ngx, backend = make_env(extra_server=METRICS, timeout="1s",
                            sync_timeout="300ms")
    backend.responder = lambda m: [(0, {"v": 1, "id": m["id"],
                                        "kind": "accepted",
                                        "job_id": "job_slow"})]
    resp = ngx.request("POST", PDF, {"url": "https://a.example"}, auth())
    assert resp.status == 202 and resp.json()["status"] == "processing"
    expect(ngx, {("url-to-pdf", "202"): 1})


def test_backend_unavailable_counted(make_env):
    ngx, _ = make_env(bind=False, extra_server=METRICS)
    resp = ngx.request("POST", PDF, {"url": "https://a.example"}, auth())
    assert_error(resp, 503, "backend_unavailable")
    assert ngx.request("GET", "/v1/health").status == 503
    expect(ngx, {("url-to-pdf", "503"): 1, ("health", "503"): 1},
           unavailable_total=2)


def test_bad_backend_replies_counted(make_env):
    ngx, backend = make_env(extra_server=METRICS)
    # undecodable, unknown kind, then a final the module cannot use (502)
    backend.responder = lambda m: [
        (0, b"\xc1not msgpack"),
        (0, {"v": 1, "id": m["id"], "kind": "progress"}),
        (0.05, {"v": 1, "id": m["id"], "kind": "final", "status": 99,
                "content_type": "text/plain", "body": b"x"})]
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert_error(resp, 502, "bad_backend_reply")
    expect(ngx, {("url-to-pdf", "502"): 1}, bad_replies_total=3)


def test_requests_in_flight_gauge(menv):
    ngx, backend = menv
    backend.responder = lambda m: [(0.8, final(m, status=202, body=b"{}"))]
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(ngx.request(
        "POST", PDF, {"url": "https://a.example", "async_mode": True},
        auth()).status)) for _ in range(2)]
    for t in threads:
        t.start()
    assert wait_for(lambda: len(backend.messages()) == 2, 2)
    expect(ngx, {}, requests_in_flight=2)
    for t in threads:
        t.join(5)
    assert statuses == [202, 202]
    expect(ngx, {("url-to-pdf", "202"): 2})


def test_requests_in_flight_of_a_killed_worker_process_are_gone(
        tmp_path, module_so):
    # not make_env: its teardown refuses the [alert] the kill logs
    backend = FakeBackend(f"ipc://{tmp_path}/worker-1.sock")
    ngx = Nginx(str(tmp_path), module_so, [backend.endpoint],
                extra_server=METRICS, timeout="30s")
    try:
        assert backend.connected.wait(5)
        in_flight_of_a_killed_worker_process(ngx, backend)
    finally:
        ngx.stop()
        backend.close()


def in_flight_of_a_killed_worker_process(ngx, backend):
    # the fake worker never answers: the request stays in flight, until
    # its nginx worker process dies under it
    def cut_off():
        try:
            ngx.request("POST", PDF, {"url": "https://a.example",
                                      "async_mode": True}, auth(), timeout=30)
        except ConnectionError:
            pass

    threading.Thread(target=cut_off, daemon=True).start()
    assert wait_for(lambda: len(backend.messages()) == 1, 3)
    expect(ngx, {}, requests_in_flight=1)
    dead = worker_pid(ngx.proc.pid)
    os.kill(dead, signal.SIGKILL)
    # the master starts another worker process in its place
    assert wait_for(lambda: os.path.exists(f"/proc/{dead}") is False
                    and worker_pid(ngx.proc.pid) != dead, 5)
    samples = scrape(ngx)[1]
    assert samples[("enconvert_backend_requests_in_flight", ())] == 0
    # and it counts its own from zero, once connected to the worker
    assert wait_for(lambda: backend.handshakes == 2, 5)
    backend.responder = lambda m: [(0.5, final(m, status=202, body=b"{}"))]
    call = threading.Thread(target=lambda: ngx.request(
        "POST", PDF, {"url": "https://a.example", "async_mode": True},
        auth()), daemon=True)
    call.start()
    assert wait_for(lambda: len(backend.messages()) == 2, 3)
    samples = scrape(ngx)[1]
    assert samples[("enconvert_backend_requests_in_flight", ())] == 1
    call.join(5)


def test_stored_files_counted_on_their_route(make_env):
    """A presigned download is redirected to nginx's own files location,
    which answers 200/206/404: counted as "files", not as another
    location's request."""
    ngx, backend = make_env(
        extra_server=METRICS + "location @enconvert_error "
                               "{ enconvert_error; }",
        extra_api="error_page 404 @enconvert_error;")
    backend.responder = answer_everything
    exp = int(time.time()) + 600
    put_file(ngx, "live/a.pdf")

    def link(key):
        return f"/v1/files/{key}?expires={exp}&signature={presign(key, exp)}"

    assert ngx.request("GET", link("live/a.pdf")).status == 200
    assert ngx.request("GET", link("live/a.pdf"),
                       headers={"Range": "bytes=0-3"}).status == 206
    assert ngx.request("GET", link("live/gone.pdf")).status == 404
    assert_error(ngx.request("GET", "/v1/files/live/a.pdf?expires=1"),
                 403, "invalid_signature")
    # a direct download: the worker's answer redirects to the stored file
    backend.responder = lambda m: [(0, {
        "v": 1, "id": m["id"], "kind": "final", "status": 200,
        "internal_redirect": "live/a.pdf"})]
    assert ngx.request("POST", PDF, {"url": "https://a.example",
                                     "direct_download": True},
                       auth()).status == 200
    expect(ngx, {("files", "200"): 1, ("files", "206"): 1,
                 ("files", "404"): 1, ("files", "403"): 1,
                 ("url-to-pdf", "200"): 1})


def test_nginx_refusals_in_the_api_locations_counted(make_env):
    """What nginx refuses before the module's handler runs (limit_req,
    client_max_body_size) counts on the API route the URI names."""
    ngx, backend = make_env(
        extra_http="limit_req_zone $enconvert_api_key_hash zone=k:1m "
                   "rate=1r/m; limit_req_status 429;",
        extra_api="limit_req zone=k; "
                  "client_max_body_size 1k; "
                  "error_page 429 = @enconvert_rate_limited; "
                  "error_page 413 @enconvert_error;",
        extra_server=METRICS
        + "location @enconvert_rate_limited { enconvert_rate_limited; }"
        + "location @enconvert_error { enconvert_error; }"
        + "location /plain/ { return 204; }")
    backend.responder = answer_everything
    body = {"url": "https://a.example", "async_mode": True}
    assert ngx.request("POST", PDF, body, auth()).status == 202
    assert_error(ngx.request("POST", PDF, body, auth()), 429, "rate_limited")
    assert_error(ngx.request("POST", SHOT,
                             {"url": "https://a.example/" + "x" * 2000},
                             {"X-API-Key": "sk_live_" + "Q" * 40}),
                 413, "body_too_large")
    # another location's requests are not the module's
    assert ngx.request("GET", "/plain/x").status == 204
    expect(ngx, {("url-to-pdf", "202"): 1, ("url-to-pdf", "429"): 1,
                 ("url-to-screenshot", "413"): 1})


# --- the page --------------------------------------------------------------

def test_exposition_format_and_head(menv):
    ngx, _ = menv
    ngx.request("GET", "/v1/health")
    resp, samples = scrape(ngx)
    text = resp.body.decode()
    assert resp.headers["content-length"] == str(len(resp.body))
    # every metric is described, in order: HELP, TYPE, then its samples
    for name, kind in [("enconvert_http_requests_total", "counter"),
                       ("enconvert_backend_timeouts_total", "counter"),
                       ("enconvert_backend_unavailable_total", "counter"),
                       ("enconvert_backend_bad_replies_total", "counter"),
                       ("enconvert_backend_requests_in_flight", "gauge")]:
        assert f"\n# TYPE {name} {kind}\n" in text
    assert ('enconvert_http_requests_total{route="health",status="200"} 1\n'
            in text)
    assert requests_total(samples) == {("health", "200"): 1}

    head = ngx.request("HEAD", "/metrics")
    assert head.status == 200 and head.body == b""
    assert head.headers["content-type"] == CONTENT_TYPE


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_other_methods_405(menv, method):
    ngx, _ = menv
    resp = ngx.request(method, "/metrics", body="x")
    assert_error(resp, 405, "method_not_allowed")
    assert resp.headers["allow"] == "GET, HEAD"


def test_access_is_the_operators(make_env):
    ngx, _ = make_env(extra_server="location = /metrics "
                                   "{ enconvert_metrics; deny all; }")
    assert ngx.request("GET", "/metrics").status == 403


# --- shared memory ---------------------------------------------------------

def test_counters_survive_reload(menv):
    ngx, backend = menv
    body = {"url": "https://a.example", "async_mode": True}
    for _ in range(3):
        assert ngx.request("POST", PDF, body, auth()).status == 202
    assert_error(ngx.request("POST", PDF, body), 401, "missing_api_key")
    before = {("url-to-pdf", "202"): 3, ("url-to-pdf", "401"): 1}
    expect(ngx, before)
    old = ngx.request("GET", "/metrics").headers["x-worker"]

    handshakes = backend.handshakes
    ngx.reload()
    # once the old worker process has gone, the new one answers the
    # scrape with the old counters
    assert wait_for(lambda: not os.path.exists(f"/proc/{old}"), 5)
    resp, samples = scrape(ngx)
    assert resp.headers["x-worker"] != old
    assert requests_total(samples) == before

    # and counts on from there
    assert wait_for(lambda: backend.handshakes > handshakes, 5)
    time.sleep(0.05)
    assert ngx.request("POST", PDF, body, auth()).status == 202
    expect(ngx, {("url-to-pdf", "202"): 4, ("url-to-pdf", "401"): 1})


def test_counters_shared_by_worker_processes(make_env):
    """Two nginx workers (reuseport spreads connections over both): every
    scrape, whichever worker answers it, counts every worker's
    requests."""
    ngx, backend = make_env(
        worker_processes=2, listen_opts="reuseport",
        extra_api="add_header X-Worker $pid always;",
        extra_server=METRICS)
    backend.responder = answer_everything
    assert wait_for(lambda: backend.handshakes >= 2, 5), \
        "both nginx workers connect"
    time.sleep(0.05)

    served, statuses = set(), {}
    for n in range(400):
        resp = ngx.request("GET", "/v1/health")
        served.add(resp.headers["x-worker"])
        key = ("health", str(resp.status))
        statuses[key] = statuses.get(key, 0) + 1
        if len(served) == 2 and n >= 20:
            break
    assert len(served) == 2, "both workers served API requests"

    expect(ngx, statuses)
    scraped_by = set()
    for _ in range(200):
        resp, samples = scrape(ngx)
        assert requests_total(samples) == statuses, resp.headers["x-worker"]
        scraped_by.add(resp.headers["x-worker"])
        if len(scraped_by) == 2:
            break
    assert scraped_by == served


# --- configuration ---------------------------------------------------------

def conf_test(tmp_path, module_so, server_lines, http_lines=""):
    conf = tmp_path / "t.conf"
    conf.write_text(f"""
load_module {module_so};
error_log {tmp_path}/t.log;
pid {tmp_path}/t.pid;
events {{}}
http {{
    client_body_temp_path {tmp_path};
    {http_lines}
    server {{ listen 127.0.0.1:1; {server_lines} }}
}}
""")
    return subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf),
                           "-e", str(tmp_path / "t.log")],
                          capture_output=True, text=True)


@pytest.mark.parametrize("server,http,message", [
    ("location /m { enconvert_metrics on; }", "",
     'invalid number of arguments in "enconvert_metrics" directive'),
    ("", "enconvert_metrics;",
     '"enconvert_metrics" directive is not allowed here'),
    ("enconvert_metrics;", "",
     '"enconvert_metrics" directive is not allowed here'),
    ("location /m { enconvert_metrics; enconvert_metrics; }", "",
     '"enconvert_metrics" directive is duplicate'),
    ("location /m { enconvert_api; enconvert_metrics; }", "",
     '"enconvert_metrics" directive is duplicate'),
    ("location /m { enconvert_metrics; enconvert_api; }", "",
     '"enconvert_api" directive is duplicate'),
    ("location /m { enconvert_metrics; enconvert_error; }", "",
     '"enconvert_error" directive is duplicate'),
])
def test_directive_misuse_refused(tmp_path, module_so, server, http,
                                  message):
    res = conf_test(tmp_path, module_so, server, http)
    assert res.returncode != 0
    assert message in res.stderr, res.stderr


def test_metrics_alone_needs_no_backend(tmp_path, module_so):
    # without enconvert_api there is no worker to talk to, nor a secret to
    # read: the location still answers (all zeros)
    res = conf_test(tmp_path, module_so,
                    "location = /metrics { enconvert_metrics; }")
    assert res.returncode == 0, res.stderr


def uncommented_metrics_server(text):
    """The full-server example with its commented-out metrics server {}
    enabled."""
    lines = text.split("\n")
    start = next(i for i, line in enumerate(lines)
                 if line.strip() == "# server {")
    indent = lines[start].index("#")
    end = next(i for i in range(start, len(lines))
               if lines[i] == " " * indent + "# }")
    for i in range(start, end + 1):
        assert lines[i].startswith(" " * indent + "#"), lines[i]
        lines[i] = " " * indent + lines[i][indent + 2:]
    return "\n".join(lines)


def test_full_server_example_metrics_location(tmp):  # noqa: F811
    with open(os.path.join(REPO, "conf", "examples",
                           "full-server.conf")) as f:
        text = uncommented_metrics_server(f.read())
    assert "enconvert_metrics;" in text and "deny all;" in text
    text = installed_paths(text, tmp)
    text = text.replace("user www-data;",
                        "" if os.geteuid() else "user www-data;")
    res = nginx_t(tmp, text)
    assert res.returncode == 0, res.stderr


def test_documented_metrics_are_the_page(menv):
    """docs/metrics.md lists every metric of the page with its type and
    labels, and its example page parses."""
    ngx, _ = menv
    with open(os.path.join(REPO, "docs", "metrics.md")) as f:
        section = f.read().split("\n## nginx module\n")[1].split("\n## ")[0]
    documented = {
        name: (kind, set(re.findall(r"`(\w+)`", labels)))
        for name, kind, labels in re.findall(
            r"^\| `(enconvert_\w+)` \| (counter|gauge) \| ([^|]*) \|",
            section, re.M)}

    ngx.request("GET", "/v1/health")
    resp, samples = scrape(ngx)
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", resp.body.decode(),
                            re.M))
    labels = {}
    for name, pairs in samples:
        labels.setdefault(name, set()).update(k for k, _ in pairs)
    assert documented == {name: (kind, labels.get(name, set()))
                          for name, kind in types.items()}

    example = re.search(r"Example page:\n\n```\n(.*?)```", section, re.S)
    assert set(name for name, _ in parse(example.group(1))) == set(types)
