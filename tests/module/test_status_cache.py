"""Finished jobs' status answers kept by nginx: an answer the
worker marks with a "cache" hint is given again from the shared zone
without asking the worker, only to the key that asked, with download links
signed afresh on every answer, until the job's retention ends; the worker's
word on the key is taken again every few seconds."""

import json
import os
import re
import subprocess
import time
import urllib.parse

import pytest

from ngxtest import (API_KEY, Nginx, assert_error, auth, final, presign,
                     wait_for)

OTHER_KEY = "sk_live_" + "Z9y8X7w6V5" * 4
BASE = "https://api.example.com"
KEYS = ["live/files/abc/url-to-pdf/report_1.pdf",
        "live/files/abc/url-to-pdf/report_2.pdf"]
LINK_TTL = 3600
KEY_TRUST = 5       # seconds the module takes the worker's word on a key


def link(key, expires, base=BASE):
    return f"{base}/v1/files/{key}?expires={expires}&signature={presign(key, expires)}"


def status_body(job_id="job_done1", keys=KEYS, base=BASE):
    """A finished job's status answer as the worker writes it, and the
    worker's hint pointing at each link."""
    expires = int(time.time()) + LINK_TTL
    body = json.dumps({
        "job_id": job_id, "status": "completed",
        "tasks": [{"presigned_url": link(k, expires, base), "status": "success",
                   "url": f"https://example.com/{i}"} for i, k in enumerate(keys)],
        "notifications": []}, separators=(",", ":"))
    links = []
    for k in keys:
        start = body.index(f"{base}/v1/files/{k}?")
        end = body.index('"', start)
        prefix = len(f"{base}/v1/files/{k}")
        links.append([start, prefix, end - start, len(k)])
    return body.encode(), links


def hint(links, until=0, link_ttl=LINK_TTL):
    return {"until": until, "link_ttl": link_ttl, "links": links}


def keeps(backend, body, links, **kw):
    """The fake worker answers every status request with `body` and a
    hint, and counts the requests that reach it."""
    backend.responder = lambda m: [(0, final(m, status=200, body=body,
                                             cache=hint(links, **kw)))]


def asked(backend):
    return sum(1 for m in backend.messages() if m.get("op") == "status")


def get(ngx, job_id="job_done1", key=API_KEY):
    return ngx.request("GET", f"/v1/convert/status/{job_id}", None, auth(key))


def links_of(resp):
    return [t["presigned_url"] for t in resp.json()["tasks"]]


def assert_fresh_valid_links(resp, not_before):
    for url, key in zip(links_of(resp), KEYS):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        expires = int(q["expires"][0])
        assert url == link(key, expires)
        assert not_before + LINK_TTL <= expires <= int(time.time()) + LINK_TTL


def test_a_kept_answer_is_given_without_the_worker(env):
    ngx, backend = env
    body, links = status_body()
    keeps(backend, body, links)
    first = get(ngx)
    assert first.status == 200 and first.body == body
    assert asked(backend) == 1
    t0 = int(time.time())
    for _ in range(5):
        resp = get(ngx)
        assert resp.status == 200
        assert resp.headers["content-type"] == "application/json"
        # everything but the links is the worker's answer, byte for byte
        strip = re.compile(rb"\?expires=\d+&signature=[0-9a-f]{64}")
        assert strip.sub(b"", resp.body) == strip.sub(b"", body)
        assert_fresh_valid_links(resp, t0)
    assert asked(backend) == 1


