"""A worker killed with SIGKILL takes its Xvfb and renderer children with it
(issue: hardening, defect 7): they start with a clean signal mask and die
with their parent (PR_SET_PDEATHSIG)."""

import os
import signal
import time

import pytest

from conftest import make_home
from stack import Stack


def children(pid):
    """{child pid: command name} of `pid`."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out[int(name)] = stat[stat.index("(") + 1:stat.rindex(")")]
    return out


def blocked_signals(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("SigBlk:"):
                return int(line.split()[1], 16)
    raise AssertionError("no SigBlk line")


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@pytest.fixture
def lone_stack():
    s = Stack(make_home("enc-death-"))
    try:
        s.start()
        yield s
    finally:
        s.stop()


def test_sigkilled_worker_leaves_no_xvfb_or_renderer(lone_stack):
    with open(os.path.join(lone_stack.home, "run", "worker-1.pid")) as f:
        worker = int(f.read())
    kids = children(worker)
    xvfb = [p for p, c in kids.items() if c == "Xvfb"]
    renderers = [p for p, c in kids.items() if c.startswith("enconvert-rend")]
    assert len(xvfb) == 1 and renderers, kids
    for pid in xvfb + renderers:
        assert blocked_signals(pid) == 0, f"{kids[pid]} starts with signals blocked"

    os.kill(worker, signal.SIGKILL)
    deadline = time.time() + 10
    while time.time() < deadline and any(alive(p) for p in xvfb + renderers):
        time.sleep(0.1)
    left = [kids[p] for p in xvfb + renderers if alive(p)]
    assert not left, f"still running after the worker's SIGKILL: {left}"
