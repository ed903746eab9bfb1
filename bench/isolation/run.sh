#!/usr/bin/env bash
# Cost of per-job isolation in WebKitGTK (docs/decisions.md 13): one reused
# view cleared between jobs vs a new ephemeral view per job, same page, same
# run. Needs the renderer's packages (make deps) and Xvfb.
#   bench/isolation/run.sh [JOBS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
cc -O2 -o "$work/view_cost" "$here/view_cost.c" $(pkg-config --cflags --libs webkit2gtk-4.1)
printf '<!doctype html><title>t</title><h1>Isolation cost</h1><p>%s</p>' "$(seq 1 200)" \
    >"$work/page.html"
python3 -m http.server 0 --bind 127.0.0.1 --directory "$work" >"$work/http.log" 2>&1 &
for _ in $(seq 50); do
    port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/http.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
Xvfb -displayfd 3 -nolisten tcp 3>"$work/display" >/dev/null 2>&1 &
for _ in $(seq 50); do [ -s "$work/display" ] && break; sleep 0.1; done
export DISPLAY=:$(cat "$work/display") WEBKIT_DISABLE_COMPOSITING_MODE=1 WEBKIT_DISABLE_DMABUF_RENDERER=1
url="http://127.0.0.1:$port/page.html"
"$work/view_cost" "$url" reuse "${1:-20}"
"$work/view_cost" "$url" fresh "${1:-20}"
