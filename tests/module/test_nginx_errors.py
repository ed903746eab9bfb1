"""Errors nginx answers itself (docs/validation.md, "Errors nginx answers
itself"; docs/directives.md, enconvert_error): with the shipped nginx
configurations -- the packaged snippet included in a server, and the local
stack's template -- every answer to a request under the API's location is
the JSON error shape with the right status, also for what nginx refuses
while it reads the request line and headers, before it chooses a location.
The same server's other locations keep nginx's own pages, byte for byte
as a server without the snippet answers them.

Requests are sent raw over a socket (nothing a client library would
refuse to send); the server reads headers into 1 KiB buffers so over-long
lines are quick to build."""

import json
import os
import re
import signal
import socket
import subprocess
import time

import pytest

from ngxtest import API_KEY, NGINX, REPO, SECRET, free_port, wait_for

CONF = os.path.join(REPO, "conf")
BAD_LOG = re.compile(r"\[(alert|emerg|crit)\]")
HEADER_BUFFERS = ("client_header_buffer_size 1k;\n"
                  "    large_client_header_buffers 4 1k;")
TEMP_PATHS = "".join(f"{d}_temp_path {{tmp}}/{d}_temp;\n    "
                     for d in ("client_body", "proxy", "fastcgi", "uwsgi",
                               "scgi"))
USER = "user root;" if os.geteuid() == 0 else ""


