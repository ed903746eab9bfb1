"""Back-pressure: past the queue's bounds on unfinished tasks a
conversion is refused — 429 queue_full for the account's bound, 503
queue_full for the bound of all accounts, both with Retry-After — and
nothing is enqueued; a retry of an accepted request is still answered."""

import urllib.request

import pytest

from conftest import make_home, running
from stack import SilentServer, Stack, row_counts

PDF = "/v1/convert/url-to-pdf"
SHOT = "/v1/convert/url-to-screenshot"
ACCOUNT_BOUND = 4
GLOBAL_BOUND = 6


@pytest.fixture
def silent():
    s = SilentServer()
    yield s
    s.close()


@pytest.fixture
def small_queue():
    yield from running(Stack(make_home("enc-bp-"), extra_env={
        "ENCONVERT_WORKER_EXTRA": f"account_queue_max_tasks = {ACCOUNT_BOUND}\n"
                                  f"queue_max_tasks = {GLOBAL_BOUND}",
    }))


def assert_queue_full(r, status):
    assert r.status == status, r
    assert r.headers["content-type"] == "application/json"
    assert r.headers["retry-after"] == "30"
    body = r.json()
    assert body["success"] is False and body["error"] == "queue_full", body
    assert "Nothing was queued" in body["detail"]


def test_queue_bounds_refuse_and_enqueue_nothing(small_queue, silent):
    s = small_queue
    # Pages that never answer: these tasks stay unfinished for the test.
    hang = {"async_mode": True, "timeout": 300}
    urls = [f"{silent.url}?n={i}" for i in range(ACCOUNT_BOUND)]
    first = s.call("POST", PDF, {"url": urls, **hang},
                   headers={"Idempotency-Key": "bp-first"})
    assert first.status == 202, first
    before = row_counts(s.home)

    # The account's bound: one more task of any kind is refused.
    assert_queue_full(s.call("POST", PDF, {"url": f"{silent.url}?more", **hang}), 429)
    assert_queue_full(s.call("POST", SHOT, {"url": f"{silent.url}?sync"}), 429)
    assert row_counts(s.home) == before

    # A retry of the accepted request still gets its job, adding nothing.
    again = s.call("POST", PDF, {"url": urls, **hang},
                   headers={"Idempotency-Key": "bp-first"})
    assert again.status == 202, again
    assert again.json()["job_id"] == first.json()["job_id"]
    assert row_counts(s.home) == before

    # The bound of all accounts: another account's batch that would cross
    # it is refused whole; one that fits is accepted, and then nothing more.
    other = s.new_key("bp-other")
    left = GLOBAL_BOUND - ACCOUNT_BOUND
    too_many = [f"{silent.url}?b={i}" for i in range(left + 1)]
    assert_queue_full(s.call("POST", PDF, {"url": too_many, **hang}, key=other), 503)
    assert row_counts(s.home) == before
    fits = s.call("POST", PDF, {"url": too_many[:left], **hang}, key=other)
    assert fits.status == 202, fits
    full = row_counts(s.home)
    assert full == (before[0] + 1, before[1] + left)
    assert_queue_full(s.call("POST", PDF, {"url": f"{silent.url}?c", **hang}, key=other),
                      503)
    assert row_counts(s.home) == full
    # Each refusal is counted by the bound it met.
    with urllib.request.urlopen(s.read_env()["ENCONVERT_METRICS_URL"], timeout=10) as m:
        page = m.read().decode()
    assert 'enconvert_jobs_refused_total{endpoint="url-to-pdf",bound="account"} 1\n' in page
    assert 'enconvert_jobs_refused_total{endpoint="url-to-screenshot",bound="account"} 1\n' \
        in page
    assert 'enconvert_jobs_refused_total{endpoint="url-to-pdf",bound="global"} 2\n' in page
