"""Fixtures for the nginx module tests (helpers live in ngxtest.py)."""

import os
import re
import subprocess
import time

import pytest

from ngxtest import MODULE, REPO, VALGRIND, FakeBackend, Nginx


@pytest.fixture(scope="session")
def module_so():
    """Build the module once per session (no-op when up to date)."""
    subprocess.run([os.path.join(REPO, "scripts", "build-module.sh")],
                   check=True, stdout=subprocess.DEVNULL)
    assert os.path.exists(MODULE)
    return MODULE


BAD_LOG = re.compile(r"\[(alert|emerg|crit)\]")


@pytest.fixture
def make_env(tmp_path, module_so):
    """Factory: make_env(bind=True, **nginx_kwargs) -> (nginx, backend)."""
    started = []

    def make(bind=True, **kw):
        endpoint = f"ipc://{tmp_path}/worker-1.sock"
        backend = FakeBackend(endpoint) if bind else None
        ngx = Nginx(str(tmp_path), module_so, [endpoint], **kw)
        started.append((ngx, backend))
        if backend:
            # ZMQ_IMMEDIATE: requests get 503 until the DEALER is connected
            assert backend.connected.wait(5), "module never connected"
            time.sleep(0.05)    # the DEALER side attaches its pipe too
        return ngx, backend

    yield make

    for ngx, backend in started:
        ngx.stop()
        if backend:
            backend.close()
        log = ngx.log()
        bad = [line for line in log.splitlines() if BAD_LOG.search(line)]
        assert not bad, "nginx error log has alerts:\n" + "\n".join(bad)
        if VALGRIND:
            for name in os.listdir(ngx.tmp):
                if name.startswith("valgrind."):
                    with open(os.path.join(ngx.tmp, name)) as f:
                        report = f.read()
                    assert not report.strip(), report


@pytest.fixture
def env(make_env):
    return make_env()


