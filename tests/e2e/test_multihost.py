"""Several hosts: two nginx and two workers, each with its own home
and no shared directory, over tcp:// on their own loopback addresses with
CURVE, one PostgreSQL, one S3-compatible store (tests/e2e/multihost.py).
Jobs submitted through either nginx are rendered by either worker and
downloaded through either nginx's answer; a worker SIGKILLed mid-batch loses
no task and stores none twice; a peer without an allowed CURVE key is
refused; a worker host that goes silent has its requests answered within
seconds."""

import os
import re
import shutil
import signal
import tempfile
import threading
import time

import pytest
import zmq

from conftest import running
from multihost import HEARTBEAT_TIMEOUT_MS, Cluster, NginxHost, zmq_health
from s3 import S3rver, SigV4Proxy
from stack import SlowSite, psql, request

BUCKET = "enconvert-multihost"

PDF = "/v1/convert/url-to-pdf"

pytestmark = pytest.mark.skipif(not zmq.has("curve"), reason="libzmq without CURVE")


@pytest.fixture(scope="module")
def store():
    s = S3rver([BUCKET])
    proxy = SigV4Proxy(s.port)          # checks every signature, as S3 would
    yield s, proxy
    proxy.close()
    s.close()


@pytest.fixture(scope="module")
def cluster(store):
    root = tempfile.mkdtemp(prefix="enc-multi-", dir="/tmp")
    os.chmod(root, 0o755)               # the postgres user traverses it
    c = Cluster(root, store[1].endpoint, BUCKET)
    c.store = store[0]
    try:
        yield from running(c)
    except Exception:
        print(c.logs())
        raise
    bad = [line for ngx in c.nginx for line in ngx.log().splitlines()
           if re.search(r"\[(alert|emerg|crit)\]", line)]
    assert not bad, "\n".join(bad)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def slow():
    site = SlowSite(delay=2)
    yield site
    site.close()


