"""Module tests: requests waiting on a worker whose connection is lost are
answered at once (or sent to another worker when that is safe) instead of
waiting for enconvert_timeout; a worker host that goes silent is dropped
within the heartbeat timeout (docs/directives.md, docs/scaling.md)."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from ngxtest import (FakeBackend, Nginx, accepted, assert_error, auth, final,
                     wait_for)

PDF = "/v1/convert/url-to-pdf"
STATUS = "/v1/convert/status/job_1"
TIMEOUT = 10        # enconvert_timeout: what a lost request no longer waits


class Call:
    """One HTTP request run in a thread; .result() waits for the answer and
    gives (response, seconds it took)."""

    def __init__(self, ngx, method, path, body=None, headers=None):
        self._out = {}

        def run():
            start = time.monotonic()
            self._out["resp"] = ngx.request(method, path, body=body,
                                            headers=headers, timeout=30)
            self._out["took"] = time.monotonic() - start

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self, timeout=30):
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "no answer"
        return self._out["resp"], self._out["took"]


@pytest.fixture
def pair(tmp_path, module_so):
    """nginx with two fake workers on ipc://, neither answering yet."""
    a = FakeBackend(f"ipc://{tmp_path}/a.sock")
    b = FakeBackend(f"ipc://{tmp_path}/b.sock")
    ngx = Nginx(str(tmp_path), module_so, [a.endpoint, b.endpoint],
                timeout=f"{TIMEOUT}s", sync_timeout="20s")
    assert a.connected.wait(5) and b.connected.wait(5)
    time.sleep(0.1)                 # the DEALER side attaches its pipes too
    yield ngx, a, b
    ngx.stop()
    a.close()
    b.close()
    assert "[alert]" not in ngx.log(), ngx.log()


def receiver(a, b, op):
    """The backend that got a message of `op`, once one has."""
    def find():
        for backend in (a, b):
            if any(m and m.get("op") == op for m in backend.messages()):
                return backend
        return None
    assert wait_for(lambda: find() is not None, 5), "nothing was sent"
    return find()


def test_convert_of_a_lost_worker_answers_503_at_once(pair):
    ngx, a, b = pair
    call = Call(ngx, "POST", PDF, {"url": "https://a.example"}, auth())
    victim = receiver(a, b, "convert")
    victim.close()
    resp, took = call.result()
    body = assert_error(resp, 503, "backend_unavailable")
    assert resp.headers["retry-after"] == "1"
    assert "may have been created" in body["detail"]
    assert "Idempotency-Key" in body["detail"]
    assert took < 3, took
    assert "lost the connection to backend" in ngx.log()


@pytest.mark.parametrize("method,path,body,headers,op", [
    ("GET", STATUS, None, auth(), "status"),
    ("GET", "/v1/health", None, None, "health"),
    ("POST", PDF, {"url": "https://a.example"},
     {**auth(), "Idempotency-Key": "order-7"}, "convert"),
])
def test_safe_request_of_a_lost_worker_goes_to_another(pair, method, path,
                                                       body, headers, op):
    ngx, a, b = pair
    call = Call(ngx, method, path, body, headers)
    victim = receiver(a, b, op)
    other = b if victim is a else a
    other.responder = lambda m: [(0, final(m, status=202, body=b'{"x":1}'))]
    first_id = victim.messages()[0]["id"]
    victim.close()
    resp, took = call.result()
    assert resp.status == 202, resp.body
    assert took < 3, took
    # the same request, sent again as it was
    assert [m["id"] for m in other.messages()] == [first_id]
    assert "sent again" in ngx.log()


def test_accepted_sync_job_of_a_lost_worker_answers_202(pair):
    ngx, a, b = pair
    for backend in (a, b):
        backend.responder = lambda m: [(0, accepted(m, "job_abc"))]
    call = Call(ngx, "POST", PDF, {"url": "https://a.example"}, auth())
    victim = receiver(a, b, "convert")
    time.sleep(0.2)                 # the "accepted" arrives
    victim.close()
    resp, took = call.result()
    assert resp.status == 202, resp.body
    assert resp.json()["job_id"] == "job_abc"
    assert resp.json()["status"] == "processing"
    assert took < 3, took


def test_a_stopping_worker_gets_nothing_new_and_answers_what_it_has(pair):
    ngx, a, b = pair
    for backend in (a, b):
        backend.responder = lambda m: [
            (1.0 if m["op"] == "convert" else 0,
             final(m, status=202, body=b'{"job_id":"job_%d"}' % m["id"]))]
    held = Call(ngx, "POST", PDF, {"url": "https://a.example"}, auth())
    stopping = receiver(a, b, "convert")
    other = b if stopping is a else a
    stopping.say_stopping()
    assert wait_for(lambda: "is stopping" in ngx.log(), 5), ngx.log()
    calls = [Call(ngx, "POST", PDF, {"url": "https://a.example"}, auth())
             for _ in range(4)]
    for call in calls:
        assert call.result()[0].status == 202
    assert len(other.messages()) == 4
    assert len(stopping.messages()) == 1
    # its own request is answered by it, not as lost
    resp, _ = held.result()
    assert resp.status == 202, resp.body
    assert resp.json()["job_id"] == "job_%d" % stopping.messages()[0]["id"]
    stopping.close()
    assert Call(ngx, "GET", STATUS, headers=auth()).result()[0].status == 202
    assert "lost the connection" not in ngx.log()


