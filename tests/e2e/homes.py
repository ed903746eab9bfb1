"""Where a test session's stacks live.

Every stack a session starts gets its own home (a PostgreSQL cluster,
nginx, logs: ~50 MB each, a full `make test` starts about forty) under one
directory made for the session. A session that passed removes it; one that
failed keeps it, and says where, for the logs. Before, every home stayed in
/tmp after every run: two `make test` runs left 3.7 GB behind.
"""

import os
import shutil
import tempfile


class Homes:
    def __init__(self, base="/tmp", prefix="enc-run-"):
        self.base = base
        self.prefix = prefix
        self.root = None

    def make(self, prefix):
        """A new home. Paths stay short (ipc socket paths are limited to 107
        bytes) and traversable by the postgres user when the tests run as
        root."""
        if self.root is None:
            self.root = tempfile.mkdtemp(prefix=self.prefix, dir=self.base)
            os.chmod(self.root, 0o755)
        home = tempfile.mkdtemp(prefix=prefix, dir=self.root)
        os.chmod(home, 0o755)
        return home

    def finish(self, passed, keep=False):
        """At the session's end, after its stacks stopped: the directory
        kept, or None when it was removed (or never made)."""
        root, self.root = self.root, None
        if root is None:
            return None
        if passed and not keep:
            shutil.rmtree(root, ignore_errors=True)
            return None
        return root


SESSION = Homes()


def make_home(prefix):
    return SESSION.make(prefix)


def pytest_sessionfinish(session, exitstatus):
    """The hook of the suites that start stacks (their conftest imports it):
    runs after the session's fixtures stopped every stack.
    ENCONVERT_KEEP_TEST_HOMES=1 keeps a passing session's homes too."""
    kept = SESSION.finish(exitstatus == 0,
                          keep=os.environ.get("ENCONVERT_KEEP_TEST_HOMES") == "1")
    if kept:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        (reporter.write_line if reporter else print)(
            f"test stacks' homes (logs) kept in {kept}")