class Server:
    """/usr/sbin/nginx in the foreground on `conf`; `ports` are waited
    for (bounded) before the tests talk to it."""

    def __init__(self, prefix, conf, error_log, ports):
        self.conf = conf
        self.error_log = error_log
        self.proc = subprocess.Popen(
            [NGINX, "-p", prefix, "-c", conf, "-e", error_log,
             "-g", "daemon off;"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for port in ports:
            if not wait_for(lambda: self._listening(port), 10):
                self.stop()
                out = self.proc.stdout.read().decode(errors="replace")
                raise RuntimeError("nginx did not start: " + out + self.log())

    def _listening(self, port):
        if self.proc.poll() is not None:
            return True             # reported by the caller's check
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            return False

    def log(self):
        try:
            with open(self.error_log) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        bad = [line for line in self.log().splitlines()
               if BAD_LOG.search(line)]
        assert not bad, "nginx error log has alerts:\n" + "\n".join(bad)


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


def exchange(port, data, timeout=10):
    """Sends raw bytes; reads the answer until its Content-Length is in or
    nginx closes the connection (bounded by `timeout`)."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout) as s:
        s.sendall(data)
        buf = b""
        while True:
            head, sep, rest = buf.partition(b"\r\n\r\n")
            if sep:
                lines = head.decode("latin-1").split("\r\n")
                hdrs = {}
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    hdrs[k.strip().lower()] = v.strip()
                n = int(hdrs.get("content-length", "-1"))
                if 0 <= n <= len(rest):
                    return Answer(int(lines[0].split()[1]), hdrs, rest[:n])
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                assert sep, "no answer: %r" % buf
                return Answer(int(lines[0].split()[1]), hdrs, rest)
            buf += chunk


def req(path, headers=(), method=b"GET", version=b"HTTP/1.1",
        host=b"localhost"):
    lines = [method + b" " + path + b" " + version, b"Host: " + host]
    lines += list(headers)
    return b"\r\n".join(lines) + b"\r\n\r\n"


AUTH = b"Authorization: Bearer " + API_KEY.encode()
JSON = b"Content-Type: application/json"

# name: (request for a path, status, error code)
REFUSED = {
    "duplicate_authorization":
        (lambda p: req(p, [AUTH, AUTH]), 400, "bad_request"),
    "duplicate_host":
        (lambda p: req(p, [b"Host: localhost"]), 400, "bad_request"),
    "nul_in_path":
        (lambda p: req(p + b"\x00x"), 400, "bad_request"),
    "space_in_path":
        (lambda p: req(p + b" x"), 400, "bad_request"),
    "nul_in_header":
        (lambda p: req(p, [b"X-A: a\x00b"]), 400, "bad_request"),
    "header_without_colon":
        (lambda p: req(p, [b"Bad Header"]), 400, "bad_request"),
    "duplicate_content_length":
        (lambda p: req(p, [AUTH, JSON, b"Content-Length: 2",
                           b"Content-Length: 2"], method=b"POST") + b"{}",
         400, "bad_request"),
    "invalid_content_length":
        (lambda p: req(p, [AUTH, JSON, b"Content-Length: 2x"],
                       method=b"POST"), 400, "bad_request"),
    "http11_without_host":
        (lambda p: b"GET " + p + b" HTTP/1.1\r\n\r\n", 400, "bad_request"),
    "path_above_root":
        (lambda p: req(p + b"/../../../../x"), 400, "bad_request"),
    "header_line_too_long":
        (lambda p: req(p, [AUTH, b"X-Long: " + b"a" * 2000]), 400,
         "bad_request"),
    "uri_too_long":
        (lambda p: req(p + b"?q=" + b"a" * 2000), 414, "uri_too_long"),
    "unknown_transfer_encoding":
        (lambda p: req(p, [AUTH, JSON, b"Transfer-Encoding: gzip"],
                       method=b"POST"), 501, "bad_request"),
    "http_version_not_supported":
        (lambda p: req(p, version=b"HTTP/2.0"), 505, "bad_request"),
    # nginx's client_max_body_size (2m in the snippet, above the module's
    # 1m), declared, or a chunk announced larger: refused before the
    # module reads a byte of it
    "body_over_client_max_body_size":
        (lambda p: req(p, [AUTH, JSON, b"Content-Length: 3000000"],
                       method=b"POST"), 413, "body_too_large"),
    "chunk_over_client_max_body_size":
        (lambda p: req(p, [AUTH, JSON, b"Transfer-Encoding: chunked"],
                       method=b"POST") + b"300000\r\n" + b"{" * 1000,
         413, "body_too_large"),
}

API_PATH = b"/v1/convert/url-to-pdf"
SITE_PATH = b"/site/page"


def snippet_conf(tmp, port, plain_port):
    """The packaged snippet in a server that also holds another site's
    location, as installed (docs/operations.md), with this test's paths;
    a second server is the same site without the snippet."""
    with open(os.path.join(CONF, "enconvert-snippet.conf")) as f:
        snippet = f.read()
    snippet = (snippet.replace("/var/log/nginx/", f"{tmp}/")
               .replace("/var/lib/enconvert/storage/", f"{tmp}/storage/"))
    (tmp / "snippet.conf").write_text(snippet)
    (tmp / "secret").write_text(SECRET + "\n")
    (tmp / "storage").mkdir()
    (tmp / "www" / "site").mkdir(parents=True)
    (tmp / "www" / "site" / "page").write_text("site\n")
    conf = tmp / "nginx.conf"
    conf.write_text(f"""
load_module {tmp}/module.so;
{USER}
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 64; }}
http {{
    include {CONF}/enconvert-log.conf;
    {TEMP_PATHS.format(tmp=tmp)}
    enconvert_backend ipc://{tmp}/worker.sock;
    enconvert_signing_secret_file {tmp}/secret;
    {HEADER_BUFFERS}

    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        access_log {tmp}/site.log;

        include {tmp}/snippet.conf;

        location /site/ {{
            root {tmp}/www;
        }}

        location = /site/refused {{
            return 400;
        }}

        location = /metrics {{
            enconvert_metrics;
        }}
    }}

    server {{
        listen 127.0.0.1:{plain_port};
        server_name localhost;
        access_log off;

        location /site/ {{
            root {tmp}/www;
        }}

        location = /site/refused {{
            return 400;
        }}
    }}
}}
""")
    return str(conf)


def local_conf(tmp, port):
    """The local stack's nginx.conf as scripts/stack.sh fills it."""
    home = tmp / "home"
    for d in ("log", "run", "storage", "nginx"):
        (home / d).mkdir(parents=True)
    (home / "secret").write_text(SECRET + "\n")
    with open(os.path.join(CONF, "nginx-local.conf.template")) as f:
        text = f.read()
    for key, value in {"USER_LINE": USER, "HOME": str(home),
                       "MODULE": f"{tmp}/module.so",
                       "BACKENDS": f"ipc://{tmp}/worker.sock",
                       "PORT": str(port), "REPO": REPO,
                       "NGINX_EXTRA": HEADER_BUFFERS}.items():
        text = text.replace(f"@{key}@", value)
    assert "@" not in re.sub(r"@enconvert_\w+", "", text), text
    conf = home / "nginx" / "nginx.conf"
    conf.write_text(text)
    return (str(home / "nginx"), str(conf),
            str(home / "log" / "nginx-error.log"))