def test_only_stopping_workers_left_answer_503_not_enqueued(tmp_path,
                                                            module_so):
    backend = FakeBackend(f"ipc://{tmp_path}/a.sock")
    ngx = Nginx(str(tmp_path), module_so, [backend.endpoint],
                timeout=f"{TIMEOUT}s")
    try:
        backend.responder = lambda m: [(0, final(m, status=200, body=b"{}"))]
        assert wait_for(
            lambda: ngx.request("GET", "/v1/health").status == 200, 5)
        backend.say_stopping()
        assert wait_for(lambda: "is stopping" in ngx.log(), 5), ngx.log()
        seen = len(backend.messages())
        resp, took = Call(ngx, "POST", PDF, {"url": "https://a.example"},
                          auth()).result()
        body = assert_error(resp, 503, "backend_unavailable")
        assert "may have been created" not in body["detail"]
        assert took < 3, took
        assert len(backend.messages()) == seen
    finally:
        ngx.stop()
        backend.close()


def test_no_worker_left_answers_503_at_once(tmp_path, module_so):
    backend = FakeBackend(f"ipc://{tmp_path}/a.sock")
    ngx = Nginx(str(tmp_path), module_so, [backend.endpoint],
                timeout=f"{TIMEOUT}s")
    try:
        assert backend.connected.wait(5)
        time.sleep(0.1)
        status = Call(ngx, "GET", STATUS, headers=auth())
        health = Call(ngx, "GET", "/v1/health")
        assert wait_for(lambda: len(backend.messages()) == 2, 5)
        backend.close()
        resp, took = status.result()
        assert_error(resp, 503, "backend_unavailable")
        assert took < 3, took
        resp, took = health.result()
        assert resp.status == 503 and resp.json()["worker"] == "down"
        assert took < 3, took
    finally:
        ngx.stop()
        backend.close()


# --- a worker host that goes silent -----------------------------------------

# A worker whose whole process can be stopped (SIGSTOP): its connection stays
# open, as when a host loses power or its network, and only the heartbeats
# tell.  It answers health checks until then and records every request.
SILENT_WORKER = r"""
import sys, msgpack, zmq
ctx = zmq.Context()
s = ctx.socket(zmq.ROUTER)
s.linger = 0
s.bind("tcp://127.0.0.1:*")
print(s.getsockopt_string(zmq.LAST_ENDPOINT), flush=True)
while True:
    ident, payload = s.recv_multipart()
    msg = msgpack.unpackb(payload, raw=False)
    print(msg["op"], msg["id"], flush=True)
    if msg["op"] == "health":
        s.send_multipart([ident, msgpack.packb(
            {"v": 1, "id": msg["id"], "kind": "final", "status": 200,
             "content_type": "application/json", "body": b"{}"},
            use_bin_type=True)])
"""


@pytest.fixture
def silent_pair(tmp_path, module_so):
    proc = subprocess.Popen([sys.executable, "-c", SILENT_WORKER],
                            stdout=subprocess.PIPE, text=True)
    endpoint = proc.stdout.readline().strip()
    seen = []                       # what the silent worker received
    threading.Thread(target=lambda: seen.extend(iter(proc.stdout.readline,
                                                     "")),
                     daemon=True).start()
    live = FakeBackend("tcp://127.0.0.1:*")
    ngx = Nginx(str(tmp_path), module_so, [endpoint, live.endpoint],
                timeout=f"{TIMEOUT}s",
                extra_http="enconvert_heartbeat_interval 200ms; "
                           "enconvert_heartbeat_timeout 1s;")
    try:
        live.responder = lambda m: [(0, final(m, status=200, body=b"{}"))] \
            if m["op"] != "convert" else \
            [(0, final(m, status=202, body=b'{"job_id":"job_live"}'))]
        # both connected: health checks reach each of them
        assert wait_for(lambda: ngx.request("GET", "/v1/health").status == 200
                        and seen and live.messages(), 5), ngx.log()
        yield ngx, proc, live
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        ngx.stop()
        live.close()


def test_silent_worker_host_is_dropped_within_the_heartbeat_timeout(
        silent_pair):
    ngx, proc, live = silent_pair
    os.kill(proc.pid, signal.SIGSTOP)
    # round-robin: about half of these go to the stopped worker
    statuses = [Call(ngx, "GET", STATUS, headers=auth()) for _ in range(4)]
    converts = [Call(ngx, "POST", PDF, {"url": "https://a.example"}, auth())
                for _ in range(4)]
    answers = [c.result() for c in statuses + converts]
    for resp, took in answers:
        assert took < 4, f"waited {took:.1f} s (heartbeat timeout 1 s)"
    # status requests are safe to repeat: every one is answered
    assert [r.status for r, _ in answers[:4]] == [200] * 4
    codes = sorted(r.status for r, _ in answers[4:])
    assert 503 in codes, codes      # some convert went to the silent host
    for resp, _ in answers[4:]:
        if resp.status == 503:
            assert resp.headers["retry-after"] == "1"
            assert "may have been created" in resp.json()["detail"]
        else:
            assert resp.status == 202
    assert "sent again" in ngx.log()
    # from now on everything goes to the live worker, at once
    before = len(live.messages())
    for _ in range(4):
        start = time.monotonic()
        assert ngx.request("GET", STATUS, headers=auth()).status == 200
        assert time.monotonic() - start < 1
    assert len(live.messages()) == before + 4
