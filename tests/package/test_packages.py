"""The Debian packages as an operator uses them (docs/operations.md): built
with `make deb`, installed next to Debian's own nginx, a fresh database
migrated, a key created, the sample page converted through /usr/sbin/nginx
with the packaged snippet and with the packaged client /usr/bin/enconvert
(docs/cli.md), then purged with nothing left behind.

Changes the machine (packages, a system user, /etc/nginx/modules-enabled):
run by `make package-test` (and CI), as root, not by `make test`."""

import grp
import http.client
import json
import os
import pathlib
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import urllib.parse
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEB_DIR = os.path.join(REPO, "build", "deb")
PG_BIN = "/usr/lib/postgresql/15/bin"
PACKAGES = ["libnginx-mod-http-enconvert", "enconvert-worker", "enconvert-cli"]
SITE = os.path.join(REPO, "tests", "e2e", "fixtures", "site")

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason="installs packages: needs root (CI runs as root)")


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 600)
    r = subprocess.run(cmd, **kw)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def known_packages():
    """The PACKAGES dpkg still knows (installed, or removed with conffiles
    left). A package without conffiles (enconvert-cli) is gone after remove,
    and apt-get purge refuses every name when one is unknown."""
    return [p for p in PACKAGES
            if subprocess.run(["dpkg-query", "-W", p], capture_output=True).returncode == 0]


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, method="GET", body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def processes_of(uid):
    """(pid, comm) of the running processes of user `uid`."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat(f"/proc/{pid}").st_uid != uid:
                continue
            with open(f"/proc/{pid}/comm") as f:
                out.append((int(pid), f.read().strip()))
        except OSError:
            continue
    return out


class Cluster:
    """A throw-away PostgreSQL cluster (unix socket only) with a role and a
    database named enconvert, as the operator guide creates them."""

    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        self.sock = os.path.join(root, "pgsock")
        self.port = free_port()
        os.makedirs(self.sock)
        os.makedirs(self.dir)
        for d in (self.dir, self.sock):
            shutil.chown(d, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        self.pg(f"{PG_BIN}/initdb", "-D", self.dir, "-A", "trust", "-U", "postgres")
        self.pg(f"{PG_BIN}/pg_ctl", "-D", self.dir, "-w", "-l", os.path.join(self.sock, "pg.log"),
                "-o", f"-k {self.sock} -p {self.port} -c listen_addresses=''", "start")
        self.pg("createuser", "-h", self.sock, "-p", str(self.port), "-U", "postgres",
                "enconvert")
        self.pg("createdb", "-h", self.sock, "-p", str(self.port), "-U", "postgres",
                "-O", "enconvert", "enconvert")
        self.url = f"host={self.sock} port={self.port} dbname=enconvert user=enconvert"

    def pg(self, *cmd):
        return run(["runuser", "-u", "postgres", "--", *cmd])

    def stop(self):
        subprocess.run(["runuser", "-u", "postgres", "--", f"{PG_BIN}/pg_ctl", "-D", self.dir,
                        "-m", "fast", "-w", "stop"], capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def debs():
    # ENCONVERT_REUSE_DEBS=1: test the packages already in build/deb/ (when
    # iterating on this test); CI always builds them.
    if os.environ.get("ENCONVERT_REUSE_DEBS") != "1" or not os.path.isdir(DEB_DIR):
        run(["make", "-C", REPO, "deb"], timeout=3000)
    files = sorted(os.path.join(DEB_DIR, f) for f in os.listdir(DEB_DIR) if f.endswith(".deb"))
    names = [os.path.basename(f).split("_")[0] for f in files]
    assert sorted(n for n in names if not n.endswith("-dbgsym")) == sorted(PACKAGES), names
    return [f for f in files if not os.path.basename(f).split("_")[0].endswith("-dbgsym")]


@pytest.fixture(scope="module")
def installed(debs):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "install", "-y", "-q", *debs], env=env)
    try:
        yield
    finally:
        subprocess.run(["apt-get", "purge", "-y", "-q", *known_packages()], env=env,
                       capture_output=True, timeout=600)


@pytest.fixture
def work_dir():
    """A directory the postgres and enconvert users can traverse (pytest's
    tmp_path is private to root)."""
    d = tempfile.mkdtemp(prefix="enc-pkg-", dir="/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def check_client(base_url, key, site_url, out_dir):
    """/usr/bin/enconvert converts a batch into `out_dir`, prints a job's
    status, and refuses a bad key with its exit code (docs/cli.md)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENCONVERT_")}
    env.update(ENCONVERT_URL=base_url, ENCONVERT_API_KEY=key)
    r = run(["/usr/bin/enconvert", "convert", f"{site_url}/hello.html",
             f"{site_url}/second.html", "-o", str(out_dir)], env=env)
    assert "progress: 2/2 finished (2 converted, 0 failed)" in r.stderr, r.stderr
    saved = r.stdout.splitlines()
    assert len(saved) == 2, r.stdout
    for path, text in zip(saved, ["Quarterly report alpha", "Inventory sheet beta"]):
        with open(path, "rb") as f:
            pdf = f.read()
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
        assert text in run(["pdftotext", "-", "-"], input=pdf, text=False).stdout.decode()

    job_id = run(["/usr/bin/enconvert", "convert", f"{site_url}/hello.html"],
                 env=env).stdout.strip()
    assert job_id.startswith("job_"), job_id

    def finished():
        r = run(["/usr/bin/enconvert", "status", job_id], env=env)
        return r.stdout.startswith(f"{job_id}: completed, 1/1 finished")
    wait_for(finished, 120, "the client's job to complete")

    bad = subprocess.run(["/usr/bin/enconvert", "status", job_id], capture_output=True, text=True,
                         timeout=60, env=dict(env, ENCONVERT_API_KEY="sk_live_" + "x" * 40))
    assert bad.returncode == 3, bad
    assert "(invalid_api_key, HTTP 401)" in bad.stderr and len(bad.stderr.splitlines()) == 1


