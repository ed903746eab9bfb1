"""Entry point of bench/run.sh: runs the named benches (all by default) and
prints a summary; each bench's tables also go into docs/benchmarks.md
(bench/report.py). Exit status 0 even when a target is missed (a benchmark
reports, it does not gate); 1 if a bench could not run."""

import os
import sys
import traceback

import lib
import report

NAMES = ["render", "render-sweep", "accept", "status", "sync", "fidelity", "website"]


def run(name):
    if name == "render":
        import render
        return render.bench_render()
    if name == "render-sweep":
        import render
        return render.bench_render_sweep()
    if name == "sync":
        import sync
        return sync.bench_sync()
    if name == "website":
        import website
        return website.bench_website()
    if name == "fidelity":
        import fidelity
        return fidelity.bench_fidelity()
    import http_load
    return {"accept": http_load.bench_accept, "status": http_load.bench_status}[name]()


def main(argv):
    names = argv or NAMES
    for n in names:
        if n not in NAMES:
            print(f"usage: bench/run.sh [{'|'.join(NAMES)}]...", file=sys.stderr)
            return 2
    lib.log(f"commit {lib.git_describe()}, {lib.os.cpu_count()} CPUs, binaries from {lib.e2e.BUILD}")
    # BENCH_WRITE_DOCS=0: a scratch run leaves docs/benchmarks.md and the
    # kept summaries alone (a later run would otherwise publish it).
    publish = os.environ.get("BENCH_WRITE_DOCS", "1") != "0"
    summary, broken, recorded = [], False, []
    for n in names:
        del lib.TABLES[:], lib.STATES[:]
        try:
            ok = run(n)
            summary.append((n, "all targets met" if ok else "target(s) missed"))
            if publish:
                report.record(n, lib.TABLES, lib.STATES)
                recorded.append(n)
        except Exception:
            traceback.print_exc()
            summary.append((n, "ERROR (bench could not run)"))
            broken = True
    if publish and recorded:
        report.write_docs(only=recorded)
    print("\n== summary")
    for n, s in summary:
        print(f"{n:<8} {s}")
    print(f"(JSON results in {lib.RESULTS})")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
