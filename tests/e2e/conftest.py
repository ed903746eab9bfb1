import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
# make_home: the tests import it from here; the hook removes the homes
from homes import make_home, pytest_sessionfinish  # noqa: E402,F401
from receivers import HttpsReceiver, SmtpSink, TestCA  # noqa: E402
from stack import FixtureSite, Stack  # noqa: E402


def running(stack):
    """Body of a stack fixture: starts `stack`, yields it, always stops it
    (`yield from running(Stack(...))`)."""
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def stack():
    s = Stack(make_home("enc-e2e-"))
    try:
        s.start()
        yield s
    finally:
        s.stop()
    bad = s.bad_nginx_log_lines()
    assert not bad, "nginx logged alerts:\n" + "".join(bad)


@pytest.fixture(scope="session")
def site():
    site = FixtureSite()
    yield site
    site.close()


@pytest.fixture
def fresh_home():
    return make_home("enc-life-")


# Notification receivers (tests/e2e/receivers.py), one set per test module:
# a test CA with a trusted server certificate and a rogue one, the HTTPS
# webhook receiver it trusts, and an SMTP sink.

@pytest.fixture(scope="module")
def certs():
    d = make_home("enc-certs-")
    ca = TestCA(d, "ca")
    rogue = TestCA(d, "rogue-ca")
    return {"ca": ca.cert, "server": ca.issue("server"), "rogue": rogue.issue("rogue-server")}


@pytest.fixture(scope="module")
def receiver(certs):
    r = HttpsReceiver(*certs["server"])
    yield r
    r.close()


@pytest.fixture(scope="module")
def smtp():
    s = SmtpSink()
    yield s
    s.close()