CREDENTIALS = "/run/credentials/enconvert-worker.service"


def installed_unit():
    return next(p for p in run(["dpkg-query", "-L", "enconvert-worker"]).stdout.split()
                if p.endswith("/enconvert-worker.service"))


def unit_proc_mounts():
    """A command prefix that gives the worker the read-only /proc/sys
    systemd's ProtectKernelTunables= would, when the installed unit sets it
    (no systemd here). Under it the kernel refuses the fresh /proc of
    WebKit's bubblewrap sandbox, and the web processes ran unsandboxed."""
    with open(installed_unit()) as f:
        unit = [line.strip() for line in f if not line.startswith("#")]
    if "ProtectKernelTunables=true" not in unit:
        return []
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            "mount --bind /proc/sys /proc/sys && "
            "mount -o remount,bind,ro /proc/sys && exec \"$@\"", "sh"]


def unit_command(user):
    """The installed unit's ExecStart, as argv, the credentials directory
    its LoadCredential= lines make, filled as systemd does (a copy of each
    file, readable by the service's user alone), and its UMask."""
    with open(installed_unit()) as f:
        lines = [line.strip().split("=", 1) for line in f
                 if "=" in line and not line.startswith("#")]
    shutil.rmtree(CREDENTIALS, ignore_errors=True)
    os.makedirs(CREDENTIALS, mode=0o500)
    loaded = [value for key, value in lines if key == "LoadCredential"]
    assert loaded, "the unit loads no credential"
    for entry in loaded:
        name, source = entry.split(":", 1)
        shutil.copyfile(source, os.path.join(CREDENTIALS, name))
        os.chmod(os.path.join(CREDENTIALS, name), 0o400)
        os.chown(os.path.join(CREDENTIALS, name), user.pw_uid, user.pw_gid)
    os.chown(CREDENTIALS, user.pw_uid, user.pw_gid)
    (exec_start,) = [value for key, value in lines if key == "ExecStart"]
    command = [arg.replace("${CREDENTIALS_DIRECTORY}", CREDENTIALS)
               for arg in shlex.split(exec_start)]
    (umask,) = [value for key, value in lines if key == "UMask"]
    return command, CREDENTIALS, umask


