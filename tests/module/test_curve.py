"""Module tests for the link to workers on other hosts: tcp:// endpoints,
CURVE keys (directives, nginx -t errors, handshakes with a CURVE fake
worker) and the plain-tcp rule (docs/directives.md, docs/scaling.md)."""

import time

import pytest
import zmq

from ngxtest import SECRET, FakeBackend, Nginx, final, nginx_t, wait_for

pytestmark = pytest.mark.skipif(not zmq.has("curve"),
                                reason="libzmq without CURVE")

OK = b'{"status":"ok"}'


def keypair():
    public, secret = zmq.curve_keypair()
    return public.decode(), secret.decode()


def key_file(tmp_path, name, secret):
    path = tmp_path / name
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return path


def curve_lines(server_public, client_file):
    return (f"enconvert_curve_server_key '{server_public}'; "
            f"enconvert_curve_client_key_file {client_file};")


def answer_health(backend):
    backend.responder = lambda m: [(0, final(m, status=200, body=OK))] \
        if m and m.get("op") == "health" else []


@pytest.fixture
def keys(tmp_path):
    server_public, server_secret = keypair()
    client_public, client_secret = keypair()
    return {"server_public": server_public, "server_secret": server_secret,
            "client_public": client_public,
            "client_file": key_file(tmp_path, "client.key", client_secret)}


# --- nginx -t ---------------------------------------------------------------

def secret_line(tmp_path):
    (tmp_path / "secret").write_text(SECRET + "\n")
    return f" enconvert_signing_secret_file {tmp_path}/secret;"


def test_remote_tcp_with_curve_accepted(tmp_path, module_so, keys):
    res = nginx_t(tmp_path, module_so, secret_line(tmp_path) +
                  "enconvert_backend tcp://10.0.0.5:5555 "
                  "tcp://worker-2.internal:5555 tcp://[2001:db8::6]:5555; "
                  + curve_lines(keys["server_public"], keys["client_file"])
                  + " enconvert_heartbeat_interval 500ms; "
                  "enconvert_heartbeat_timeout 2s;")
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("backend", [
    "tcp://127.0.0.1:5555", "tcp://127.0.0.3:5555", "tcp://[::1]:5555",
    "tcp://localhost:5555", "ipc:///run/enconvert/worker.sock"])
def test_local_endpoints_need_no_curve(tmp_path, module_so, backend):
    res = nginx_t(tmp_path, module_so, f"enconvert_backend {backend};"
                  + secret_line(tmp_path))
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("backend", [
    "tcp://10.0.0.5:5555", "tcp://127.example.com:5555",
    "tcp://0.0.0.0:5555", "tcp://128.0.0.1:5555"])
def test_remote_plain_tcp_refused(tmp_path, module_so, backend):
    res = nginx_t(tmp_path, module_so,
                  f"enconvert_backend ipc:///x {backend};")
    assert res.returncode != 0
    assert f'"{backend}" is not on this host' in res.stderr, res.stderr
    assert "enconvert_curve_server_key" in res.stderr
    assert "enconvert_allow_plain_tcp on" in res.stderr


def test_remote_plain_tcp_allowed_explicitly(tmp_path, module_so):
    res = nginx_t(tmp_path, module_so,
                  "enconvert_backend tcp://10.0.0.5:5555; "
                  "enconvert_allow_plain_tcp on;" + secret_line(tmp_path))
    assert res.returncode == 0, res.stderr


def test_curve_keys_go_together(tmp_path, module_so, keys):
    for lines in (f"enconvert_curve_server_key '{keys['server_public']}';",
                  f"enconvert_curve_client_key_file {keys['client_file']};"):
        res = nginx_t(tmp_path, module_so,
                      "enconvert_backend tcp://10.0.0.5:5555; " + lines)
        assert res.returncode != 0
        assert "go together" in res.stderr, res.stderr