@pytest.fixture
def snippet(tmp_path, module_so):
    os.symlink(module_so, tmp_path / "module.so")
    port, plain_port = free_port(), free_port()
    conf = snippet_conf(tmp_path, port, plain_port)
    srv = Server(str(tmp_path), conf, str(tmp_path / "error.log"),
                 [port, plain_port])
    srv.port, srv.plain_port, srv.tmp = port, plain_port, tmp_path
    yield srv
    srv.stop()


@pytest.fixture(params=["snippet", "local_stack"])
def api(request, tmp_path, module_so):
    """nginx with the API configured by a shipped configuration."""
    if request.param == "snippet":
        yield request.getfixturevalue("snippet")
        return
    os.symlink(module_so, tmp_path / "module.so")
    port = free_port()
    prefix, conf, log = local_conf(tmp_path, port)
    srv = Server(prefix, conf, log, [port])
    srv.port = port
    yield srv
    srv.stop()


def assert_json_error(ans, status, code):
    assert ans.status == status, (ans.status, ans.body)
    assert ans.headers.get("content-type") == "application/json", \
        (ans.headers, ans.body)
    body = json.loads(ans.body)
    assert body["success"] is False, body
    assert body["error"] == code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    assert set(body) <= {"success", "error", "detail", "field"}, body


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_api_gets_the_json_error(api, case):
    build, status, code = REFUSED[case]
    assert_json_error(exchange(api.port, build(API_PATH)), status, code)


def test_over_long_header_says_so(api):
    # "error_page 494 =494" keeps nginx's reason for the detail
    build = REFUSED["header_line_too_long"][0]
    ans = exchange(api.port, build(API_PATH))
    assert_json_error(ans, 400, "bad_request")
    assert "header" in json.loads(ans.body)["detail"]


def test_other_api_routes_too(api):
    # any path under the API's location, a route or not, with or without
    # a query string
    for path in (b"/v1/health", b"/v1/nowhere", b"/v1/convert/status/x?a=1"):
        assert_json_error(exchange(api.port, req(path, [AUTH, AUTH])),
                          400, "bad_request")
        assert_json_error(exchange(api.port, req(path + b"\x00")),
                          400, "bad_request")


def test_the_api_still_answers(api):
    # nothing changes for a good request: the module's own answer (no
    # worker is running here: 503 in the health shape)
    ans = exchange(api.port, req(b"/v1/health"))
    assert ans.status == 503, ans.body
    assert ans.headers["content-type"] == "application/json"
    assert b'"worker":"down"' in ans.body


def test_the_error_location_is_internal(api):
    ans = exchange(api.port, req(b"/_enconvert_error"))
    assert ans.status == 404
    assert ans.headers["content-type"] == "text/html"


# what nginx answers the same server's other locations: the same as a
# server without the snippet, byte for byte (Date aside)
SITE_CASES = sorted(REFUSED) + ["garbage", "no_path", "ok",
                                "refused_in_location"]


def site_request(case):
    if case == "refused_in_location":
        # after nginx chose the location: it inherits the server's
        # error_page lines (it has none of its own)
        return req(b"/site/refused")
    if case == "garbage":
        return b"GARBAGE\r\n\r\n"
    if case == "no_path":
        return b"GET \x00 HTTP/1.1\r\nHost: localhost\r\n\r\n"
    if case == "ok":
        return req(SITE_PATH)
    return REFUSED[case][0](SITE_PATH)


@pytest.mark.parametrize("case", SITE_CASES)
def test_other_locations_keep_nginx_pages(snippet, case):
    data = site_request(case)
    got = exchange(snippet.port, data)
    want = exchange(snippet.plain_port, data)
    assert (got.status, got.body) == (want.status, want.body)
    for h in ("content-type", "content-length", "connection"):
        assert got.headers.get(h) == want.headers.get(h), h
    if case != "ok":
        assert got.status >= 400
        assert got.headers.get("content-type") in ("text/html", None)


