"""The command-line client `enconvert` (docs/cli.md) against the real stack:
batches with progress and downloads, screenshots, failing URLs, keys that
are missing or refused, status, and one error line with its exit code for
each kind of failure."""

import json
import os
import pty
import re
import socket
import subprocess

import pytest

from stack import BUILD, pdftotext, png_size

CLI = os.path.join(BUILD, "cli", "enconvert")

# docs/cli.md, "Exit codes"
OK, FAILED_URLS, USAGE, AUTH, REFUSED, NOT_FOUND = 0, 1, 2, 3, 4, 7
UNREACHABLE = 6
JOB_ID = re.compile(r"^(job|batch)_[0-9a-f]{32}$")
PROGRESS = re.compile(r"^progress: (\d+)/(\d+) finished \((\d+) converted, (\d+) failed\)$")


def closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/nothing-listens-here"


def cli_env(stack, key="default", url=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENCONVERT_")}
    env["ENCONVERT_URL"] = url or stack.url
    if key == "default":
        key = stack.key
    if key is not None:
        env["ENCONVERT_API_KEY"] = key
    return env


def enconvert(stack, *args, key="default", url=None):
    return subprocess.run([CLI, *args], env=cli_env(stack, key, url), capture_output=True,
                          text=True, timeout=300)


def error_line(result):
    """The one line a failing command prints on stderr."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("enconvert: "), lines[0]
    return lines[0]


def progress_lines(stderr):
    return [tuple(int(n) for n in m.groups())
            for m in (PROGRESS.match(line) for line in stderr.splitlines()) if m]


def assert_pdf(path):
    with open(path, "rb") as f:
        data = f.read()
    assert data.startswith(b"%PDF-"), data[:16]
    assert data.rstrip().endswith(b"%%EOF"), data[-16:]
    return data


def test_batch_waits_with_progress_and_downloads_every_pdf(stack, site, tmp_path):
    out = tmp_path / "out"
    urls = [site.url + "/hello.html", site.url + "/second.html", site.url + "/hello.html"]
    r = enconvert(stack, "convert", *urls, "--wait", "-o", str(out))
    assert r.returncode == OK, r
    assert re.search(r"^enconvert: submitted batch_[0-9a-f]{32} \(3 URLs\)", r.stderr, re.M), \
        r.stderr
    progress = progress_lines(r.stderr)
    assert progress, r.stderr
    assert progress[-1] == (3, 3, 3, 0)
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)  # only moves forward
    assert all(p[1] == 3 for p in progress)

    # One file per URL, in URL order, named after the host (shared: -<place>).
    saved = r.stdout.splitlines()
    assert saved == [str(out / f"127-0-0-1-{n}.pdf") for n in (1, 2, 3)], r.stdout
    texts = [pdftotext(assert_pdf(path)) for path in saved]
    assert "Quarterly report alpha" in texts[0]
    assert "Inventory sheet beta" in texts[1]
    assert "Quarterly report alpha" in texts[2]
    assert sorted(os.listdir(out)) == sorted(os.path.basename(p) for p in saved)  # no .part


def test_a_link_planted_in_the_output_directory_is_not_followed(stack, site, tmp_path):
    # -o may be a directory others can write to; the download's part file
    # has a predictable name, and a link there made it overwrite its target
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("not yours")
    for name in ("127-0-0-1.pdf", "127-0-0-1-1.pdf"):
        os.symlink(victim, out / f".{name}.part")
    r = enconvert(stack, "convert", site.url + "/hello.html", "--wait", "-o", str(out))
    assert r.returncode == OK, r
    assert victim.read_text() == "not yours"
    saved = r.stdout.splitlines()
    assert len(saved) == 1, r.stdout
    assert "Quarterly report alpha" in pdftotext(assert_pdf(saved[0]))


def test_progress_bar_on_a_terminal(stack, site, tmp_path):
    leader, follower = pty.openpty()
    try:
        p = subprocess.Popen([CLI, "convert", site.url + "/hello.html", site.url + "/second.html",
                              "-o", str(tmp_path)],
                             env=cli_env(stack), stdout=subprocess.PIPE, stderr=follower)
        os.close(follower)
        follower = None
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the command closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        stdout, _ = p.communicate(timeout=300)
    finally:
        os.close(leader)
        if follower is not None:
            os.close(follower)
    assert p.returncode == OK, seen
    text = seen.decode()
    assert "\r[" + "#" * 30 + "] 2/2 finished (2 converted, 0 failed)" in text, text
    assert "progress:" not in text  # the line form is for pipes and logs
    assert len(stdout.splitlines()) == 2


def test_screenshot_gives_pngs(stack, site, tmp_path):
    r = enconvert(stack, "convert", "--screenshot", site.url + "/hello.html", "-o",
                  str(tmp_path))
    assert r.returncode == OK, r
    saved = r.stdout.splitlines()
    assert saved == [str(tmp_path / "127-0-0-1.png")]
    with open(saved[0], "rb") as f:
        width, height = png_size(f.read())
    assert width == 1920 and height > 0


def test_failing_url_in_a_batch_exits_1_with_one_line_for_it(stack, site, tmp_path):
    missing = site.url + "/no-such-page.html"
    r = enconvert(stack, "convert", site.url + "/hello.html", missing, "--wait", "-o",
                  str(tmp_path))
    assert r.returncode == FAILED_URLS, r
    assert progress_lines(r.stderr)[-1] == (2, 2, 1, 1)
    failures = [line for line in r.stderr.splitlines() if line.startswith("enconvert: failed: ")]
    assert len(failures) == 1, r.stderr
    assert failures[0].startswith(f"enconvert: failed: {missing}: "), failures[0]
    assert "404" in failures[0], failures[0]
    # The URL that worked is still downloaded (its name shared with no other file).
    assert r.stdout.splitlines() == [str(tmp_path / "127-0-0-1.pdf")]
    assert_pdf(tmp_path / "127-0-0-1.pdf")


def test_single_unreachable_url_exits_1_and_saves_nothing(stack, tmp_path):
    url = closed_port_url()
    r = enconvert(stack, "convert", url, "-o", str(tmp_path))
    assert r.returncode == FAILED_URLS, r
    assert re.search(rf"^enconvert: failed: {re.escape(url)}: \S", r.stderr, re.M), r.stderr
    assert r.stdout == ""
    assert os.listdir(tmp_path) == []


def test_without_wait_prints_the_job_and_where_to_follow_it(stack, site):
    r = enconvert(stack, "convert", site.url + "/second.html")
    assert r.returncode == OK, r
    job_id = r.stdout.strip()
    assert JOB_ID.match(job_id) and job_id.startswith("job_"), r.stdout
    assert f"{stack.url}/v1/convert/status/{job_id}" in r.stderr, r.stderr
    assert f"enconvert status {job_id}" in r.stderr

    stack.wait_terminal(job_id)
    r = enconvert(stack, "status", job_id)
    assert r.returncode == OK, r
    lines = r.stdout.splitlines()
    assert lines[0] == f"{job_id}: completed, 1/1 finished (1 converted, 0 failed)"
    assert re.match(rf"^  success +{re.escape(site.url)}/second.html  "
                    rf"http://[^/]+:{stack.port}/v1/files/\S+\?expires=\d+&signature=[0-9a-f]{{64}}$",
                    lines[1]), lines[1]
    link = lines[1].split()[-1]
    assert "Inventory sheet beta" in pdftotext(stack.download(link).body)

    r = enconvert(stack, "status", job_id, "--json")
    assert r.returncode == OK, r
    body = json.loads(r.stdout)
    assert body["job_id"] == job_id and body["status"] == "completed"


def test_several_urls_without_wait_are_one_batch(stack, site):
    r = enconvert(stack, "convert", site.url + "/hello.html", site.url + "/second.html")
    assert r.returncode == OK, r
    job_id = r.stdout.strip()
    assert job_id.startswith("batch_") and JOB_ID.match(job_id)
    assert stack.wait_terminal(job_id)["total_tasks"] == 2


def test_status_of_a_failed_job_shows_the_error(stack, tmp_path):
    url = closed_port_url()
    r = enconvert(stack, "convert", url)
    job_id = r.stdout.strip()
    stack.wait_terminal(job_id)
    r = enconvert(stack, "status", job_id)
    assert r.returncode == OK, r
    lines = r.stdout.splitlines()
    assert lines[0] == f"{job_id}: failed, 1/1 finished (0 converted, 1 failed)"
    assert re.match(rf"^  failed +{re.escape(url)}  \S", lines[1]), lines[1]


def test_bad_key_exits_3_with_one_line(stack, site):
    for key in ("sk_live_" + "Z" * 40, "not-a-key"):
        r = enconvert(stack, "convert", site.url + "/hello.html", key=key)
        assert r.returncode == AUTH, r
        line = error_line(r)
        assert "(invalid_api_key, HTTP 401)" in line, line
        assert "ENCONVERT_API_KEY" in line
        assert r.stdout == ""
        r = enconvert(stack, "status", "job_" + "0" * 32, key=key)
        assert r.returncode == AUTH, r
        assert "invalid_api_key" in error_line(r)


def test_missing_key_exits_3_before_any_request(stack, site, tmp_path):
    out = tmp_path / "never"
    r = enconvert(stack, "convert", site.url + "/hello.html", "-o", str(out), key=None)
    assert r.returncode == AUTH, r
    assert "ENCONVERT_API_KEY is not set" in error_line(r)
    assert not out.exists()
    r = enconvert(stack, "status", "job_" + "0" * 32, key="")
    assert r.returncode == AUTH, r


def test_unknown_job_exits_7(stack):
    r = enconvert(stack, "status", "job_" + "0" * 32)
    assert r.returncode == NOT_FOUND, r
    assert "(job_not_found, HTTP 404)" in error_line(r)
    # What cannot be a job id is not sent: "../../health" would reach /v1/health.
    r = enconvert(stack, "status", "../../health")
    assert r.returncode == NOT_FOUND, r
    assert "not a job id" in error_line(r)


def test_refused_request_exits_4_naming_the_field(stack, site):
    r = enconvert(stack, "convert", site.url + "/hello.html", "ftp://example.com/")
    assert r.returncode == REFUSED, r
    line = error_line(r)
    assert "url[1]" in line and "(invalid_url, HTTP 400)" in line, line


def test_unreachable_service_exits_6(stack, site):
    base = closed_port_url().rsplit("/", 1)[0]
    r = enconvert(stack, "convert", site.url + "/hello.html", url=base)
    assert r.returncode == UNREACHABLE, r
    assert error_line(r).startswith(f"enconvert: cannot reach {base}: ")


@pytest.mark.parametrize("args", [[], ["convert"], ["convert", "--wait"], ["frobnicate"],
                                  ["status"], ["convert", "https://example.com/", "--bogus"]])
def test_usage_errors_exit_2(stack, args):
    r = enconvert(stack, *args)
    assert r.returncode == USAGE, r
    assert "enconvert --help" in error_line(r)


def test_help_exits_0(stack):
    r = enconvert(stack, "--help", key=None)
    assert r.returncode == OK, r
    assert "enconvert convert URL..." in r.stdout and "ENCONVERT_API_KEY" in r.stdout
