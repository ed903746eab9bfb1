"""Retention: a finished job's files and rows are deleted after
retention_seconds by the worker's janitor; its owner's status then answers
410 expired, anyone else's 404 as for an unknown job."""

import os
import time

from conftest import make_home, running
from stack import Stack, psql

import pytest


@pytest.fixture(scope="module")
def rstack():
    extra = "retention_seconds = 4\npresign_ttl = 4\njanitor_interval_seconds = 1\n"
    yield from running(Stack(make_home("enc-ret-"), extra_env={"ENCONVERT_WORKER_EXTRA": extra}))


def stored_files(home):
    root = os.path.join(home, "storage")
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files
            if "/tmp" not in d]


def test_expired_job_is_gone_and_answers_410(rstack, site):
    r = rstack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    job_id = r.json()["job_id"]
    key = r.json()["object_key"]
    path = os.path.join(rstack.home, "storage", key)
    assert os.path.exists(path)
    other = rstack.new_key("someone-else")

    deadline = time.time() + 30
    while True:
        st = rstack.call("GET", f"/v1/convert/status/{job_id}")
        if st.status == 410 or time.time() > deadline:
            break
        assert st.status == 200, st
        time.sleep(0.3)
    assert st.status == 410, st
    body = st.json()
    assert body["error"] == "expired"
    assert job_id in body["detail"]
    assert body["job_id"] == job_id
    assert not os.path.exists(path)
    assert psql(rstack.home, f"SELECT count(*) FROM tasks WHERE job_id = '{job_id}'") == "0"
    # The link it was given is dead too.
    assert rstack.download(r.json()["presigned_url"]).status in (403, 404, 410)
    # Another account cannot even learn that the id existed.
    st_other = rstack.call("GET", f"/v1/convert/status/{job_id}", key=other)
    assert st_other.status == 404, st_other
    assert st_other.json()["error"] == "job_not_found"


def test_a_job_still_within_retention_is_untouched(rstack, site):
    r = rstack.call("POST", "/v1/convert/url-to-pdf", {"url": site.url + "/hello.html"})
    assert r.status == 200, r
    st = rstack.call("GET", f"/v1/convert/status/{r.json()['job_id']}")
    assert st.status == 200, st
    assert os.path.exists(os.path.join(rstack.home, "storage", r.json()["object_key"]))
