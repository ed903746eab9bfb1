"""Completion notifications through the whole stack: a job submitted over
HTTP with callback_url and/or notification_email, rendered by the worker,
then delivered by its notifier to a real HTTPS receiver (test CA) and a real
SMTP server (aiosmtpd), with the outcome visible in the status object."""

import json
import socket
import tempfile
import time

import pytest

from conftest import make_home
from receivers import HttpsReceiver, SmtpSink, TestCA
from stack import Stack

PAYLOAD_KEYS = {"job_id", "status", "total_tasks", "completed_tasks", "failed_tasks", "tasks"}
SUCCESS_KEYS = {"url", "status", "presigned_url", "object_key", "file_size", "conversion_time"}
FAILED_KEYS = {"url", "status", "error"}


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/nothing-listens-here"


@pytest.fixture(scope="module")
def certs():
    d = tempfile.mkdtemp(prefix="enc-certs-")
    ca = TestCA(d, "ca")
    rogue = TestCA(d, "rogue-ca")
    return {"ca": ca.cert, "server": ca.issue("server"), "rogue": rogue.issue("rogue-server")}


@pytest.fixture(scope="module")
def receiver(certs):
    r = HttpsReceiver(*certs["server"])
    yield r
    r.close()


@pytest.fixture(scope="module")
def untrusted_receiver(certs):
    r = HttpsReceiver(*certs["rogue"])
    yield r
    r.close()


@pytest.fixture(scope="module")
def smtp():
    s = SmtpSink()
    yield s
    s.close()


@pytest.fixture(scope="module")
def nstack(certs, smtp):
    """A stack whose worker mails through aiosmtpd, trusts the test CA and
    gives webhook receivers 3 s (the local stack already exempts loopback)."""
    s = Stack(make_home("enc-notify-"), extra_env={
        "ENCONVERT_SMTP_URL": smtp.url,
        "ENCONVERT_TLS_CA_FILE": certs["ca"],
        "ENCONVERT_WORKER_EXTRA": "webhook_timeout = 3",
    })
    try:
        s.start()
        yield s
    finally:
        s.stop()


def wait_notifications(stack, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        body = stack.wait_terminal(job_id)
        if body["notifications"] and all(n["state"] != "pending" for n in body["notifications"]):
            return body
        time.sleep(0.3)
    raise AssertionError(f"notifications of {job_id} still pending: {body['notifications']}")


def submit(stack, urls, **extra):
    r = stack.call("POST", "/v1/convert/url-to-pdf", {"url": urls, **extra})
    assert r.status == 202, r
    return r.json()


def test_batch_with_one_failure_sends_exact_webhook_and_one_email(nstack, site, receiver, smtp):
    urls = [site.url + "/hello.html", site.url + "/second.html", closed_port_url()]
    accepted = submit(nstack, urls, callback_url=receiver.url + "/hook/ok",
                      notification_email="team@yourcompany.com")
    assert "team@yourcompany.com" in accepted["message"]
    assert "callback URL" in accepted["message"]
    job_id = accepted["job_id"]
    status = wait_notifications(nstack, job_id)

    notes = {n["type"]: n for n in status["notifications"]}
    assert notes["webhook"] == {"type": "webhook", "target": receiver.url + "/hook/ok",
                                "state": "delivered", "response_code": 200, "error": None,
                                "attempts": 1}
    assert notes["email"]["state"] == "delivered"
    assert notes["email"]["attempts"] == 1

    hooks = [r for r in receiver.wait_for("/hook/ok")
             if json.loads(r["body"])["job_id"] == job_id]
    assert len(hooks) == 1
    hook = hooks[0]
    assert hook["method"] == "POST"
    assert hook["headers"]["content-type"] == "application/json"
    assert "authorization" not in hook["headers"]
    body = json.loads(hook["body"])
    assert set(body) == PAYLOAD_KEYS
    assert body["status"] == "completed"
    assert (body["total_tasks"], body["completed_tasks"], body["failed_tasks"]) == (3, 2, 1)
    assert [t["url"] for t in body["tasks"]] == urls
    for t in body["tasks"][:2]:
        assert set(t) == SUCCESS_KEYS
        assert t["status"] == "success"
        assert nstack.download(t["presigned_url"]).body.startswith(b"%PDF-")
    assert set(body["tasks"][2]) == FAILED_KEYS
    assert body["tasks"][2]["status"] == "failed"

    mails = [m for m in smtp.wait_for() if job_id in m["data"]]
    assert len(mails) == 1
    assert mails[0]["rcpt_tos"] == ["team@yourcompany.com"]
    data = mails[0]["data"].replace("=\r\n", "")
    for url in urls:
        assert url in data
    assert f"Subject: enconvert job {job_id}: success" in data
    assert "/v1/files/live/files/" in data


def test_receiver_500_is_one_recorded_failure(nstack, site, receiver):
    job_id = submit(nstack, site.url + "/hello.html", async_mode=True,
                    callback_url=receiver.url + "/hook/status/500")["job_id"]
    note = wait_notifications(nstack, job_id)["notifications"][0]
    assert note["state"] == "failed"
    assert note["response_code"] == 500
    assert note["attempts"] == 1


def test_silent_receiver_is_recorded_as_timeout(nstack, site, receiver):
    job_id = submit(nstack, site.url + "/hello.html", async_mode=True,
                    callback_url=receiver.url + "/hook/hang")["job_id"]
    note = wait_notifications(nstack, job_id)["notifications"][0]
    assert note["state"] == "failed"
    assert note["error"].startswith("timeout")


def test_untrusted_certificate_is_recorded_as_tls_failure(nstack, site, untrusted_receiver):
    job_id = submit(nstack, site.url + "/hello.html", async_mode=True,
                    callback_url=untrusted_receiver.url + "/hook/ok")["job_id"]
    note = wait_notifications(nstack, job_id)["notifications"][0]
    assert note["state"] == "failed"
    assert note["error"].startswith("tls_error")
    assert untrusted_receiver.requests == []


def test_http_callback_is_rejected_before_anything_is_queued(nstack, site):
    r = nstack.call("POST", "/v1/convert/url-to-pdf",
                    {"url": site.url + "/hello.html", "async_mode": True,
                     "callback_url": "http://127.0.0.1:9/hook"})
    assert r.status == 400, r
    assert r.json()["field"] == "callback_url"