@pytest.mark.parametrize("key", [
    "short", "x" * 39, "x" * 41, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]y,7"])
def test_bad_server_key_refused(tmp_path, module_so, keys, key):
    res = nginx_t(tmp_path, module_so, "enconvert_backend ipc:///x; "
                  + curve_lines(key, keys["client_file"]))
    assert res.returncode != 0
    assert "enconvert_curve_server_key" in res.stderr, res.stderr
    assert "Z85" in res.stderr


def test_bad_client_key_files_refused_without_their_content(tmp_path,
                                                            module_so, keys):
    server = keys["server_public"]
    secretish = "my-secret-not-z85 but private"
    bad = key_file(tmp_path, "bad.key", secretish)
    empty = key_file(tmp_path, "empty.key", "")
    for path, message in ((bad, "does not hold a CURVE secret key"),
                          (empty, "is empty"),
                          (tmp_path / "missing.key", "cannot open")):
        res = nginx_t(tmp_path, module_so, "enconvert_backend ipc:///x; "
                      + curve_lines(server, path))
        assert res.returncode != 0
        assert "enconvert_curve_client_key_file" in res.stderr
        assert message in res.stderr, res.stderr
        assert secretish not in res.stderr


@pytest.mark.parametrize("lines,directive", [
    ("enconvert_heartbeat_interval 50ms;", "enconvert_heartbeat_interval"),
    ("enconvert_heartbeat_interval 11m;", "enconvert_heartbeat_interval"),
    ("enconvert_heartbeat_timeout soon;", "enconvert_heartbeat_timeout"),
    ("enconvert_heartbeat_interval 2s; enconvert_heartbeat_timeout 1s;",
     "enconvert_heartbeat_timeout"),
    ("enconvert_heartbeat_interval 1s; enconvert_heartbeat_interval 2s;",
     "enconvert_heartbeat_interval"),
    ("enconvert_allow_plain_tcp yes;", "enconvert_allow_plain_tcp"),
    ("enconvert_curve_server_key;", "enconvert_curve_server_key"),
    ("server { listen 127.0.0.1:2; "
     "enconvert_curve_client_key_file /k; }",
     "enconvert_curve_client_key_file"),
])
def test_bad_link_directives_refused(tmp_path, module_so, lines, directive):
    res = nginx_t(tmp_path, module_so, "enconvert_backend ipc:///x; " + lines)
    assert res.returncode != 0
    assert directive in res.stderr, res.stderr


@pytest.mark.parametrize("backend", [
    "tcp://10.0.0.5", "tcp://10.0.0.5:", "tcp://10.0.0.5:0",
    "tcp://10.0.0.5:65536", "tcp://:5555", "tcp://a_b:5555",
    "tcp://[::1:5555", "tcp://10.0.0.5:55x"])
def test_malformed_tcp_endpoints_refused(tmp_path, module_so, backend):
    res = nginx_t(tmp_path, module_so, f"enconvert_backend '{backend}';")
    assert res.returncode != 0
    assert f'invalid endpoint "{backend}"' in res.stderr, res.stderr


def test_duplicate_endpoint_refused(tmp_path, module_so):
    res = nginx_t(tmp_path, module_so,
                  "enconvert_backend ipc:///x tcp://127.0.0.1:5 ipc:///x;")
    assert res.returncode != 0
    assert 'duplicate endpoint "ipc:///x"' in res.stderr, res.stderr


# --- handshakes with a CURVE fake worker ------------------------------------

def curve_env(tmp_path, module_so, keys, allowed, server_public=None,
              client_file=None, **kw):
    """A CURVE fake worker on loopback tcp:// letting in `allowed` client
    keys, and an nginx using CURVE towards it."""
    backend = FakeBackend("tcp://127.0.0.1:*",
                          curve_secret=keys["server_secret"].encode(),
                          allowed_clients=[k.encode() for k in allowed])
    answer_health(backend)
    ngx = Nginx(str(tmp_path), module_so, [backend.endpoint],
                extra_http=curve_lines(server_public or keys["server_public"],
                                       client_file or keys["client_file"]),
                **kw)
    return ngx, backend


@pytest.fixture
def started():
    """Stops what a test started, and fails on nginx alerts."""
    items = []
    yield items
    for ngx, backend in items:
        ngx.stop()
        backend.close()
        assert "[alert]" not in ngx.log() and "[crit]" not in ngx.log()


def test_listed_client_key_talks_to_the_worker(tmp_path, module_so, keys,
                                               started):
    ngx, backend = curve_env(tmp_path, module_so, keys,
                             [keys["client_public"]])
    started.append((ngx, backend))
    assert backend.connected.wait(5), ngx.log()
    assert wait_for(lambda: ngx.request("GET", "/v1/health").status == 200)
    # The worker saw nginx's public key, derived from its secret key file.
    assert (keys["client_public"].encode(), True) in backend.zap_seen
    assert "connected to backend" in ngx.log()


def test_unlisted_client_key_is_refused(tmp_path, module_so, keys, started):
    other_public, _ = keypair()
    ngx, backend = curve_env(tmp_path, module_so, keys, [other_public])
    started.append((ngx, backend))
    assert wait_for(lambda: backend.zap_seen, 5), ngx.log()
    assert backend.zap_seen[0] == (keys["client_public"].encode(), False)
    time.sleep(2.5)                 # a few reconnections later
    r = ngx.request("GET", "/v1/health")
    assert r.status == 503, r.body
    assert r.json()["worker"] == "down"
    assert not backend.connected.is_set()
    assert backend.messages() == []
    # said once, not at every reconnection
    assert ngx.log().count("refused this host's CURVE key") == 1, ngx.log()


def test_wrong_server_key_never_connects(tmp_path, module_so, keys, started):
    impostor_public, _ = keypair()
    ngx, backend = curve_env(tmp_path, module_so, keys,
                             [keys["client_public"]],
                             server_public=impostor_public)
    started.append((ngx, backend))
    time.sleep(1.5)
    assert ngx.request("GET", "/v1/health").status == 503
    assert not backend.connected.is_set()
    assert backend.messages() == []
    assert ngx.log().count("enconvert_curve_server_key") == 1, ngx.log()


def test_plain_nginx_is_refused_by_a_curve_worker(tmp_path, module_so, keys,
                                                  started):
    backend = FakeBackend("tcp://127.0.0.1:*",
                          curve_secret=keys["server_secret"].encode(),
                          allowed_clients=[keys["client_public"].encode()])
    answer_health(backend)
    ngx = Nginx(str(tmp_path), module_so, [backend.endpoint])
    started.append((ngx, backend))
    assert wait_for(lambda: "CURVE must be on at both ends or at neither"
                    in ngx.log(), 15), ngx.log()
    assert ngx.request("GET", "/v1/health").status == 503
    assert backend.messages() == []


def test_curve_is_not_used_on_ipc(tmp_path, module_so, keys, started):
    # an ipc:// worker next to remote CURVE ones: file permissions guard it
    backend = FakeBackend(f"ipc://{tmp_path}/w.sock")
    answer_health(backend)
    ngx = Nginx(str(tmp_path), module_so, [backend.endpoint],
                extra_http=curve_lines(keys["server_public"],
                                       keys["client_file"]))
    started.append((ngx, backend))
    assert backend.connected.wait(5)
    assert wait_for(lambda: ngx.request("GET", "/v1/health").status == 200)
