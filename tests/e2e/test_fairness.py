"""Fair scheduling: claims take turns between accounts, so a
single page of one account is rendered while another account's large batch
runs, instead of waiting behind all of it (docs/reliability.md)."""

import pytest

from conftest import make_home, running
from stack import Stack

BATCH = 200
# Quick pages: the test measures the order of the work, not the renderer.
FAST = {"wait_until": "load", "viewport_width": 800, "viewport_height": 600}


@pytest.fixture
def fair_stack():
    # One worker, one renderer with two views (the defaults): every render
    # slot is taken by the batch when the single page arrives.
    yield from running(Stack(make_home("enc-fair-"), extra_env={
        "ENCONVERT_NGINX_EXTRA": f"enconvert_max_urls {BATCH};",
    }))


def test_a_single_page_finishes_before_a_quarter_of_another_accounts_batch(
        fair_stack, site):
    s = fair_stack
    other_account = s.new_key("fair-single-page")
    urls = [f"{site.url}/hello.html?n={i}" for i in range(BATCH)]
    r = s.call("POST", "/v1/convert/url-to-pdf", {"url": urls, **FAST})
    assert r.status == 202, r
    batch_id = r.json()["job_id"]

    # Synchronous: the answer comes once the page is rendered.
    r = s.call("POST", "/v1/convert/url-to-pdf",
               {"url": f"{site.url}/second.html", **FAST}, key=other_account)
    assert r.status == 200, r
    assert r.json()["status"] == "completed"

    batch = s.call("GET", f"/v1/convert/status/{batch_id}").json()
    done = batch["completed_tasks"] + batch["failed_tasks"]
    assert done < BATCH // 4, (
        f"the single page waited for {done} of the batch's {BATCH} tasks")
