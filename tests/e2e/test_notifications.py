"""Completion notifications through the whole stack: a job submitted over
HTTP with callback_url and/or notification_email, rendered by the worker,
then delivered by its notifier to a real HTTPS receiver (test CA) and a real
SMTP server (aiosmtpd), with the outcome visible in the status object."""

import email
import email.policy
import json
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import make_home
from receivers import HttpsReceiver
from stack import LoopbackServer, Stack, _QuietHandler, send_html

PAYLOAD_KEYS = {"job_id", "status", "total_tasks", "completed_tasks", "failed_tasks", "tasks"}
SUCCESS_KEYS = {"url", "status", "presigned_url", "object_key", "file_size", "conversion_time"}
FAILED_KEYS = {"url", "status", "error"}


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/nothing-listens-here"


@pytest.fixture(scope="module")
def untrusted_receiver(certs):
    r = HttpsReceiver(*certs["rogue"])
    yield r
    r.close()


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
    status = nstack.wait_notifications(job_id)

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
    status = nstack.wait_notifications(job_id)
    note = status["notifications"][0]
    assert note["state"] == "failed"
    assert note["response_code"] == 500
    assert note["error"] == "http_status: the receiver answered 500"
    assert note["attempts"] == 1
    # The results stay available from the status endpoint.
    assert status["status"] == "completed"
    assert nstack.download(status["tasks"][0]["presigned_url"]).body.startswith(b"%PDF-")
    time.sleep(3)  # no second attempt follows
    assert len(hooks_for(receiver, "/hook/status/500", job_id)) == 1


def test_silent_receiver_is_recorded_as_timeout(nstack, site, receiver):
    job_id = submit(nstack, site.url + "/hello.html", async_mode=True,
                    callback_url=receiver.url + "/hook/hang")["job_id"]
    note = nstack.wait_notifications(job_id)["notifications"][0]
    assert note["state"] == "failed"
    assert note["error"].startswith("timeout")


@pytest.mark.parametrize("path", ["/hook/cut", "/hook/stall"])
def test_a_2xx_whose_body_breaks_off_is_delivered(nstack, site, receiver, path):
    # "Any 2xx HTTP status code is treated as successful delivery": the
    # receiver answered 200 and then dropped (cut) or stopped sending
    # (stall) its body. Before, the first was recorded as send_failed and
    # the second as a timeout, both with response_code 200.
    job_id = submit(nstack, site.url + "/hello.html", async_mode=True,
                    callback_url=receiver.url + path)["job_id"]
    note = nstack.wait_notifications(job_id)["notifications"][0]
    assert (note["state"], note["response_code"], note["error"], note["attempts"]) == (
        "delivered", 200, None, 1), note
    assert len(hooks_for(receiver, path, job_id)) == 1


def test_untrusted_certificate_is_recorded_as_tls_failure(nstack, site, untrusted_receiver):
    job_id = submit(nstack, site.url + "/hello.html", async_mode=True,
                    callback_url=untrusted_receiver.url + "/hook/ok")["job_id"]
    note = nstack.wait_notifications(job_id)["notifications"][0]
    assert note["state"] == "failed"
    assert note["error"].startswith("tls_error")
    assert untrusted_receiver.requests == []


def test_http_callback_is_rejected_before_anything_is_queued(nstack, site):
    r = nstack.call("POST", "/v1/convert/url-to-pdf",
                    {"url": site.url + "/hello.html", "async_mode": True,
                     "callback_url": "http://127.0.0.1:9/hook"})
    assert r.status == 400, r
    assert r.json()["field"] == "callback_url"


def test_redirect_is_not_followed(nstack, site, receiver):
    job_id = submit(nstack, site.url + "/hello.html", async_mode=True,
                    callback_url=receiver.url + "/hook/redirect")["job_id"]
    note = nstack.wait_notifications(job_id)["notifications"][0]
    assert (note["state"], note["response_code"], note["attempts"]) == ("failed", 302, 1)
    time.sleep(2)
    assert len(hooks_for(receiver, "/hook/redirect", job_id)) == 1
    assert hooks_for(receiver, "/hook/ok", job_id) == []  # the Location was not fetched


