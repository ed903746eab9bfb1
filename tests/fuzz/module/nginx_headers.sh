#!/usr/bin/env bash
# Configures a copy of the nginx-dev sources in $1 with Debian's configure
# flags (as scripts/build-module.sh does), for its objs/ headers only: the
# module fuzz targets compile against them. Re-runs only when missing.
set -euo pipefail

OUT="$1"
NGX_SRC="${NGX_SRC:-/usr/share/nginx/src}"

[ -f "$OUT/objs/ngx_auto_config.h" ] && exit 0

# shellcheck disable=SC1091
. "$NGX_SRC/conf_flags"        # defines the NGX_CONF_FLAGS array

rm -rf "$OUT"
cp -a "$NGX_SRC" "$OUT"
cd "$OUT"
./configure "${NGX_CONF_FLAGS[@]}" > configure.log 2>&1 || {
    tail -n 30 configure.log >&2
    exit 1
}
