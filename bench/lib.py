"""Shared pieces of the enconvert benchmarks (bench/run.sh).

Every bench starts its own stack (scripts/stack.sh through tests/e2e/stack.py)
in a temp dir, runs ours and the peer side by side in the same run, prints a
table (ours, peer, ratio, target, pass/fail) and writes the numbers as JSON.
Load generators only talk to 127.0.0.1; every loop is bounded in count and
time.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

import stack as e2e  # noqa: E402  (tests/e2e/stack.py)

PAGES_DIR = os.path.join(REPO, "tests", "fixtures", "pages")
# The fixture pages that render (crash.html exhausts memory on purpose).
PAGES = ["basic.html", "cjk_emoji.html", "images.html", "js_content.html",
         "links.html", "long.html", "print_media.html", "webfont.html"]
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(REPO, "var", "bench"))


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def env_int(name, default):
    v = os.environ.get(name)
    return int(v) if v else default


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def _cpu_stat():
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    return sum(parts), parts[3] + parts[4]


def background_busy(seconds=2.0):
    """Share of all CPUs busy over `seconds` while the bench itself is idle:
    what other work on the machine (builds, tests) takes at that moment."""
    t0, i0 = _cpu_stat()
    time.sleep(seconds)
    t1, i1 = _cpu_stat()
    return 1.0 - (i1 - i0) / max(t1 - t0, 1)


# Every machine_state() of the current bench (bench/main.py keeps them).
STATES = []


def machine_state(label):
    la = loadavg()
    busy = background_busy()
    log(f"{label}: load {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}, "
        f"background CPU busy {busy * 100:.0f}%")
    state = {"label": label, "loadavg": la, "background_busy": round(busy, 3)}
    STATES.append(state)
    return state


# ---------------------------------------------------------------------------
# Binaries: a snapshot of build/ so that a rebuild by someone else in the same
# tree during the run cannot swap binaries under a running bench.

_snapshot = None


def build_snapshot():
    """Copies the worker, renderer and module to a temp build dir. The worker
    is wrapped so that `serve` gets $BENCH_WORKER_ARGS (command-line options
    override the config file: the stack's worker.conf already names
    `renderers` and `views_per_renderer`, and the config parser refuses a
    second occurrence, so ENCONVERT_WORKER_EXTRA cannot change them)."""
    global _snapshot
    if _snapshot:
        return _snapshot
    src = e2e.BUILD
    files = {
        "worker/enconvert-worker": "worker/enconvert-worker.real",
        "worker/src/render_child/enconvert-render": "worker/src/render_child/enconvert-render",
        "nginx/ngx_http_enconvert_module.so": "nginx/ngx_http_enconvert_module.so",
    }
    dst = tempfile.mkdtemp(prefix="enconvert-bench-build.")
    for s, d in files.items():
        sp = os.path.join(src, s)
        if not os.path.exists(sp):
            raise SystemExit(f"bench: {sp} is missing: run `make build` first")
        os.makedirs(os.path.dirname(os.path.join(dst, d)), exist_ok=True)
        shutil.copy2(sp, os.path.join(dst, d))
    # What the renderer finds beside its binary: its fontconfig file, the
    # block_ads list and the web extension (request headers, credentials).
    # Without them the benched renders used the system's fonts and sent no
    # page headers: another renderer than the one users get.
    render_dir = "worker/src/render_child"
    for name in ("fonts.conf", "ad_rules.json", "web-extension"):
        sp = os.path.join(src, render_dir, name)
        if not os.path.exists(sp):
            raise SystemExit(f"bench: {sp} is missing: run `make build` first")
        if os.path.isdir(sp):
            shutil.copytree(sp, os.path.join(dst, render_dir, name))
        else:
            shutil.copy2(sp, os.path.join(dst, render_dir, name))
    wrapper = os.path.join(dst, "worker", "enconvert-worker")
    with open(wrapper, "w") as f:
        f.write('#!/bin/sh\n'
                'real="$(dirname "$0")/enconvert-worker.real"\n'
                'if [ "$1" = serve ]; then shift; '
                '# shellcheck disable=SC2086\n'
                'exec "$real" serve "$@" ${BENCH_WORKER_ARGS:-}; fi\n'
                'exec "$real" "$@"\n')
    os.chmod(wrapper, 0o755)
    # The scripts, templates and migrations too: others edit them in the
    # same tree, and bash reads a script as it runs.
    for d in ("scripts", "conf", "schema"):
        shutil.copytree(os.path.join(REPO, d), os.path.join(dst, "repo", d), symlinks=True)
    atexit.register(shutil.rmtree, dst, True)
    _snapshot = dst
    return dst


def git_describe():
    try:
        head = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--",
                                "worker", "ngx_module", "schema", "conf", "scripts"],
                               capture_output=True, text=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except OSError:
        return "?"


class BenchStack(e2e.Stack):
    """A stack in its own temp dir on a free port, from the binary snapshot.
    renderers × views sets the render pool (worker command-line overrides)."""

    def __init__(self, renderers=1, views=2, extra_env=None):
        self.tmp = tempfile.mkdtemp(prefix="enconvert-bench.")
        env = {"ENCONVERT_BUILD": build_snapshot(),
               "BENCH_WORKER_ARGS": f"--renderers {renderers} --views_per_renderer {views}"}
        env.update(extra_env or {})
        super().__init__(os.path.join(self.tmp, "home"), extra_env=env)
        # Stack.__init__ sets ENCONVERT_BUILD from the environment first.
        self.env["ENCONVERT_BUILD"] = env["ENCONVERT_BUILD"]
        self.renderers, self.views = renderers, views

    def __enter__(self):
        log(f"starting stack in {self.home} on :{self.port} "
            f"({self.renderers} renderer(s) x {self.views} view(s))")
        try:
            self.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        if os.environ.get("BENCH_KEEP"):
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return False

    def worker_log(self):
        with open(os.path.join(self.home, "log", "worker-1.log"), errors="replace") as f:
            return f.read()

    def psql(self, sql):
        user = "postgres" if os.geteuid() == 0 else None
        with open(os.path.join(self.home, "pg.port")) as f:
            port = f.read().strip()
        cmd = ["psql", "-X", "-tA", "-h", os.path.join(self.home, "run", "pg"), "-p", port,
               "-d", "enconvert", "-v", "ON_ERROR_STOP=1", "-f", "-"]
        if user:
            cmd[1:1] = ["-U", user]
        # From stdin, not -c: each statement is its own transaction.
        return subprocess.run(cmd, input=sql, capture_output=True, text=True, check=True,
                              timeout=120).stdout.strip()

    def script(self, *args, check=True):
        return subprocess.run([os.path.join(build_snapshot(), "repo", "scripts", "stack.sh"),
                               *args], env=self.env, capture_output=True, text=True,
                              timeout=300, check=check)

    def roots(self):
        """pids at the top of our process trees: postmaster, worker, nginx."""
        out = {}
        for name, path in [("postgres", os.path.join(self.home, "pg", "postmaster.pid")),
                           ("worker", os.path.join(self.home, "run", "worker-1.pid")),
                           ("nginx", os.path.join(self.home, "run", "nginx.pid"))]:
            try:
                with open(path) as f:
                    out[name] = int(f.readline().strip())
            except (OSError, ValueError):
                pass
        return out

    def cpu_seconds(self):
        """CPU time (user+system) used so far by the live processes of each of
        our trees: postgres (postmaster + backends), worker (worker + Xvfb +
        renderers + WebKit), nginx (master + workers)."""
        hz = os.sysconf("SC_CLK_TCK")
        procs = _processes()
        return {name: sum((procs[p][11] + procs[p][12]) / hz for p in tree_pids(root, procs))
                for name, root in self.roots().items()}

    def cpu_ticks_by_pid(self):
        """pid -> (process name, CPU ticks so far) over our trees, for
        cpu_by_name."""
        procs = _processes()
        return {p: (_comm(p), procs[p][11] + procs[p][12])
                for root in self.roots().values() for p in tree_pids(root, procs)}

    def add_static_location(self):
        """The static peer: `location = /static202 { return 202 ...; }` in the
        stack's own nginx (same process, worker_processes, access log), put
        into the nginx.conf stack.sh generated, then a reload."""
        conf = os.path.join(self.home, "nginx", "nginx.conf")
        with open(conf) as f:
            text = f.read()
        marker = "        location /v1/ {"
        assert marker in text, "nginx.conf layout changed: no `location /v1/`"
        static = ("        location = /static202 {\n"
                  "            default_type application/json;\n"
                  "            return 202 '{\"success\":true}';\n"
                  "        }\n\n")
        with open(conf, "w") as f:
            f.write(text.replace(marker, static + marker, 1))
        args = ["/usr/sbin/nginx", "-p", os.path.join(self.home, "nginx"), "-c", conf,
                "-e", os.path.join(self.home, "log", "nginx-error.log")]
        subprocess.run(args + ["-t", "-q"], check=True, timeout=30)
        subprocess.run(args + ["-s", "reload"], check=True, timeout=30)
        for _ in range(100):
            if e2e.request(self.url, "POST", "/static202", body="{}").status == 202:
                # Let the old nginx workers finish exiting.
                time.sleep(1.0)
                return
            time.sleep(0.1)
        raise RuntimeError("nginx did not pick up the /static202 location")


def _processes():
    """pid -> the fields of /proc/pid/stat after the command name (index 1
    is the parent's pid, 11 and 12 user and system CPU ticks)."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        procs[int(d)] = [int(x) if x.lstrip("-").isdigit() else x
                         for x in st[st.rindex(")") + 2:].split()]
    return procs