# --- helpers for the tests below -------------------------------------------

AUTH_HEADERS = {"authorization", "proxy-authorization", "cookie", "webhook-id",
                "webhook-signature", "webhook-timestamp", "x-signature", "x-hub-signature"}


def hooks_for(receiver, path, job_id):
    with receiver.lock:
        reqs = [r for r in receiver.requests if r["path"] == path]
    return [r for r in reqs if json.loads(r["body"] or "{}").get("job_id") == job_id]


def wait_hooks_for(receiver, path, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = hooks_for(receiver, path, job_id)
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"no request for {job_id} at {path} within {timeout}s")


def mails_for(smtp, job_id):
    with smtp.lock:
        return [m for m in smtp.messages if job_id in m["data"]]


def parse_mail(data):
    return email.message_from_string(data, policy=email.policy.default)


def check_email(stack, msg, status, to):
    """The content the reference page promises, checked against the job's
    own status object: every URL, a working link and the size and time per
    success, the error per failure. Returns the plain-text body."""
    assert msg["To"] == to
    assert msg["From"].addresses[0].addr_spec == "enconvert@localhost"
    assert msg["Date"] is not None and msg["Date"].datetime is not None
    assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", str(msg["Message-ID"]))
    final = "success" if status["status"] == "completed" else "failed"
    assert msg["Subject"] == f"enconvert job {status['job_id']}: {final}"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert f"Job ID: {status['job_id']}" in text
    assert f"Final status: {final}" in text
    links = re.findall(r"Download: (\S+)", text)
    assert len(links) == status["completed_tasks"]
    for t in status["tasks"]:
        assert t["url"] in text
        if t["status"] == "success":
            assert f"File size: {t['file_size']} bytes" in text
            assert f"Conversion time: {t['conversion_time']:.2f} s" in text
        else:
            assert f"Error: {t['error']}" in text
    for link in links:
        assert stack.download(link).body.startswith(b"%PDF-")
        assert link.replace("&", "&amp;") in html
    return text


class GatedSite(LoopbackServer):
    """A page that is only served once the test opens the gate, so a job
    can be held in progress for as long as the test needs."""

    def __init__(self):
        self.gate = threading.Event()
        gate = self.gate

        class Handler(_QuietHandler):
            def do_GET(self):
                gate.wait(120)
                send_html(self, b"<!DOCTYPE html><html><head><title>Gated</title></head>"
                                b"<body><h1>Released</h1></body></html>")

        super().__init__(Handler)
        self.url = self.base

    def close(self):
        self.gate.set()
        super().close()


@pytest.fixture
def gated():
    g = GatedSite()
    yield g
    g.close()


# --- one notification type alone ---------------------------------------------

def test_email_only_has_the_whole_content(nstack, site, receiver, smtp):
    # Non-ASCII in the path and query reaches the mail as UTF-8 text.
    urls = [site.url + "/hello.html?q=caf%C3%A9", site.url + "/second.html?t=Ωmega-ü",
            closed_port_url()]
    accepted = submit(nstack, urls, notification_email="ops@example.org")
    assert accepted["message"] == ("Job queued. You will be notified at ops@example.org "
                                   "when complete.")
    job_id = accepted["job_id"]
    status = nstack.wait_notifications(job_id)
    assert [t["url"] for t in status["tasks"]][1] == urls[1]
    assert status["notifications"] == [{"type": "email", "target": "ops@example.org",
                                        "state": "delivered", "response_code": 250,
                                        "error": None, "attempts": 1}]
    mails = mails_for(smtp, job_id)
    assert len(mails) == 1
    assert mails[0]["rcpt_tos"] == ["ops@example.org"]
    assert mails[0]["mail_from"] == "enconvert@localhost"
    raw = mails[0]["data"]
    assert all(ord(c) < 128 for c in raw), "the message itself must be 7-bit clean"
    text = check_email(nstack, parse_mail(raw), status, "ops@example.org")
    assert "Ωmega-ü" in text
    assert "2 of 3 URLs converted" in text
    assert not any(json.loads(r["body"] or "{}").get("job_id") == job_id
                   for r in receiver.requests)


