"""Backend behaviours (normal, slow, never, garbage, twice), reloads with
requests in flight, and clients that go away.  The make_env fixture fails
any test whose nginx error log has an [alert], [emerg] or [crit]."""

import json
import socket
import subprocess
import threading
import time

from ngxtest import (API_KEY, NGINX, accepted, assert_error,
                     assert_nothing_sent, auth, final, wait_for)

PDF = "/v1/convert/url-to-pdf"



def body_for(m):
    return json.dumps({"url": m["urls"][0]}).encode()


def reload(ngx):
    res = subprocess.run([NGINX, "-p", ngx.tmp, "-c", ngx.conf,
                          "-e", ngx.error_log, "-s", "reload"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def in_threads(fn, n):
    results = [None] * n

    def run(i):
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    return threads, results


def until_served(ngx, body, timeout=5.0):
    """After a reload the new worker's DEALER needs a moment to connect;
    until then requests answer 503 + Retry-After (never hang)."""
    deadline = time.monotonic() + timeout
    while True:
        resp = ngx.request("POST", PDF, body, auth())
        if resp.status != 503 or time.monotonic() > deadline:
            return resp
        assert resp.headers["retry-after"] == "1"
        time.sleep(0.05)


def sync_call(ngx, i):
    return ngx.request("POST", PDF, {"url": f"https://example.com/{i}"},
                       auth())


# --- backend behaviours ----------------------------------------------------

def test_slow_backend_within_timeouts(make_env):
    ngx, backend = make_env(timeout="1s", sync_timeout="1500ms")
    # async: the final comes late but inside enconvert_timeout
    backend.responder = lambda m: [(0.7, final(m, status=202,
                                               body=body_for(m)))]
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert resp.status == 202 and resp.json()["url"] == "https://a.example"
    # sync: "accepted" extends the wait from enconvert_timeout (1s) to
    # enconvert_sync_timeout (1.5s); the final at 1.2s is relayed
    backend.responder = lambda m: [(0.2, accepted(m, "job_slow")),
                                   (1.2, final(m, status=200,
                                               body=body_for(m)))]
    resp = ngx.request("POST", PDF, {"url": "https://b.example"}, auth())
    assert resp.status == 200 and resp.json()["url"] == "https://b.example"


def test_backend_replies_twice(make_env):
    """Two finals (and a late accepted) for one id: the first is relayed,
    the rest are dropped without touching the finished request."""
    ngx, backend = make_env()
    backend.responder = lambda m: [
        (0, final(m, status=202, body=b'{"n":1}')),
        (0, final(m, status=500, body=b'{"n":2}')),
        (0.05, accepted(m, "job_late")),
        (0.1, final(m, status=200, body=b'{"n":3}'))]
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert resp.status == 202 and resp.json() == {"n": 1}
    time.sleep(0.3)
    # the same connection id space keeps working
    backend.responder = lambda m: [(0, final(m, status=202,
                                             body=body_for(m)))]
    for i in range(3):
        resp = ngx.request("POST", PDF, {"url": f"https://x.example/{i}",
                                         "async_mode": True}, auth())
        assert resp.status == 202
        assert resp.json()["url"] == f"https://x.example/{i}"
    assert "[error]" not in ngx.log()


def test_sync_twice_accepted_then_final(make_env):
    ngx, backend = make_env()
    backend.responder = lambda m: [(0, accepted(m, "job_a")),
                                   (0, accepted(m, "job_a")),
                                   (0.1, final(m, status=200, body=b"{}")),
                                   (0.1, final(m, status=200, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": "https://a.example"}, auth())
    assert resp.status == 200


def test_garbage_then_valid_reply(make_env):
    """Undecodable, wrong-version, multi-frame and unknown-kind replies are
    dropped; the request still gets its real final."""
    ngx, backend = make_env()
    import msgpack
    backend.responder = lambda m: [
        (0, b"\x00\x01garbage"),
        (0, msgpack.packb([1, 2, 3])),
        (0, {"v": 2, "id": m["id"], "kind": "final", "status": 200,
             "content_type": "application/json", "body": b"{}"}),
        (0, {"v": 1, "id": m["id"], "kind": "progress"}),
        (0, {"v": 1, "id": m["id"] + 1000, "kind": "final", "status": 200,
             "content_type": "application/json", "body": b"{}"}),
        (0.05, final(m, status=202, body=b'{"ok":true}'))]
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert resp.status == 202 and resp.json() == {"ok": True}


def test_malformed_final_is_502(make_env):
    ngx, backend = make_env()
    backend.responder = lambda m: [(0, {"v": 1, "id": m["id"],
                                        "kind": "final", "status": 99,
                                        "content_type": "text/plain",
                                        "body": b"x"})]
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert_error(resp, 502, "bad_backend_reply")


def test_backend_goes_away_then_503_quickly(make_env):
    ngx, backend = make_env()
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    assert ngx.request("POST", PDF, {"url": "https://a.example"},
                       auth()).status == 202
    backend.close()
    assert wait_for(lambda: ngx.request(
        "GET", "/v1/health").status == 503, 5)
    t0 = time.monotonic()
    resp = ngx.request("POST", PDF, {"url": "https://a.example"}, auth())
    assert time.monotonic() - t0 < 1
    assert_error(resp, 503, "backend_unavailable")
    assert resp.headers["retry-after"] == "1"


# --- reload with requests in flight ----------------------------------------

def test_reload_with_sync_requests_in_flight(make_env):
    """nginx -s reload while sync requests wait for their final: the old
    worker keeps its DEALER until they are answered, then exits cleanly;
    the new worker serves new requests."""
    ngx, backend = make_env(timeout="2s", sync_timeout="3s")
    backend.responder = lambda m: [(0, accepted(m, "job_r")),
                                   (1.0, final(m, status=200,
                                               body=body_for(m)))]
    n = 6
    threads, results = in_threads(lambda i: sync_call(ngx, i), n)
    assert wait_for(lambda: len(backend.messages()) == n)

    reload(ngx)

    for t in threads:
        t.join(5)
    for i, resp in enumerate(results):
        assert resp is not None and resp.status == 200, resp
        assert resp.json() == {"url": f"https://example.com/{i}"}

    backend.responder = lambda m: [(0, final(m, status=202,
                                             body=body_for(m)))]
    resp = until_served(ngx, {"url": "https://after.example",
                              "async_mode": True})
    assert resp.status == 202
    assert resp.json() == {"url": "https://after.example"}

    # the old worker finished and exited normally
    assert wait_for(lambda: "exited with code 0" in ngx.log(), 5), ngx.log()
    assert "exited on signal" not in ngx.log()


def test_reload_when_final_never_comes(make_env):
    """Requests in flight on the old worker end cleanly on their own timer:
    202 with the job id after "accepted", 504 without."""
    ngx, backend = make_env(timeout="800ms", sync_timeout="1500ms")

    def respond(m):
        if m["urls"][0].endswith("/0"):
            return []                      # never answers
        return [(0, accepted(m, "job_n"))]  # accepts, never finishes

    backend.responder = respond
    threads, results = in_threads(lambda i: sync_call(ngx, i), 4)
    assert wait_for(lambda: len(backend.messages()) == 4)

    reload(ngx)

    for t in threads:
        t.join(5)
    assert_error(results[0], 504, "backend_timeout")
    for resp in results[1:]:
        assert resp.status == 202
        assert resp.json()["job_id"] == "job_n"
    assert wait_for(lambda: "exited with code 0" in ngx.log(), 5)


# --- clients that go away --------------------------------------------------

def raw_convert(port, body, sync=False):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST " + PDF.encode() + b" HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
              + body)
    return s


def test_client_gone_during_sync_wait(make_env):
    ngx, backend = make_env(timeout="1s", sync_timeout="2s")
    backend.responder = lambda m: [(0, accepted(m, "job_g")),
                                   (0.6, final(m, status=200, body=b"{}"))]
    socks = [raw_convert(ngx.port, json.dumps(
        {"url": f"https://a.example/{i}"}).encode()) for i in range(5)]
    assert wait_for(lambda: len(backend.messages()) == 5)
    time.sleep(0.1)                       # the accepted replies arrive
    for s in socks:
        s.close()
    time.sleep(0.8)                       # finals for finished requests
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert resp.status == 202


def test_client_gone_before_body_complete(env):
    """A body that never completes is never sent to the backend."""
    ngx, backend = env
    body = json.dumps({"url": "https://a.example"}).encode()
    s = socket.create_connection(("127.0.0.1", ngx.port))
    s.sendall(b"POST " + PDF.encode() + b" HTTP/1.1\r\nHost: x\r\n"
              b"Authorization: Bearer " + API_KEY.encode() + b"\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: " + str(len(body) + 10).encode()
              + b"\r\n\r\n" + body)
    time.sleep(0.2)
    s.close()
    time.sleep(0.1)
    assert_nothing_sent(ngx, backend)


def test_client_resets_connection_while_waiting(env):
    """RST instead of FIN while the request waits for the backend."""
    import struct
    ngx, backend = env
    backend.responder = lambda m: [(0.4, final(m, status=202, body=b"{}"))]
    s = raw_convert(ngx.port, json.dumps(
        {"url": "https://a.example", "async_mode": True}).encode())
    assert wait_for(lambda: len(backend.messages()) == 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack("ii", 1, 0))
    s.close()
    time.sleep(0.6)
    backend.responder = lambda m: [(0, final(m, status=202, body=b"{}"))]
    resp = ngx.request("POST", PDF, {"url": "https://a.example",
                                     "async_mode": True}, auth())
    assert resp.status == 202
