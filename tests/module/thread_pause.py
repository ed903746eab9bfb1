"""Stops the main thread of a process while its other threads run on.

nginx's event loop and libzmq's I/O thread share the worker process; with
the loop stopped (ptrace), the I/O thread still reads replies, notices a
lost connection and connects again, so the events whose order otherwise
depends on scheduling are all waiting when the loop goes on."""

import contextlib
import ctypes
import os

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000           # __WALL: waitpid() for a thread we trace

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                         ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long


def _ptrace(request, pid):
    if _libc.ptrace(request, pid, None, None) == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"ptrace({request:#x}, {pid}): "
                      + os.strerror(err))


@contextlib.contextmanager
def main_thread_paused(pid):
    """Within the block, thread `pid` of process `pid` does not run."""
    _ptrace(PTRACE_SEIZE, pid)
    try:
        _ptrace(PTRACE_INTERRUPT, pid)
        os.waitpid(pid, WALL)
        yield
    finally:
        _ptrace(PTRACE_DETACH, pid)


def socket_fds(pid):
    """The sockets process `pid` has open, as {fd: "socket:[inode]"}."""
    out = {}
    base = f"/proc/{pid}/fd"
    for fd in os.listdir(base):
        try:
            target = os.readlink(os.path.join(base, fd))
        except FileNotFoundError:
            continue
        if target.startswith("socket:"):
            out[fd] = target
    return out


def worker_pid(master_pid):
    """The one worker process of an nginx master."""
    with open(f"/proc/{master_pid}/task/{master_pid}/children") as f:
        children = f.read().split()
    assert len(children) == 1, children
    return int(children[0])
