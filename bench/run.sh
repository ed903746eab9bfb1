#!/usr/bin/env bash
# Runs the enconvert benchmarks: all of them, or those named.
#
#   bench/run.sh                  render, render-sweep, accept, status, sync,
#                                 fidelity, website
#   bench/run.sh render|render-sweep|accept|status|sync|fidelity|website ...
#
# Each bench starts its own stack (scripts/stack.sh) in a temp dir from a copy
# of build/ (run `make build` first), runs ours and the peer in the same run
# and prints ours, peer, ratio, target and pass/fail (fidelity: ours vs
# Chromium's print of real documentation pages, no targets). JSON results go to
# $BENCH_RESULTS (default var/bench/). Each bench's tables then replace its
# section of docs/benchmarks.md, "Latest results"; the sections of benches
# not run stay (bench/report.py). BENCH_WRITE_DOCS=0 (scratch runs) leaves
# the file and the kept summaries alone.
#
# Settings (environment):
#   BENCH_PAGES (40)  BENCH_CONCURRENCY (4)  BENCH_RENDER_ROUNDS (3)   render
#   BENCH_RENDERERS (2) BENCH_VIEWS (2)      our render pool in render
#   BENCH_PAGE_SET (fixtures)                render: fixtures or docs (30
#                                            pages of the PostgreSQL manual)
#   BENCH_SWEEP (1,2,4,8,16)                 pages in flight, render-sweep
#                                            (BENCH_PAGES per level; our pool
#                                            1x1, 1x2, 2x2, 2x4, 4x4)
#   BENCH_SWEEP_SETS (fixtures,docs)         page sets of render-sweep
#   BENCH_CONNECTIONS (64) BENCH_DURATION (10 s) BENCH_ROUNDS (3)       accept, status
#   BENCH_SYNC_REQUESTS (24)                                             sync
#   BENCH_SITE_PAGES (50) BENCH_SITE_ROUNDS (3)                          website
#   (fidelity has no settings: 28 fixed documentation pages, bench/fidelity.py)
#   BENCH_KEEP=1   keep the stacks' temp dirs (logs)
#   BENCH_PERF=1   render: perf profile of our first timed round
#                  ($BENCH_RESULTS/render-perf.txt)
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$bench")

"$bench/deps.sh"

# playwright-core (the Chromium peer's driver) from bench/package-lock.json.
lock_sum=$(sha256sum "$bench/package-lock.json" | cut -d' ' -f1)
if [ "$(cat "$bench/node_modules/.bench-lock-sum" 2>/dev/null)" != "$lock_sum" ]; then
    (cd "$bench" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$bench/node_modules/.bench-lock-sum"
fi

build=${ENCONVERT_BUILD:-$repo/build}
for f in worker/enconvert-worker worker/src/render_child/enconvert-render \
    nginx/ngx_http_enconvert_module.so; do
    [ -e "$build/$f" ] || { echo "bench: $build/$f is missing: run make build" >&2; exit 1; }
done

echo "bench: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec /usr/bin/python3 "$bench/main.py" "$@"