def cpu_by_name(before, after):
    """CPU seconds per process name between two cpu_ticks_by_pid readings (a
    process started in between counts from zero; one that exited is lost)."""
    hz = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid, (name, ticks) in after.items():
        start = before.get(pid, (name, 0))[1]
        out[name] = out.get(name, 0.0) + (ticks - start) / hz
    return out


def tree_pids(root, procs=None):
    """`root` and every live descendant of it."""
    procs = procs if procs is not None else _processes()
    children = {}
    for pid, fields in procs.items():
        children.setdefault(fields[1], []).append(pid)
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        if p in procs:
            out.append(p)
            todo.extend(children.get(p, []))
    return out


def pss_kib(pid):
    """Proportional set size of one process (shared pages split among the
    processes that map them), 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class TreeMemory:
    """Samples the PSS of the process trees under `roots()` (a callable
    giving root pids) every `interval` seconds in a thread while the block
    runs; `peak_mib` is the largest total seen, `peak_by_name` the largest
    PSS per process name (comm) at that moment."""

    def __init__(self, roots, interval=0.25):
        self.roots, self.interval = roots, interval
        self.peak_mib, self.peak_by_name = 0.0, {}
        self._stop = threading.Event()

    def _sample(self):
        procs = _processes()
        by_name, total = {}, 0
        for root in self.roots():
            for p in tree_pids(root, procs):
                kib = pss_kib(p)
                total += kib
                name = _comm(p)
                by_name[name] = by_name.get(name, 0) + kib
        if total / 1024 > self.peak_mib:
            self.peak_mib = total / 1024
            self.peak_by_name = {k: v / 1024 for k, v in by_name.items()}

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return "?"

class Profile:
    """`perf record -a -g` of the whole machine while the block runs, the
    first time a bench enters it with `enabled`; the report (CPU samples by
    process and library, then by symbol) goes to $BENCH_RESULTS/<name>-perf.txt."""

    done = set()

    def __init__(self, enabled, name):
        self.name = name
        self.enabled = enabled and name not in Profile.done and shutil.which("perf")
        self.data = os.path.join(RESULTS, f"{name}.perf.data")

    def __enter__(self):
        if self.enabled:
            Profile.done.add(self.name)
            os.makedirs(RESULTS, exist_ok=True)
            self.proc = subprocess.Popen(["perf", "record", "-a", "-g", "-F", "499", "-q",
                                          "-o", self.data], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            time.sleep(0.5)  # perf maps every CPU before sampling
        return self

    def __exit__(self, *exc):
        if not self.enabled:
            return
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=120)
        out = os.path.join(RESULTS, f"{self.name}-perf.txt")
        with open(out, "w") as f:
            for sort, limit in (("comm,dso", "0.5"), ("comm,dso,symbol", "0.3")):
                f.write(f"### perf report --sort {sort} (samples of the whole machine)\n")
                f.flush()
                subprocess.run(["perf", "report", "-i", self.data, "--no-children",
                                "--sort", sort, "--stdio", "-g", "none",
                                "--percent-limit", limit], stdout=f,
                               stderr=subprocess.DEVNULL, timeout=600)
        log(f"perf profile in {out}")


def commit_latency_ms(st, n=200):
    """Mean wall time of one autocommit INSERT on the stack's PostgreSQL."""
    st.psql("CREATE TABLE IF NOT EXISTS bench_commit (x int)")
    script = "INSERT INTO bench_commit VALUES (1);\n" * n
    t0 = time.perf_counter()
    st.psql(script)
    t = time.perf_counter() - t0
    st.psql("DROP TABLE bench_commit")
    return t * 1000 / n