def test_header_too_large_page_is_nginx_own(snippet):
    # "error_page 494 =494": the site still gets nginx's 400 page for it
    build = REFUSED["header_line_too_long"][0]
    ans = exchange(snippet.port, build(SITE_PATH))
    assert ans.status == 400
    assert b"Request Header Or Cookie Too Large" in ans.body


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def test_logs_and_metrics(snippet):
    site_log = snippet.tmp / "site.log"
    api_log = snippet.tmp / "access.log"

    # the site's error is logged by the server's own access_log, as nginx
    # logs it without the snippet
    exchange(snippet.port, req(SITE_PATH + b"\x00"))
    assert wait_for(lambda: "400" in read(site_log), 5), read(site_log)
    assert read(api_log) == ""

    # the API's, in the snippet's secret-free format, counted by route
    exchange(snippet.port, req(b"/v1/health", [AUTH, AUTH]))
    exchange(snippet.port, req(b"/v1/health\x00"))
    assert wait_for(lambda: read(api_log).count(" 400 ") == 2, 5), \
        read(api_log)
    assert API_KEY not in read(api_log)
    assert read(site_log).count("\n") == 1, read(site_log)

    page = exchange(snippet.port, req(b"/metrics")).body.decode()
    assert ('enconvert_http_requests_total{route="health",status="400"} 2'
            in page), page


@pytest.mark.parametrize("case", ["duplicate_authorization", "nul_in_path"])
def test_recursive_error_pages_do_not_loop(tmp_path, module_so, case):
    # the site's error comes back as nginx's page once, even when the
    # server lets error pages have error pages
    os.symlink(module_so, tmp_path / "module.so")
    port, plain_port = free_port(), free_port()
    conf = snippet_conf(tmp_path, port, plain_port)
    text = open(conf).read().replace(
        "access_log {}/site.log;".format(tmp_path),
        "access_log {}/site.log;\n        recursive_error_pages on;"
        .format(tmp_path))
    open(conf, "w").write(text)
    srv = Server(str(tmp_path), conf, str(tmp_path / "error.log"),
                 [port, plain_port])
    try:
        build, status, code = REFUSED[case]
        ans = exchange(port, build(SITE_PATH))
        assert ans.status == status
        assert ans.headers["content-type"] == "text/html"
        assert_json_error(exchange(port, build(API_PATH)), status, code)
    finally:
        srv.stop()
    assert "rewrite or internal redirection cycle" not in srv.log()


def test_regex_and_exact_api_locations(tmp_path, module_so):
    # the API's locations are found whatever their kind: a regular
    # expression and an exact location here, no snippet
    os.symlink(module_so, tmp_path / "module.so")
    (tmp_path / "secret").write_text(SECRET + "\n")
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
load_module {tmp_path}/module.so;
{USER}
worker_processes 1;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {TEMP_PATHS.format(tmp=tmp_path)}
    enconvert_backend ipc://{tmp_path}/worker.sock;
    enconvert_signing_secret_file {tmp_path}/secret;

    server {{
        listen 127.0.0.1:{port};
        error_page 400 /_enconvert_error;

        location ~ ^/v1/conv {{
            enconvert_api;
        }}

        location = /v1/health {{
            enconvert_api;
        }}

        location = /_enconvert_error {{
            internal;
            enconvert_error;
        }}
    }}
}}
""")
    srv = Server(str(tmp_path), str(conf), str(tmp_path / "error.log"),
                 [port])
    try:
        for path, api in [(b"/v1/convert/url-to-pdf", True),
                          (b"/v1/conv", True), (b"/v1/health", True),
                          (b"/v1/healthz", False), (b"/v1/other", False),
                          (b"/x/v1/convert/", False)]:
            for data in (req(path, [AUTH, AUTH]), req(path + b"\x00")):
                ans = exchange(port, data)
                if api:
                    assert_json_error(ans, 400, "bad_request")
                else:
                    assert ans.status == 400, path
                    assert ans.headers["content-type"] == "text/html", path
    finally:
        srv.stop()