def wait_terminal(ngx, key, job_id, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = ngx.call("GET", f"/v1/convert/status/{job_id}", key=key)
        assert r.status == 200, r
        if r.json()["status"] != "processing":
            return r.json()
        time.sleep(0.3)
    raise AssertionError(f"{job_id} still processing after {timeout} s")


def metric(url, name):
    """Sum of a counter over its labels on one worker's /metrics."""
    r = request(url.rsplit("/metrics", 1)[0], "GET", "/metrics")
    assert r.status == 200, r
    total = 0.0
    for line in r.body.decode().splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def objects_of_task(cluster, task_id):
    # <name>_<stamp>_<task id>.pdf, or _<task id>-<attempt>.pdf from a
    # task's second attempt on (a task taken over from a killed worker).
    return [k for k in cluster.store.keys(BUCKET)
            if re.search(rf"_{task_id}(-[0-9]+)?\.pdf$", k)]


def download(link):
    base, rest = link.split("://", 1)
    host, path = rest.split("/", 1)
    return request(f"{base}://{host}", "GET", "/" + path)


def test_jobs_through_either_nginx_rendered_by_either_worker(cluster, slow):
    n1, n2 = cluster.nginx
    accepted_before = [metric(w.metrics_url, "enconvert_jobs_accepted_total")
                       for w in cluster.workers]
    jobs = []
    for ngx in (n1, n2):
        # a batch (rendered by both workers: each has two views, the pages
        # take seconds) and single jobs (spread over both intakes)
        r = ngx.call("POST", PDF, {"url": [f"{slow.url}?via={ngx.n}&i={i}"
                                           for i in range(6)]}, key=cluster.key)
        assert r.status == 202, r
        jobs.append((ngx, r.json()["job_id"]))
        for i in range(3):
            r = ngx.call("POST", PDF, {"url": f"{slow.url}?one={ngx.n}&i={i}",
                                       "async_mode": True}, key=cluster.key)
            assert r.status == 202, r
            jobs.append((ngx, r.json()["job_id"]))

    for ngx, job_id in jobs:
        # the status through the other nginx, then through both
        other = n2 if ngx is n1 else n1
        final = wait_terminal(other, cluster.key, job_id)
        assert final["status"] == "completed", final
        for server in (n1, n2):
            answer = server.call("GET", f"/v1/convert/status/{job_id}", key=cluster.key)
            assert answer.status == 200, answer
            for task in answer.json()["tasks"]:
                assert task["status"] == "success", task
                # links go straight to the store, whichever host answered
                assert task["presigned_url"].startswith(cluster.s3_endpoint + "/"), task
                f = download(task["presigned_url"])
                assert f.status == 200, (server.url, f)
                assert f.body.startswith(b"%PDF-")
                assert len(f.body) == task["file_size"]

    # nothing stays on a worker host: the store holds every result
    for w in cluster.workers:
        left = [f for _, _, files in os.walk(os.path.join(w.storage, "live")) for f in files]
        assert not left, (w.n, left)

    ids = ",".join(f"'{j}'" for _, j in jobs)
    owners = psql(cluster.db_home, "SELECT string_agg(DISTINCT lease_owner, ',' "
                                   f"ORDER BY lease_owner) FROM tasks WHERE job_id IN ({ids})")
    assert owners == "host-1,host-2", owners
    accepted = [metric(w.metrics_url, "enconvert_jobs_accepted_total") - before
                for w, before in zip(cluster.workers, accepted_before)]
    assert sum(accepted) == len(jobs), accepted
    assert all(a > 0 for a in accepted), f"an intake took no job: {accepted}"


def test_sync_requests_are_answered_whichever_worker_renders(cluster, slow):
    """A sync convert waits at the intake that took it; the job is rendered
    by whichever worker claims it, and the answer still comes (PostgreSQL's
    NOTIFY reaches the waiting intake)."""
    n1, _ = cluster.nginx
    results = []

    def sync(i):
        r = n1.call("POST", PDF, {"url": f"{slow.url}?sync={i}"}, key=cluster.key)
        results.append(r)

    threads = [threading.Thread(target=sync, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [r.status for r in results] == [200] * 6, results
    ids = ",".join(f"'{r.json()['job_id']}'" for r in results)
    owners = psql(cluster.db_home, "SELECT count(DISTINCT lease_owner) FROM tasks "
                                   f"WHERE job_id IN ({ids})")
    assert owners == "2", "every sync job was rendered by one worker"


def test_worker_killed_mid_batch_loses_no_task_and_renders_none_twice(cluster, slow):
    n1, n2 = cluster.nginx
    urls = [f"{slow.url}?kill={i}" for i in range(10)]
    r = n1.call("POST", PDF, {"url": urls}, key=cluster.key)
    assert r.status == 202, r
    job_id = r.json()["job_id"]

    # both workers render it; kill one while its pages are still loading
    victim = None
    deadline = time.time() + 60
    while time.time() < deadline and victim is None:
        owners = psql(cluster.db_home, "SELECT string_agg(DISTINCT lease_owner, ',') "
                                       f"FROM tasks WHERE job_id = '{job_id}' "
                                       "AND status = 'processing'")
        held = set(owners.split(",")) if owners else set()
        if held == {"host-1", "host-2"}:
            victim = cluster.workers[1]
        time.sleep(0.1)
    assert victim is not None, "the batch was never spread over both workers"
    victim.kill(signal.SIGKILL)

    # requests keep being answered meanwhile, through both nginx
    for ngx in (n1, n2):
        assert ngx.call("GET", "/v1/health").status == 200

    final = wait_terminal(n2, cluster.key, job_id)
    assert final["status"] == "completed", final
    assert [t["status"] for t in final["tasks"]] == ["success"] * 10, final

    rows = psql(cluster.db_home, "SELECT id || ' ' || object_key FROM tasks "
                                 f"WHERE job_id = '{job_id}' ORDER BY id").splitlines()
    assert len(rows) == 10, rows
    keys = [row.split(" ", 1)[1] for row in rows]
    assert len(set(keys)) == 10, keys
    for row in rows:
        task_id, key = row.split(" ", 1)
        # exactly one stored object per task: none rendered and stored twice
        assert objects_of_task(cluster, task_id) == [key], task_id
    assert psql(cluster.db_home, f"SELECT count(*) FROM jobs WHERE id = '{job_id}'") == "1"

    cluster.restart_worker(victim)


def test_peers_without_an_allowed_key_are_refused(cluster):
    worker = cluster.workers[0]
    server = cluster.worker_public_key
    # listed: a client built from an nginx host's own key pair gets through
    with open(os.path.join(cluster.keys, "nginx-1")) as f:
        secret = f.read().strip().encode()
    public = zmq.curve_public(secret)
    assert zmq_health(worker.endpoint, server, (public, secret))
    # a key the worker does not list
    stranger = zmq.curve_keypair()
    assert not zmq_health(worker.endpoint, server, stranger)
    assert stranger[0].decode() in worker.log()
    assert "refused a peer whose CURVE key is not allowed" in worker.log()
    # no CURVE at all
    assert not zmq_health(worker.endpoint, server, None)

    # a whole nginx host whose key is not in the list: 503, said in its log
    key_file = os.path.join(cluster.keys, "nginx-stranger")
    with open(key_file, "w") as f:
        f.write(stranger[1].decode() + "\n")
    os.chmod(key_file, 0o600)
    ngx = NginxHost(cluster, 9, "127.0.0.6", key_file)
    ngx.start()
    try:
        time.sleep(2)
        r = ngx.call("GET", "/v1/health")
        assert r.status == 503, r
        assert r.json()["worker"] == "down"
        assert "refused this host's CURVE key" in ngx.log(), ngx.log()
        r = ngx.call("POST", PDF, {"url": "http://127.0.0.1/x"}, key=cluster.key)
        assert r.status == 503 and r.json()["error"] == "backend_unavailable", r
    finally:
        ngx.stop()


def test_silent_worker_host_has_its_requests_answered_within_seconds(cluster, slow):
    """A host that vanishes without closing its connections (power loss, a
    cut network; here SIGSTOP): the heartbeats drop it within
    enconvert_heartbeat_timeout, its in-flight requests are answered then
    (status re-sent to the live worker, converts 503 with Retry-After), and
    new requests go to the live worker only."""
    n1, _ = cluster.nginx
    silent = cluster.workers[1]
    r = n1.call("POST", PDF, {"url": f"{slow.url}?probe", "async_mode": True},
                key=cluster.key)
    assert r.status == 202, r
    job = r.json()["job_id"]
    results = {}

    def call(name, method, path, body=None):
        start = time.time()
        r = n1.call(method, path, body, key=cluster.key)
        results[name] = (r, time.time() - start)

    silent.kill(signal.SIGSTOP)
    try:
        threads = []
        for i in range(4):
            threads.append(threading.Thread(
                target=call, args=(f"status{i}", "GET", f"/v1/convert/status/{job}")))
            threads.append(threading.Thread(
                target=call, args=(f"sync{i}", "POST", PDF, {"url": f"{slow.url}?s={i}"})))
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        limit = HEARTBEAT_TIMEOUT_MS / 1000 + 4     # + the slow page's 2 s
        statuses = [results[f"status{i}"] for i in range(4)]
        syncs = [results[f"sync{i}"] for i in range(4)]
        for r, took in statuses:
            assert r.status == 200, r
            assert took < limit, took
        lost = [(r, took) for r, took in syncs if r.status == 503]
        assert lost, "no sync request went to the silent host"
        for r, took in lost:
            assert took < limit, took
            assert r.headers["retry-after"] == "1"
            assert r.json()["error"] == "backend_unavailable"
            assert "may have been created" in r.json()["detail"]
        for r, _ in syncs:
            assert r.status in (200, 503), r
        assert "lost the connection to backend" in n1.log()
        # from now on the live worker takes everything at once
        for _ in range(4):
            start = time.time()
            r = n1.call("GET", f"/v1/convert/status/{job}", key=cluster.key)
            assert r.status == 200 and time.time() - start < 1, r
    finally:
        silent.kill(signal.SIGKILL)
    cluster.restart_worker(silent)