def wal_syncs(st):
    """WAL flushes to disk so far (pg_stat_wal.wal_sync: one per durable
    commit that wrote WAL, fewer when commits are grouped). Statistics are
    flushed by the backends within about a second."""
    return int(st.psql("SELECT wal_sync FROM pg_stat_wal"))


# ---------------------------------------------------------------------------
# Page server: the fixture pages plus the sub-resources they name, in its own
# process so that the bench driver's GIL does not slow it down.

class PageServer:
    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(BENCH, "pagesrv.py"), PAGES_DIR],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.isdigit():
            self.proc.kill()
            raise RuntimeError("page server did not start")
        self.url = f"http://127.0.0.1:{line}"

    def page_urls(self):
        return [f"{self.url}/{p}" for p in PAGES]

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class BlackHole:
    """A loopback port that completes the TCP handshake and never answers:
    a render of it hangs until its timeout, so jobs pointed at it park."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/parked"

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------------------
# wrk

WRK_LUA = os.path.join(BENCH, "wrk", "request.lua")


def wrk(url, method="GET", body=None, key=None, connections=64, duration=10,
        threads=2):
    env = dict(os.environ, BENCH_METHOD=method, BENCH_BODY=body or "",
               BENCH_KEY=key or "")
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
           "-s", WRK_LUA, url]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True,
                       timeout=duration + 60)
    for line in r.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            out = json.loads(line[len("BENCH_JSON "):])
            out["rate"] = out["requests"] / (out["duration_us"] / 1e6)
            return out
    raise RuntimeError(f"wrk failed: {r.stdout}\n{r.stderr}")


# ---------------------------------------------------------------------------
# Output

def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        if abs(v) >= 100:
            s = f"{v:,.0f}"
        elif abs(v) >= 10:
            s = f"{v:.1f}"
        else:
            s = f"{v:.2f}"
    else:
        s = str(v)
    return s + unit


def goal(value, op, target, unit=""):
    """The target fields of a table row: `target` (text), `ok` and, when
    missed, `missed_by` (the gap and the factor that is short), e.g.
    goal(1.14, ">=", 1.5, "x") misses by "0.36x (1.3x short)". Percent
    values are given as fractions with unit "%"."""
    scale = 100 if unit == "%" else 1
    text = f"{op} {target * scale:g}{unit}"
    if value is None:
        return {"target": text, "ok": False, "missed_by": "not measured"}
    ok = {">=": value >= target, ">": value > target,
          "<=": value <= target, "<": value < target}[op]
    row = {"target": text, "ok": ok}
    if not ok:
        gap = abs(value - target) * scale
        gap_text = f"{gap:.1f} points" if unit == "%" else f"{gap:.2g}{unit}"
        if op[0] == ">":
            factor = f" ({target / value:.1f}x short)" if value > 0 else ""
        else:
            factor = f" ({value / target:.1f}x over)" if target > 0 else ""
        row["missed_by"] = gap_text + factor
    return row


# Every table the current bench printed (bench/main.py keeps them for
# bench/report.py, which writes them into docs/benchmarks.md).
TABLES = []


def print_table(title, rows):
    """rows: dicts with metric, ours, peer, ratio, and for a target the
    fields of goal() (target, ok, missed_by)."""
    TABLES.append({"title": title, "rows": rows})
    head = ["metric", "ours", "peer", "ratio", "target", "result"]
    body = [[r["metric"], r.get("ours", "-"), r.get("peer", "-"), r.get("ratio", "-"),
             r.get("target", "-"), result_text(r)] for r in rows]
    widths = [max(len(str(x[i])) for x in [head] + body) for i in range(len(head))]
    line = "  ".join("{:<%d}" % w for w in widths)
    print(f"\n== {title}")
    print(line.format(*head))
    print(line.format(*["-" * w for w in widths]))
    for b in body:
        print(line.format(*[str(x) for x in b]))
    sys.stdout.flush()


def result_text(row):
    if row.get("ok") is None:
        return "-"
    if row["ok"]:
        return "PASS"
    return "FAIL" + (f" by {row['missed_by']}" if row.get("missed_by") else "")


def save(name, data):
    os.makedirs(RESULTS, exist_ok=True)
    data = dict(data, bench=name, date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                commit=git_describe(), nproc=os.cpu_count())
    path = os.path.join(RESULTS, f"{name}.json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
    log(f"results in {path}")


def median(xs):
    return statistics.median(xs) if xs else None


def percentile(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def run_threads(n, fn):
    """Runs fn(i) in n threads, returns their results in order."""
    out = [None] * n
    errs = []

    def body(i):
        try:
            out[i] = fn(i)
        except BaseException as e:  # reported after join
            errs.append(e)

    ts = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errs:
        raise errs[0]
    return out
