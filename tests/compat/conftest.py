"""The compatibility suite starts the same local stack as tests/e2e (its
stack.py and fixtures), once per session."""

import os
import sys
import tempfile

import pytest

E2E = os.path.join(os.path.dirname(__file__), "..", "e2e")
sys.path.insert(0, os.path.abspath(E2E))

from stack import FixtureSite, Stack  # noqa: E402


def make_home(prefix):
    # as tests/e2e/conftest.py: short (ipc paths), readable by postgres
    home = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(home, 0o755)
    return home


@pytest.fixture(scope="session")
def stack():
    s = Stack(make_home("enc-compat-"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def site():
    site = FixtureSite()
    yield site
    site.close()