def test_webhook_only_sends_no_email_and_no_auth_headers(nstack, site, receiver, smtp):
    accepted = submit(nstack, site.url + "/hello.html", async_mode=True,
                      callback_url=receiver.url + "/hook/ok")
    assert accepted["message"] == "Job queued. Results will be sent to your callback URL."
    job_id = accepted["job_id"]
    status = nstack.wait_notifications(job_id)
    assert [n["type"] for n in status["notifications"]] == ["webhook"]
    (hook,) = wait_hooks_for(receiver, "/hook/ok", job_id)
    assert hook["method"] == "POST"
    assert hook["headers"]["content-type"] == "application/json"
    assert not AUTH_HEADERS & set(hook["headers"]), hook["headers"]
    body = json.loads(hook["body"])
    assert set(body) == PAYLOAD_KEYS
    assert (body["status"], body["total_tasks"], body["completed_tasks"],
            body["failed_tasks"]) == ("completed", 1, 1, 0)
    assert set(body["tasks"][0]) == SUCCESS_KEYS
    # The payload is the status object's result part, nothing more.
    assert body["tasks"][0]["object_key"] == status["tasks"][0]["object_key"]
    assert body["tasks"][0]["file_size"] == status["tasks"][0]["file_size"]
    time.sleep(2)
    assert mails_for(smtp, job_id) == []


def test_all_tasks_failed_reports_failed_in_both(nstack, receiver, smtp):
    urls = [closed_port_url(), closed_port_url()]
    job_id = submit(nstack, urls, callback_url=receiver.url + "/hook/ok",
                    notification_email="team@yourcompany.com")["job_id"]
    status = nstack.wait_notifications(job_id)
    assert status["status"] == "failed"
    assert all(n["state"] == "delivered" for n in status["notifications"])
    (hook,) = wait_hooks_for(receiver, "/hook/ok", job_id)
    body = json.loads(hook["body"])
    assert (body["status"], body["total_tasks"], body["completed_tasks"],
            body["failed_tasks"]) == ("failed", 2, 0, 2)
    assert all(set(t) == FAILED_KEYS and t["status"] == "failed" for t in body["tasks"])
    (mail,) = mails_for(smtp, job_id)
    text = check_email(nstack, parse_mail(mail["data"]), status, "team@yourcompany.com")
    assert "Final status: failed (0 of 2 URLs converted)" in text


def test_once_per_job_and_never_in_progress(nstack, site, gated, receiver, smtp):
    urls = [site.url + "/hello.html", site.url + "/second.html", gated.url + "/slow.html"]
    job_id = submit(nstack, urls, callback_url=receiver.url + "/hook/ok",
                    notification_email="team@yourcompany.com")["job_id"]
    # Two tasks finish while the third waits at the gate: nothing is sent.
    deadline = time.time() + 60
    while time.time() < deadline:
        status = nstack.call("GET", f"/v1/convert/status/{job_id}").json()
        if sum(t["status"] == "success" for t in status["tasks"]) == 2:
            break
        time.sleep(0.2)
    assert status["status"] == "processing"
    assert [t["status"] for t in status["tasks"]][:2] == ["success", "success"]
    time.sleep(3)  # time enough for a per-task or in-progress notification
    assert hooks_for(receiver, "/hook/ok", job_id) == []
    assert mails_for(smtp, job_id) == []
    assert [(n["state"], n["attempts"]) for n in status["notifications"]] == \
        [("pending", 0), ("pending", 0)]

    gated.gate.set()
    status = nstack.wait_notifications(job_id)
    assert status["status"] == "completed"
    time.sleep(5)  # a second webhook or email would arrive in this time
    hooks = hooks_for(receiver, "/hook/ok", job_id)
    assert len(hooks) == 1
    assert json.loads(hooks[0]["body"])["completed_tasks"] == 3
    assert len(mails_for(smtp, job_id)) == 1
    assert [n["attempts"] for n in nstack.wait_terminal(job_id)["notifications"]] == [1, 1]


# --- the default stack: no SMTP relay -------------------------------------------

