"""Writes the benches' latest tables into docs/benchmarks.md.

bench/main.py keeps every bench's tables (lib.print_table) with the machine,
the command, the commit and the time in $BENCH_RESULTS/summary/<bench>.json;
write_docs() puts the latest of each bench between the markers below in
docs/benchmarks.md, a missed target with by how much and a link to the
section that says what stands in the way. The text outside the markers is
the team's analysis and is left alone. A run rewrites only the sections of
the benches it ran; `bench/report.py` alone rewrites the block from every
summary there. BENCH_WRITE_DOCS=0 runs record no summary.
"""

import glob
import json
import os
import platform
import re
import subprocess
import sys
import time

import lib

DOCS = os.path.join(lib.REPO, "docs", "benchmarks.md")
BEGIN = "<!-- bench/report.py: begin (written by make bench; edit outside) -->"
END = "<!-- bench/report.py: end -->"
ORDER = ["render", "render-sweep", "accept", "status", "sync", "fidelity", "website"]
# Where docs/benchmarks.md analyses each bench's misses.
ANALYSIS = {
    "render": "#where-our-cpu-goes-per-page-perf",
    "render-sweep": "#where-our-cpu-goes-per-page-perf",
    "accept": "#accepting-jobs",
    "status": "#status-polling",
    "sync": "#sync-overhead",
}
SETTINGS = ("BENCH_", "ENCONVERT_WORKER_EXTRA")
# A bench's section starts with this heading (bench_markdown writes it,
# sections() finds it).
HEADING = re.compile(r"### `([a-z-]+)`: ")


def summary_dir():
    return os.path.join(lib.RESULTS, "summary")


def _first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "?"


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = "?"
    return {"cpu": model, "cpus": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
            "os": f"Debian {debian}, Linux {platform.release()}",
            "nginx": _first_line(["nginx", "-v"]),
            "postgresql": _first_line([postgres_binary("postgres"), "--version"]),
            "chromium": _first_line(["/usr/bin/chromium", "--version"]),
            "shmem_thp": shmem_thp()}


def shmem_thp():
    """The host's huge-page setting for shared memory (scripts/tune-host.sh):
    it moves our CPU per page by a sixth, so results must say it."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/shmem_enabled") as f:
            found = re.search(r"\[(\w+)\]", f.read())
        return found.group(1) if found else "?"
    except OSError:
        return "?"


def postgres_binary(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else name


def command(name):
    env = " ".join(f"{k}={v!r}" if any(c in v for c in " \n'$") else f"{k}={v}"
                   for k, v in sorted(os.environ.items()) if k.startswith(SETTINGS))
    return (env + " " if env else "") + f"bench/run.sh {name}"


def record(name, tables, states):
    """Keeps one bench's tables for write_docs()."""
    os.makedirs(summary_dir(), exist_ok=True)
    data = {"bench": name, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "commit": lib.git_describe(), "command": command(name), "machine": machine(),
            "states": states, "tables": tables}
    with open(os.path.join(summary_dir(), f"{name}.json"), "w") as f:
        json.dump(data, f, indent=2)


def cell(v):
    return str(v).replace("|", "\\|").replace("\n", " ")


def bench_markdown(s):
    out = []
    states = "; ".join(f"{st['label']}: load {st['loadavg'][0]:.2f}, background CPU "
                       f"{st['background_busy'] * 100:.0f} %" for st in s["states"])
    heading = f"### `{s['bench']}`: "
    assert HEADING.match(heading)
    out.append(f"{heading}{s['date']}, commit {s['commit']}\n")
    out.append(f"Command: `{s['command']}`. Machine state: {states or '-'}.\n")
    missed = []
    for t in s["tables"]:
        out.append(f"**{cell(t['title'])}**\n")
        out.append("| metric | ours | peer | ratio | target | result |")
        out.append("|---|---|---|---|---|---|")
        for r in t["rows"]:
            out.append("| " + " | ".join(cell(x) for x in (
                r["metric"].strip(), r.get("ours", "-"), r.get("peer", "-"),
                r.get("ratio", "-"), r.get("target", "-"), lib.result_text(r))) + " |")
            if r.get("ok") is False and r.get("target"):
                missed.append(f"{r['metric'].strip()}: {r.get('missed_by') or 'missed'}")
        out.append("")
    if missed:
        where = ANALYSIS.get(s["bench"])
        out.append("Missed: " + "; ".join(missed) + "." +
                   (f" What stands in the way: [analysis below]({where})." if where else ""))
        out.append("")
    return "\n".join(out)


def machine_text(m):
    return (f"{m['cpus']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}; "
            f"{m['nginx']}; {m['postgresql']}; {m['chromium']}"
            + (f"; shared-memory huge pages: {m['shmem_thp']}" if m.get("shmem_thp") else ""))


def block(found, kept=None, kept_machine=None):
    """Every bench in ORDER: from its summary in `found`, else its section in
    `kept` (text of an earlier block whose first line named `kept_machine`)."""
    kept = kept or {}
    if not found and not kept:
        return "No bench has run yet.\n"
    runs = sorted(found.values(), key=lambda s: s["date"])
    latest = machine_text(runs[-1]["machine"]) if runs else kept_machine or machine_text(machine())
    out = [f"Machine: {latest}.\n"]
    for name in ORDER:
        if name in found:
            md = bench_markdown(found[name])
            here = machine_text(found[name]["machine"])
        elif name in kept:
            md = kept[name].rstrip("\n") + "\n"
            here = kept_machine or latest
        else:
            continue
        if here != latest and "Machine:" not in md:
            md = md.replace("Command:", f"Machine: {here}. Command:", 1)
        out.append(md)
    return "\n".join(out)


def sections(block_text):
    """The block's sections by bench name, as written by bench_markdown."""
    out, name, lines = {}, None, []
    for line in block_text.splitlines(keepends=True):
        m = HEADING.match(line)
        if m:
            if name:
                out[name] = "".join(lines)
            name, lines = m.group(1), []
        if name:
            lines.append(line)
    if name:
        out[name] = "".join(lines)
    return out


def write_docs(path=DOCS, only=None):
    """Rewrites the block. With `only`, just those benches' sections come from
    their summaries; the others stay as the block has them (a machine
    without the other summaries, or a run of one bench, keeps them)."""
    found = {}
    for f in glob.glob(os.path.join(summary_dir(), "*.json")):
        with open(f) as fh:
            s = json.load(fh)
        if only is None or s["bench"] in only:
            found[s["bench"]] = s
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise RuntimeError(f"{path}: the markers of bench/report.py are missing")
    pre, rest = text.split(BEGIN, 1)
    old, post = rest.split(END, 1)
    kept, kept_machine = {}, None
    if only is not None:
        kept = sections(old)
        m = re.match(r"\s*Machine: (.*)\.\n", old)
        kept_machine = m.group(1) if m else None
    with open(path + ".tmp", "w") as f:
        f.write(pre + BEGIN + "\n" + block(found, kept, kept_machine) + END + post)
    os.replace(path + ".tmp", path)
    lib.log(f"latest results written into {path}")


if __name__ == "__main__":
    write_docs(sys.argv[1] if len(sys.argv) > 1 else DOCS)