def test_links_in_kept_answers_are_signed_afresh_and_download(env):
    ngx, backend = env
    for key in KEYS:
        path = os.path.join(ngx.storage, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(b"%PDF-1.7 " + key.encode())
    body, links = status_body(base=f"http://localhost:{ngx.port}")
    keeps(backend, body, links)
    worker_links = links_of(get(ngx))
    # the next second: every answer signs its own links
    second = int(time.time()) + 1
    assert wait_for(lambda: time.time() >= second, timeout=2)
    kept = get(ngx)
    assert asked(backend) == 1
    fresh = links_of(kept)
    assert set(fresh).isdisjoint(worker_links)
    for url, key in zip(fresh, KEYS):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        assert int(q["expires"][0]) >= second + LINK_TTL
        path = url.split(f"localhost:{ngx.port}", 1)[1]
        dl = ngx.request("GET", path)
        assert dl.status == 200 and dl.body == b"%PDF-1.7 " + key.encode()
        tampered = ngx.request("GET", path[:-1] + ("0" if path[-1] != "0" else "1"))
        assert_error(tampered, 403, "invalid_signature")


def test_another_key_never_gets_a_kept_answer(env):
    ngx, backend = env
    body, links = status_body()
    keeps(backend, body, links)
    assert get(ngx).status == 200 and get(ngx).status == 200
    assert asked(backend) == 1
    # the other account's key: the worker is asked, and it knows no such job
    backend.responder = lambda m: [(0, final(
        m, status=404,
        body=b'{"success":false,"error":"not_found","detail":"no such job"}'))]
    resp = get(ngx, key=OTHER_KEY)
    assert_error(resp, 404, "not_found")
    assert asked(backend) == 2
    assert backend.messages()[-1]["key"] == OTHER_KEY
    # nor does a kept answer leak under another job id of the same key
    assert get(ngx, job_id="job_done2").status == 404
    assert asked(backend) == 3


def test_the_worker_is_asked_again_about_the_key_within_seconds(env):
    # a key revoked meanwhile is refused by the worker's next answer
    ngx, backend = env
    body, links = status_body()
    keeps(backend, body, links)
    assert get(ngx).status == 200
    asked_at = time.monotonic()
    backend.responder = lambda m: [(0, final(
        m, status=401,
        body=b'{"success":false,"error":"invalid_api_key",'
             b'"detail":"The API key is not valid or has been revoked."}'))]
    assert get(ngx).status == 200
    assert wait_for(lambda: get(ngx).status == 401, timeout=KEY_TRUST + 3)
    assert time.monotonic() - asked_at <= KEY_TRUST + 2
    assert asked(backend) == 2


@pytest.fixture
def clock_shift(tmp_path):
    """(LD_PRELOAD value, shift file): nginx started with the shim sees its
    wall clock moved by the seconds written to the file."""
    here = os.path.dirname(os.path.abspath(__file__))
    shift_file = tmp_path / "clock_shift"
    shift_file.write_text("0")
    shim = tmp_path / "clock_shift.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", f'-DSHIFT_FILE="{shift_file}"',
                    "-o", str(shim), os.path.join(here, "clock_shift.c"), "-ldl"],
                   check=True)
    return str(shim), shift_file


def test_a_clock_stepped_back_does_not_extend_the_workers_word_on_the_key(
        make_env, clock_shift, monkeypatch):
    """The 5 s the worker's word on a key holds were measured on the wall
    clock: stepped back an hour (an NTP step, a restored VM snapshot), every
    entry was answered from the zone for that hour, a revoked key's
    included, links signed afresh. Now on the monotonic clock."""
    shim, shift_file = clock_shift
    monkeypatch.setenv("LD_PRELOAD", shim)
    ngx, backend = make_env()
    monkeypatch.delenv("LD_PRELOAD")
    body, links = status_body()
    keeps(backend, body, links)
    assert get(ngx).status == 200
    shift_file.write_text("-3600")
    backend.responder = lambda m: [(0, final(
        m, status=401,
        body=b'{"success":false,"error":"invalid_api_key",'
             b'"detail":"The API key is not valid or has been revoked."}'))]
    assert wait_for(lambda: get(ngx).status == 401, timeout=KEY_TRUST + 3)
    assert asked(backend) == 2


def test_the_answer_is_not_given_past_the_jobs_retention(env):
    ngx, backend = env
    body, links = status_body()
    until = int(time.time()) + 2
    keeps(backend, body, links, until=until)
    assert get(ngx).status == 200
    gone = b'{"success":false,"error":"expired","detail":"expired"}'
    backend.responder = lambda m: [(0, final(m, status=410, body=gone))]
    assert wait_for(lambda: get(ngx).status == 410, timeout=5)
    assert time.time() >= until
    # an answer whose retention has already ended is not kept at all
    keeps(backend, body, links, until=int(time.time()) - 1)
    n = asked(backend)
    get(ngx, job_id="job_old")
    get(ngx, job_id="job_old")
    assert asked(backend) == n + 2


def test_answers_without_a_hint_or_not_200_are_not_kept(env):
    ngx, backend = env
    body, links = status_body()
    backend.responder = lambda m: [(0, final(m, status=200, body=body))]
    get(ngx)
    get(ngx)
    assert asked(backend) == 2
    backend.responder = lambda m: [(0, final(m, status=404, body=b'{}',
                                             cache=hint(links)))]
    get(ngx)
    get(ngx)
    assert asked(backend) == 4


@pytest.mark.parametrize("bad", [
    "outside", "unordered", "not_a_link", "bad_key", "shape", "ttl"])
