"""The compatibility suite starts the same local stack as tests/e2e (its
stack.py and fixtures), once per session."""

import os
import sys

import pytest

E2E = os.path.join(os.path.dirname(__file__), "..", "e2e")
sys.path.insert(0, os.path.abspath(E2E))

from homes import make_home, pytest_sessionfinish  # noqa: E402,F401
from stack import FixtureSite, Stack  # noqa: E402


@pytest.fixture(scope="session")
def stack():
    s = Stack(make_home("enc-compat-"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def short_wait_stack():
    """A stack whose nginx waits only 2 s for a sync render: a slower page
    outlives the request."""
    s = Stack(make_home("enc-compat-short-"),
              extra_env={"ENCONVERT_NGINX_EXTRA": "enconvert_sync_timeout 2s;"})
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