def check_upgrade_tightens_the_secret():
    """An installation from before kept the secret root:www-data 0640; the
    package's configure step makes it root's alone, its value unchanged
    (links already handed out stay valid)."""
    path = "/etc/enconvert/secret"
    with open(path) as f:
        value = f.read()
    os.chown(path, 0, grp.getgrnam("www-data").gr_gid)
    os.chmod(path, 0o640)
    run(["/var/lib/dpkg/info/enconvert-worker.postinst", "configure", "0.1"])
    after = os.stat(path)
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o600, 0, 0)
    with open(path) as f:
        assert f.read() == value


def test_packages_install_convert_and_purge_cleanly(installed, work_dir):
    tmp_path = pathlib.Path(work_dir)
    # ---- what the packages put in place
    assert os.path.isfile("/usr/lib/nginx/modules/ngx_http_enconvert_module.so")
    with open("/usr/share/nginx/modules-available/mod-http-enconvert.conf") as f:
        assert "ngx_http_enconvert_module.so" in f.read()
    assert os.path.islink("/etc/nginx/modules-enabled/50-mod-http-enconvert.conf")
    assert os.path.isfile("/etc/nginx/snippets/enconvert.conf")
    assert os.path.isfile("/etc/nginx/conf.d/enconvert-log.conf")
    assert os.access("/usr/bin/enconvert-worker", os.X_OK)
    assert os.access("/usr/libexec/enconvert/enconvert-render", os.X_OK)
    assert os.path.isfile("/usr/libexec/enconvert/ad_rules.json")  # block_ads
    assert os.access("/usr/bin/enconvert", os.X_OK)
    user = pwd.getpwnam("enconvert")
    secret = os.stat("/etc/enconvert/secret")
    assert stat.S_IMODE(secret.st_mode) == 0o600 and secret.st_size >= 64
    assert (secret.st_uid, secret.st_gid) == (0, 0)
    # Root's alone: user enconvert (and so a page that breaks out of the
    # browser engine, which runs as it) cannot read it.
    assert subprocess.run(["runuser", "-u", "enconvert", "-g", "www-data", "--",
                           "cat", "/etc/enconvert/secret"], capture_output=True).returncode != 0
    check_upgrade_tightens_the_secret()
    storage = os.stat("/var/lib/enconvert/storage")
    assert stat.S_IMODE(storage.st_mode) == 0o2750
    assert storage.st_uid == user.pw_uid
    # The unit's Documentation= and the docs' links to each other: the
    # files as named, not gzipped (dh_compress), every page of docs/.
    with open(installed_unit()) as f:
        doc = next(line.split("file://", 1)[1].strip() for line in f
                   if line.startswith("Documentation=file://"))
    assert os.path.isfile(doc), doc
    for page in os.listdir(os.path.join(REPO, "docs")):
        assert os.path.isfile(f"/usr/share/doc/enconvert-worker/{page}"), page
    # Removing stops the service (before, nothing did: it ran on from
    # deleted binaries); an upgrade of a running worker migrates and starts
    # it again (before, the upgrade's stop left it down).
    with open("/var/lib/dpkg/info/enconvert-worker.prerm") as f:
        prerm = f.read()
    assert 'if [ "$1" = "remove" ]' in prerm
    assert "deb-systemd-invoke stop enconvert-worker.service" in prerm
    with open("/var/lib/dpkg/info/enconvert-worker.postinst") as f:
        postinst = f.read()
    assert "enconvert-worker migrate" in postinst
    assert "deb-systemd-invoke start enconvert-worker.service" in postinst
    # the new unit loaded before the worker is started again
    assert postinst.index("systemctl --system daemon-reload") < \
        postinst.index("deb-systemd-invoke start enconvert-worker.service")
    depends = run(["dpkg-query", "-W", "-f=${Depends}", "libnginx-mod-http-enconvert"]).stdout
    assert "nginx-abi-" in depends
    # Older WebKitGTK let media elements open sockets outside the gate.
    depends = run(["dpkg-query", "-W", "-f=${Depends}", "enconvert-worker"]).stdout
    assert "libwebkit2gtk-4.1-0 (>= 2.50.2)" in depends, depends
    # The stock configuration, with the module now enabled, still passes.
    run(["/usr/sbin/nginx", "-t", "-q"])

    access_log = "/var/log/nginx/access.log"
    log_start = os.path.getsize(access_log) if os.path.exists(access_log) else 0
    cluster = Cluster(str(tmp_path))
    worker = nginx = site = None
    conf = ["--config", "/etc/enconvert/worker.conf", "--database_url", cluster.url]
    try:
        # ---- migrate (idempotent), create a key
        as_worker = ["runuser", "-u", "enconvert", "--", "/usr/bin/enconvert-worker"]
        out = run([*as_worker, "migrate", *conf]).stdout
        assert "applied 001_init" in out, out
        assert "already up to date" in run([*as_worker, "migrate", *conf]).stdout
        key = run([*as_worker, "key", "create", "--account", "pkg", *conf]).stdout \
            .strip().splitlines()[-1]
        assert key.startswith("sk_live_")

        # ---- the service as its unit runs it (no systemd here): its
        # ExecStart with its credentials, user enconvert, group www-data,
        # the unit's umask, /run/enconvert
        run(["install", "-d", "-o", "enconvert", "-g", "www-data", "-m", "0750",
             "/run/enconvert"])
        command, credentials, umask = unit_command(user)
        log = open(tmp_path / "worker.log", "w")
        worker = subprocess.Popen(
            [*unit_proc_mounts(), "runuser", "-u", "enconvert", "-g", "www-data", "--", "env",
             f"CREDENTIALS_DIRECTORY={credentials}", "sh", "-c", f'umask {umask}; exec "$@"', "sh",
             *command, "--database_url", cluster.url,
             # The sample site is on loopback, which the default deny list refuses.
             "--allowed_networks", "127.0.0.0/8"],
            stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists("/run/enconvert/worker.sock"), 60, "worker socket")

        site_port = free_port()
        site = ThreadingHTTPServer(("127.0.0.1", site_port),
                                   partial(SimpleHTTPRequestHandler, directory=SITE))
        threading.Thread(target=site.serve_forever, daemon=True).start()

        # ---- Debian's nginx, the enabled module, one include of the snippet
        port = free_port()
        ngx_dir = tmp_path / "nginx"
        ngx_dir.mkdir()
        (ngx_dir / "nginx.conf").write_text(f"""
user www-data;
include /etc/nginx/modules-enabled/*.conf;
pid {ngx_dir}/nginx.pid;
error_log {ngx_dir}/error.log;
events {{}}
http {{
    # As Debian's nginx.conf: conf.d holds the package's log format.
    include /etc/nginx/conf.d/*.conf;
    access_log off;
    client_body_temp_path {ngx_dir}/body;
    server {{
        listen 127.0.0.1:{port};
        include /etc/nginx/snippets/enconvert.conf;
    }}
}}
""")
        run(["/usr/sbin/nginx", "-t", "-q", "-c", str(ngx_dir / "nginx.conf")])
        nginx = subprocess.Popen(["/usr/sbin/nginx", "-c", str(ngx_dir / "nginx.conf"),
                                  "-g", "daemon off;"])

        def healthy():
            try:
                return get(port, "/v1/health")[0] == 200
            except OSError:
                return False
        wait_for(healthy, 90, "/v1/health through nginx")

        status, body = get(port, "/v1/convert/url-to-pdf", "POST",
                           json.dumps({"url": f"http://127.0.0.1:{site_port}/hello.html"}),
                           {"Authorization": f"Bearer {key}",
                            "Content-Type": "application/json"})
        assert status == 200, body
        answer = json.loads(body)
        link = urllib.parse.urlsplit(answer["presigned_url"])
        status, pdf = get(port, f"{link.path}?{link.query}")
        assert status == 200 and pdf.startswith(b"%PDF-")
        # nginx (www-data) reads the stored files; no www-data process
        # may change them.
        for root, _, files in os.walk("/var/lib/enconvert/storage"):
            for name in files:
                mode = os.stat(os.path.join(root, name)).st_mode
                assert mode & 0o022 == 0, (root, name, oct(mode))
        assert len(pdf) == answer["file_size"]
        text = run(["pdftotext", "-", "-"], input=pdf, text=False).stdout.decode()
        assert "Quarterly report alpha" in text
        status, _ = get(port, "/v1/convert/url-to-pdf", "POST",
                        json.dumps({"url": f"http://127.0.0.1:{site_port}/hello.html"}),
                        {"Authorization": "Bearer sk_live_" + "x" * 40,
                         "Content-Type": "application/json"})
        assert status == 401

        # ---- the packaged client against the packaged service
        check_client(f"http://127.0.0.1:{port}", key, f"http://127.0.0.1:{site_port}",
                     tmp_path / "client")
        # The web processes ran in their sandbox under the unit's settings.
        with open(tmp_path / "worker.log", errors="replace") as f:
            assert "without their sandbox" not in f.read()
        # The API's access log (the package's format) holds no key.
        with open(access_log, errors="replace") as f:
            f.seek(log_start)
            logged = f.read()
        assert "/v1/convert/url-to-pdf" in logged and "sk_live_" not in logged
        assert link.query not in logged
    finally:
        for p in (nginx, worker):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    p.kill()
        if site:
            site.shutdown()
        cluster.stop()
        shutil.rmtree(CREDENTIALS, ignore_errors=True)
        try:
            os.rmdir(os.path.dirname(CREDENTIALS))
        except OSError:
            pass
    # The worker took its Xvfb, renderers and WebKit processes with it.
    wait_for(lambda: not processes_of(user.pw_uid), 30,
             "every process of the enconvert user to exit")

    # ---- remove (conffiles stay), then purge: nginx keeps working, and
    # nothing of ours is left
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "remove", "-y", "-q", *PACKAGES], env=env)
    assert not os.path.exists("/usr/lib/nginx/modules/ngx_http_enconvert_module.so")
    run(["/usr/sbin/nginx", "-t", "-q"])
    left = known_packages()
    assert "libnginx-mod-http-enconvert" in left and "enconvert-worker" in left, left
    run(["apt-get", "purge", "-y", "-q", *left], env=env)
    for path in ("/usr/bin/enconvert-worker", "/usr/bin/enconvert", "/usr/libexec/enconvert",
                 "/usr/lib/nginx/modules/ngx_http_enconvert_module.so",
                 "/etc/nginx/modules-enabled/50-mod-http-enconvert.conf",
                 "/etc/nginx/snippets/enconvert.conf", "/etc/nginx/conf.d/enconvert-log.conf",
                 "/etc/enconvert", "/var/lib/enconvert", "/var/cache/enconvert"):
        assert not os.path.lexists(path), path
    run(["/usr/sbin/nginx", "-t", "-q"])