def test_without_smtp_relay_mail_is_an_eml_file(stack, site):
    job_id = submit(stack, [site.url + "/hello.html", closed_port_url()],
                    notification_email="team@yourcompany.com")["job_id"]
    status = stack.wait_notifications(job_id)
    assert status["notifications"][0]["state"] == "delivered"
    path = os.path.join(stack.home, "mail", f"{job_id}.eml")
    with open(path, newline="") as f:
        raw = f.read()
    assert "\r\n" in raw and "\n" not in raw.replace("\r\n", "")  # CRLF lines
    check_email(stack, parse_mail(raw), status, "team@yourcompany.com")
    assert [f for f in os.listdir(os.path.join(stack.home, "mail")) if job_id in f] == \
        [f"{job_id}.eml"]  # no temporary file left behind


# --- restarts ------------------------------------------------------------------

def descendants(pid):
    """Pids of every process below `pid` (its renderers, its Xvfb)."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_worker(stack):
    """SIGKILL worker 1 as a crash would, then end what it left running."""
    with open(os.path.join(stack.home, "run", "worker-1.pid")) as f:
        pid = int(f.read())
    below = descendants(pid)
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while os.path.exists(f"/proc/{pid}") and time.time() < deadline:
        time.sleep(0.05)
    for p in below:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def kstack(certs, smtp):
    """One notification in flight at a time, short timeouts and a short
    lease, so a killed worker's deliveries are settled within the test."""
    s = Stack(make_home("enc-kill-"), extra_env={
        "ENCONVERT_SMTP_URL": smtp.url,
        "ENCONVERT_TLS_CA_FILE": certs["ca"],
        "ENCONVERT_WORKER_EXTRA": "webhook_timeout = 20\nsmtp_timeout = 20\n"
                                  "notify_lease_seconds = 25\nnotify_max_concurrent = 1",
    })
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_worker_killed_with_notifications_pending(kstack, site, receiver, smtp):
    # A: its webhook is in flight (the receiver never answers) when the
    # worker dies.
    a = submit(kstack, site.url + "/hello.html", async_mode=True,
               callback_url=receiver.url + "/hook/hang")["job_id"]
    wait_hooks_for(receiver, "/hook/hang", a)
    # B: terminal, its outbox rows committed, but the only delivery slot is
    # taken by A, so no notifier has started them.
    b = submit(kstack, [site.url + "/hello.html", site.url + "/second.html"],
               callback_url=receiver.url + "/hook/ok",
               notification_email="team@yourcompany.com")["job_id"]
    status_b = kstack.wait_terminal(b)
    assert [(n["state"], n["attempts"]) for n in status_b["notifications"]] == \
        [("pending", 0), ("pending", 0)]
    assert [(n["state"], n["attempts"]) for n in kstack.wait_terminal(a)["notifications"]] == \
        [("pending", 1)]

    kill_worker(kstack)
    kstack.start()

    status_b = kstack.wait_notifications(b)
    assert [(n["state"], n["attempts"]) for n in status_b["notifications"]] == \
        [("delivered", 1), ("delivered", 1)]
    note_a = kstack.wait_notifications(a, timeout=90)["notifications"][0]
    assert note_a == {"type": "webhook", "target": receiver.url + "/hook/hang",
                      "state": "failed", "response_code": None,
                      "error": "delivery interrupted by worker restart", "attempts": 1}
    time.sleep(5)  # a resend would arrive in this time
    assert len(hooks_for(receiver, "/hook/hang", a)) == 1
    assert len(hooks_for(receiver, "/hook/ok", b)) == 1
    assert len(mails_for(smtp, b)) == 1


def test_sigterm_lets_deliveries_in_flight_finish(kstack, site, receiver):
    # The receiver answers after 3 s; the notifier's shutdown grace is 5 s.
    job_id = submit(kstack, site.url + "/hello.html", async_mode=True,
                    callback_url=receiver.url + "/hook/slow/3")["job_id"]
    wait_hooks_for(receiver, "/hook/slow/3", job_id)
    kstack.stop()  # SIGTERM, as make stop / a routine restart does
    kstack.start()
    note = kstack.wait_notifications(job_id)["notifications"][0]
    assert (note["state"], note["response_code"], note["attempts"]) == ("delivered", 200, 1)
    assert len(hooks_for(receiver, "/hook/slow/3", job_id)) == 1