def test_a_hint_that_does_not_fit_the_body_is_ignored(env, bad):
    ngx, backend = env
    body, links = status_body()
    kw = {}
    if bad == "outside":
        links[1][0] = len(body) - 10
    elif bad == "unordered":
        links.reverse()
    elif bad == "not_a_link":
        links[0][1] -= 1
    elif bad == "bad_key":
        links[0][3] += 15       # the key would take "/v1/files/" in
    elif bad == "shape":
        links[0] = links[0][:3]
    elif bad == "ttl":
        kw["link_ttl"] = 0
    keeps(backend, body, links, **kw)
    first = get(ngx)
    assert first.status == 200 and first.body == body   # relayed as it is
    assert get(ngx).body == body
    assert asked(backend) == 2
    assert "ignored an invalid status cache hint" in ngx.log()


def test_size_0_turns_the_cache_off(make_env):
    ngx, backend = make_env(extra_http="enconvert_status_cache_size 0;")
    body, links = status_body()
    keeps(backend, body, links)
    get(ngx)
    get(ngx)
    assert asked(backend) == 2


def test_a_size_below_8_pages_is_refused(tmp_path, module_so):
    with pytest.raises(RuntimeError, match="enconvert_status_cache_size"):
        Nginx(str(tmp_path), module_so, [f"ipc://{tmp_path}/w.sock"],
              extra_http="enconvert_status_cache_size 4k;")


def test_a_full_zone_drops_the_least_recently_used(make_env):
    ngx, backend = make_env(extra_http="enconvert_status_cache_size 64k;")
    keys = [f"live/files/abc/url-to-pdf/{'x' * 200}_{i}.pdf" for i in range(8)]
    bodies = {}

    def responder(m):
        body, links = status_body(job_id=m["job_id"], keys=keys)
        bodies[m["job_id"]] = body
        return [(0, final(m, status=200, body=body, cache=hint(links)))]

    backend.responder = responder
    # ~3.5 KiB an answer: a 64 KiB zone cannot hold 40 of them
    for i in range(40):
        assert get(ngx, job_id=f"job_{i}").status == 200
    assert asked(backend) == 40
    # the newest are answered from the zone, the oldest were dropped
    assert get(ngx, job_id="job_39").status == 200
    assert asked(backend) == 40
    assert get(ngx, job_id="job_0").status == 200
    assert asked(backend) == 41


def test_an_answer_larger_than_an_eighth_of_the_zone_is_not_kept(make_env):
    ngx, backend = make_env(extra_http="enconvert_status_cache_size 64k;")
    keys = [f"live/files/abc/url-to-pdf/{'x' * 200}_{i}.pdf" for i in range(30)]
    body, links = status_body(keys=keys)
    assert len(body) > 64 * 1024 // 8
    keeps(backend, body, links)
    assert get(ngx).body == body
    assert get(ngx).status == 200
    assert asked(backend) == 2


def test_worker_processes_share_the_zone_and_count_hits(make_env):
    ngx, backend = make_env(
        worker_processes=2,
        extra_server="location = /metrics { enconvert_metrics; }")
    body, links = status_body()
    keeps(backend, body, links)
    get(ngx)
    for _ in range(20):
        assert get(ngx).status == 200
    assert asked(backend) == 1
    page = ngx.request("GET", "/metrics").body.decode()
    assert "enconvert_status_cache_hits_total 20" in page


def test_no_cache_keeps_answers_with_links_nor_the_files(env):
    """Every answer of the API is Cache-Control: no-store: the worker's
    relayed answer, the kept one nginx gives itself, the module's own
    error, and a file fetched with its presigned link (links are bearer
    credentials, and a shared proxy must neither serve them to others nor
    keep a file past its link's expiry). Before, none carried it."""
    ngx, backend = env
    key = KEYS[0]
    path = os.path.join(ngx.storage, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(b"%PDF-1.7 cached?")
    body, links = status_body(base=f"http://localhost:{ngx.port}")
    keeps(backend, body, links)
    relayed, kept = get(ngx), get(ngx)
    assert asked(backend) == 1
    own_error = get(ngx, job_id="bad%21id")
    assert own_error.status == 404
    dl = ngx.request("GET", links_of(kept)[0].split(f"localhost:{ngx.port}", 1)[1])
    assert dl.status == 200 and dl.body == b"%PDF-1.7 cached?"
    for resp in (relayed, kept, own_error, dl):
        assert resp.headers.get("cache-control") == "no-store", resp.headers
