"""scripts/tune-host.sh against a stand-in for the sysfs file (the real one
is host-wide: tests must not change it)."""
import os
import shutil
import subprocess
import tempfile

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "tune-host.sh")
OFFER = "always within_size advise {never} deny force\n"


def run(tmp_path, *args, content=None, mode=None):
    path = tmp_path / "shmem_enabled"
    if content is not None:
        path.write_text(content)
    if mode is not None:
        path.chmod(mode)
    env = dict(os.environ, ENCONVERT_SHMEM_THP_FILE=str(path))
    r = subprocess.run(["bash", SCRIPT, *args], env=env, capture_output=True, text=True)
    return r, path


def test_check_reports_an_untuned_host(tmp_path):
    r, _ = run(tmp_path, "check", content=OFFER.replace("{never}", "[never]"))
    assert r.returncode == 1
    assert "shmem_enabled: never" in r.stdout
    assert "apply" in r.stderr


def test_check_accepts_within_size(tmp_path):
    r, _ = run(tmp_path, "check", content="always [within_size] advise never deny force\n")
    assert r.returncode == 0, r.stderr
    assert "shmem_enabled: within_size" in r.stdout


def test_apply_writes_within_size(tmp_path):
    # A plain file keeps what was written; the kernel's shows it bracketed.
    r, path = run(tmp_path, "apply", content=OFFER.replace("{never}", "[never]"))
    assert r.returncode == 0, r.stderr
    assert path.read_text().strip() == "within_size"


def test_apply_refuses_a_kernel_without_the_value(tmp_path):
    r, path = run(tmp_path, "apply", content="always advise [never]\n")
    assert r.returncode == 2
    assert "no 'within_size'" in r.stderr
    assert path.read_text() == "always advise [never]\n"


def test_apply_without_permission_says_so(tmp_path):
    content = OFFER.replace("{never}", "[never]")
    if os.geteuid() != 0:
        r, _ = run(tmp_path, "apply", content=content, mode=0o444)
        assert r.returncode == 2
        assert "run as root" in r.stderr
        return
    # root writes read-only files: run the script as nobody, on a file
    # nobody may read but not write, in a directory nobody may enter.
    shared = tempfile.mkdtemp(prefix="tune-host-")
    try:
        os.chmod(shared, 0o755)
        path = os.path.join(shared, "shmem_enabled")
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, 0o444)
        env = dict(os.environ, ENCONVERT_SHMEM_THP_FILE=path)
        r = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "bash", SCRIPT, "apply"],
            env=env, capture_output=True, text=True)
        assert r.returncode == 2, r.stderr
        assert "run as root" in r.stderr
        assert open(path).read() == content
    finally:
        shutil.rmtree(shared)


def test_a_directory_in_the_files_place_is_not_readable(tmp_path):
    (tmp_path / "shmem_enabled").mkdir()
    for command in ("check", "apply"):
        r, _ = run(tmp_path, command)
        assert r.returncode == 2
        assert "not readable" in r.stderr


def test_missing_file_and_bad_usage(tmp_path):
    r, _ = run(tmp_path, "check")
    assert r.returncode == 2 and "not readable" in r.stderr
    r, _ = run(tmp_path, "frobnicate", content=OFFER)
    assert r.returncode == 2 and "usage" in r.stderr
