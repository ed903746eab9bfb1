#!/usr/bin/env bash
# Notification benchmark: 1,000 jobs become terminal in one transaction and
# the worker's notifier delivers their 1,000 webhooks to an HTTPS receiver on
# loopback (test CA). Prints total time, deliveries/s and the delivered count
# at the receiver and in the database; exits non-zero unless all arrived.
#
#   bench/notifications/run.sh
#
# Settings (environment): BENCH_NOTIFY_JOBS (1000), BENCH_NOTIFY_EXTRA (raw
# worker config lines, e.g. "notify_max_concurrent = 128"), BENCH_KEEP=1
# keeps the stack's temp dir (logs), ENCONVERT_BUILD (build/).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${ENCONVERT_BUILD:-$repo/build}
for f in worker/enconvert-worker nginx/ngx_http_enconvert_module.so; do
    [ -e "$build/$f" ] || { echo "bench: $build/$f is missing: run make build" >&2; exit 1; }
done
echo "bench: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
exec /usr/bin/python3 "$here/notify_bench.py"
