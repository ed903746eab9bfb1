"""The test stacks' homes go with a session that passed (homes.py): two
`make test` runs used to leave 3.7 GB in /tmp."""

import os
import subprocess
import sys
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))


def run_session(tmp_path, test_body, env=None):
    """A pytest session of its own whose test makes two homes under
    tmp_path/base with the suites' hook; returns (exit code, output,
    what is left in base)."""
    base = tmp_path / "base"
    base.mkdir()
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {HERE!r})
        import homes
        from homes import pytest_sessionfinish  # noqa: F401
        homes.SESSION.base = {str(base)!r}
    """))
    (suite / "test_one.py").write_text(textwrap.dedent(f"""
        import os
        from homes import make_home

        def test_one():
            for prefix in ("enc-a-", "enc-b-"):
                home = make_home(prefix)
                with open(os.path.join(home, "log"), "w") as f:
                    f.write("a log line")
            {test_body}
    """))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(suite)], capture_output=True, text=True, timeout=120,
                       env={**os.environ, **(env or {})})
    return r.returncode, r.stdout + r.stderr, sorted(os.listdir(base))


def test_a_session_that_passed_leaves_no_home_behind(tmp_path):
    code, out, left = run_session(tmp_path, "pass")
    assert code == 0, out
    assert left == []


def test_a_session_that_failed_keeps_its_homes_and_says_where(tmp_path):
    code, out, left = run_session(tmp_path, "assert False")
    assert code == 1, out
    assert len(left) == 1 and left[0].startswith("enc-run-")
    root = tmp_path / "base" / left[0]
    assert f"homes (logs) kept in {root}" in out
    homes = sorted(os.listdir(root))
    assert [h[:6] for h in homes] == ["enc-a-", "enc-b-"]
    assert (root / homes[0] / "log").read_text() == "a log line"


def test_homes_can_be_kept_on_purpose(tmp_path):
    code, out, left = run_session(tmp_path, "pass", env={"ENCONVERT_KEEP_TEST_HOMES": "1"})
    assert code == 0, out
    assert len(left) == 1 and "kept in" in out


def test_homes_are_short_and_open_to_the_postgres_user(tmp_path):
    from homes import Homes

    homes = Homes(base=str(tmp_path))
    home = homes.make("enc-e2e-")
    # the longest ipc path a stack makes is its home plus ~30 bytes
    assert len(home) - len(str(tmp_path)) < 40
    for d in (home, os.path.dirname(home)):
        assert os.stat(d).st_mode & 0o777 == 0o755
    assert homes.finish(passed=True) is None
    assert not os.path.exists(os.path.dirname(home))