def test_unit_is_hardened_and_notifies():
    with open(os.path.join(REPO, "debian", "enconvert-worker.service")) as f:
        unit = dict(line.strip().split("=", 1) for line in f
                    if "=" in line and not line.startswith("#"))
    assert unit["Type"] == "notify"
    assert unit["Restart"] == "on-failure"
    assert unit["ProtectSystem"] == "strict"
    assert unit["PrivateTmp"] == "true"
    assert unit["NoNewPrivileges"] == "true"
    assert unit["ReadWritePaths"] == "/var/lib/enconvert"
    assert unit["User"] == "enconvert"
    assert unit["CacheDirectory"] == "enconvert"  # block_ads's compiled list
    # Their read-only mounts over /proc make the kernel refuse the /proc of
    # WebKit's bubblewrap sandbox: the web processes would run without it.
    for key in ("ProtectKernelTunables", "ProtectKernelLogs", "ProtectProc", "ProcSubset"):
        assert key not in unit, key
    if shutil.which("systemd-analyze"):
        r = subprocess.run(["systemd-analyze", "verify",
                            os.path.join(REPO, "debian", "enconvert-worker.service")],
                           capture_output=True, text=True)
        assert "Unknown key" not in r.stderr and "Invalid" not in r.stderr, r.stderr
