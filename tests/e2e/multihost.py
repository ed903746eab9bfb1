"""Several "hosts" on this machine (docs/scaling.md): one PostgreSQL, one
S3-compatible store, two workers and two nginx, each with its own home
directory and no directory shared between them, reaching each other over
tcp:// on their own loopback addresses (127.0.0.x) with CURVE on. What the
"hosts" share is what real ones would: the database, the bucket, the
signing secret and the CURVE public keys."""

import os
import secrets
import signal
import socket
import subprocess
import time

import zmq

from s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY
from stack import BUILD, REPO, pg_user, request

WORKER_BIN = os.path.join(BUILD, "worker", "enconvert-worker")
RENDERER_BIN = os.path.join(BUILD, "worker", "src", "render_child", "enconvert-render")
MODULE = os.path.join(BUILD, "nginx", "ngx_http_enconvert_module.so")
NGINX = os.environ.get("ENCONVERT_NGINX", "/usr/sbin/nginx")

HEARTBEAT_MS = 500
HEARTBEAT_TIMEOUT_MS = 2000
LEASE_SECONDS = 6


def free_port(ip):
    with socket.socket() as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


def write_secret_file(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def curve_keygen(path):
    """A keypair written by the worker's own command; returns the public key."""
    r = subprocess.run([WORKER_BIN, "curve-keygen", "--out", path],
                       capture_output=True, text=True, check=True)
    return r.stdout.strip().splitlines()[-1]


class WorkerHost:
    """One enconvert-worker with its own home, listening on tcp://IP:PORT."""

    def __init__(self, cluster, n, ip):
        self.n = n
        self.ip = ip
        self.id = f"host-{n}"
        self.home = os.path.join(cluster.root, f"worker-{n}")
        os.makedirs(os.path.join(self.home, "mail"), exist_ok=True)
        self.storage = os.path.join(self.home, "storage")   # renders in progress
        self.endpoint = f"tcp://{ip}:{free_port(ip)}"
        self.metrics_url = f"http://{ip}:{free_port(ip)}/metrics"
        self.log_path = os.path.join(self.home, "worker.log")
        self.conf = os.path.join(self.home, "worker.conf")
        with open(self.conf, "w") as f:
            f.write(f"""# worker {n} of the multi-host test (tests/e2e/multihost.py)
database_url = {cluster.database_url}
listen = {self.endpoint}
worker_id = {self.id}
storage_dir = {self.storage}
storage_backend = s3
s3_endpoint = {cluster.s3_endpoint}
s3_bucket = {cluster.bucket}
s3_region = {REGION}
signing_secret_file = {cluster.secret}
renderer_binary = {RENDERER_BIN}
renderers = 1
views_per_renderer = 2
mail_dir = {self.home}/mail
metrics_listen = {self.metrics_url[len("http://"):-len("/metrics")]}
allowed_networks = 127.0.0.0/8,::1/128
lease_seconds = {LEASE_SECONDS}
curve_secret_key_file = {cluster.keys}/worker
curve_allowed_clients_file = {cluster.keys}/allowed-clients
heartbeat_interval_ms = {HEARTBEAT_MS}
heartbeat_timeout_ms = {HEARTBEAT_TIMEOUT_MS}
""")
        self.proc = None

    def start(self):
        log = open(self.log_path, "a")
        # credentials from the environment, as a systemd EnvironmentFile gives them
        env = dict(os.environ, ENCONVERT_S3_ACCESS_KEY_ID=ACCESS_KEY_ID,
                   ENCONVERT_S3_SECRET_ACCESS_KEY=SECRET_ACCESS_KEY)
        self.proc = subprocess.Popen([WORKER_BIN, "serve", "--config", self.conf],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        log.close()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.n} exited:\n{self.log_tail()}")
            if '"msg":"ready"' in self.log():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.n} not ready:\n{self.log_tail()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)   # a stopped one too
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self, sig=signal.SIGKILL):
        os.kill(self.proc.pid, sig)
        if sig == signal.SIGKILL:
            self.proc.wait(10)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, n=40):
        return "".join(self.log().splitlines(keepends=True)[-n:])


class NginxHost:
    """One nginx with the module, its own prefix, on IP:PORT, talking to
    every worker over tcp:// with CURVE (its own client key)."""

    def __init__(self, cluster, n, ip, client_key):
        self.n = n
        self.ip = ip
        self.prefix = os.path.join(cluster.root, f"nginx-{n}")
        os.makedirs(self.prefix, exist_ok=True)
        self.port = free_port(ip)
        self.url = f"http://{ip}:{self.port}"
        self.error_log = os.path.join(self.prefix, "error.log")
        self.conf = os.path.join(self.prefix, "nginx.conf")
        user = "user root;" if os.geteuid() == 0 else ""
        temp = "".join(f"    {d}_temp_path {self.prefix}/{d}_temp;\n"
                       for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        backends = " ".join(w.endpoint for w in cluster.workers)
        with open(self.conf, "w") as f:
            f.write(f"""load_module {MODULE};
{user}
worker_processes 1;
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.error_log} info;
events {{ worker_connections 256; }}
http {{
    access_log off;
{temp}
    enconvert_backend {backends};
    enconvert_curve_server_key '{cluster.worker_public_key}';
    enconvert_curve_client_key_file {client_key};
    enconvert_heartbeat_interval {HEARTBEAT_MS}ms;
    enconvert_heartbeat_timeout {HEARTBEAT_TIMEOUT_MS}ms;
    enconvert_signing_secret_file {cluster.secret};
    enconvert_timeout 30s;
    enconvert_sync_timeout 60s;

    server {{
        listen {ip}:{self.port};
        server_name localhost;
        location /v1/ {{
            enconvert_api;
            client_max_body_size 2m;
        }}
    }}
}}
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([NGINX, "-p", self.prefix, "-c", self.conf,
                                      "-e", self.error_log],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection((self.ip, self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"nginx {self.n} did not start: "
                                       f"{self.proc.stderr.read()!r}\n{self.log()}")
                time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        try:
            with open(self.error_log, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def connected_to(self, worker):
        return f'connected to backend "{worker.endpoint}"' in self.log()

    def call(self, method, path, body=None, key=None, headers=None, timeout=120):
        hdrs = dict(headers or {})
        if key:
            hdrs["Authorization"] = f"Bearer {key}"
        return request(self.url, method, path, body, hdrs, timeout=timeout)


class Cluster:
    """The whole set-up under `root`, results in `bucket` at `s3_endpoint`:
    start(), stop(), and the pieces."""

    def __init__(self, root, s3_endpoint, bucket):
        self.root = root
        self.s3_endpoint = s3_endpoint
        self.bucket = bucket
        self.db_home = os.path.join(root, "db")
        self.keys = os.path.join(root, "keys")
        self.secret = os.path.join(root, "secret")
        for d in (self.db_home, self.keys):
            os.makedirs(d, exist_ok=True)
        self.env = dict(os.environ, ENCONVERT_HOME=self.db_home, ENCONVERT_BUILD=BUILD)
        self.workers = []
        self.nginx = []
        self.key = None

    def script(self, *args):
        return subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), *args],
                              env=self.env, capture_output=True, text=True,
                              timeout=300, check=True)

    @property
    def database_url(self):
        with open(os.path.join(self.db_home, "pg.port")) as f:
            port = f.read().strip()
        return (f"host={self.db_home}/run/pg port={port} dbname=enconvert "
                f"user={pg_user()}")

    def start(self):
        self.script("db")                   # PostgreSQL and migrations only
        write_secret_file(self.secret, secrets.token_hex(32))
        # The workers share one server keypair; each nginx host has its own.
        self.worker_public_key = curve_keygen(os.path.join(self.keys, "worker"))
        clients = [curve_keygen(os.path.join(self.keys, f"nginx-{n}")) for n in (1, 2)]
        with open(os.path.join(self.keys, "allowed-clients"), "w") as f:
            f.write("# the nginx hosts allowed to use these workers\n")
            f.write("".join(k + "\n" for k in clients))
        self.workers = [WorkerHost(self, 1, "127.0.0.2"), WorkerHost(self, 2, "127.0.0.3")]
        self.nginx = [NginxHost(self, 1, "127.0.0.4", os.path.join(self.keys, "nginx-1")),
                      NginxHost(self, 2, "127.0.0.5", os.path.join(self.keys, "nginx-2"))]
        for w in self.workers:
            w.start()
        for w in self.workers:
            w.wait_ready()
        for ngx in self.nginx:
            ngx.start()
        self.wait_connected()
        self.key = self.script("key", "multihost").stdout.strip().splitlines()[-1]

    def wait_connected(self, timeout=20):
        """Every nginx has a live CURVE connection to every worker."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(n.connected_to(w) for n in self.nginx for w in self.workers):
                return
            time.sleep(0.1)
        raise RuntimeError("nginx did not connect to every worker:\n"
                           + "\n".join(n.log() for n in self.nginx))

    def restart_worker(self, worker):
        worker.stop()
        marks = [n.log().count(f'connected to backend "{worker.endpoint}"')
                 for n in self.nginx]
        worker.start()
        worker.wait_ready()
        deadline = time.time() + 20
        while time.time() < deadline:
            if all(n.log().count(f'connected to backend "{worker.endpoint}"') > m
                   for n, m in zip(self.nginx, marks)):
                return
            time.sleep(0.1)
        raise RuntimeError(f"nginx did not reconnect to worker {worker.n}")

    def stop(self):
        for ngx in self.nginx:
            ngx.stop()
        for w in self.workers:
            w.stop()
        subprocess.run([os.path.join(REPO, "scripts", "stack.sh"), "stop"],
                       env=self.env, capture_output=True, text=True, timeout=120)

    def logs(self):
        return "\n".join([f"--- worker {w.n}\n{w.log_tail()}" for w in self.workers]
                         + [f"--- nginx {n.n}\n{n.log()[-4000:]}" for n in self.nginx])


def zmq_health(endpoint, server_public, client_keys=None, wait_ms=2000):
    """Sends a health request from a DEALER of our own (CURVE with
    `client_keys` (public, secret), or plain without); True if answered."""
    import msgpack
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.linger = 0
    try:
        if client_keys:
            s.curve_serverkey = server_public.encode()
            s.curve_publickey, s.curve_secretkey = client_keys
        s.connect(endpoint)
        s.send(msgpack.packb({"v": 1, "id": 1, "op": "health"}))
        return s.poll(wait_ms) != 0
    finally:
        s.close()
        ctx.term()
