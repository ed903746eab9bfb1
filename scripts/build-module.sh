#!/usr/bin/env bash
# Build the enconvert nginx dynamic module against the installed nginx-dev
# sources with Debian's configure flags, so the result loads into
# /usr/sbin/nginx via load_module.
#
# Output: $ENCONVERT_BUILD/nginx/ngx_http_enconvert_module.so (ENCONVERT_BUILD:
# the CMake build directory, default build/)
# Re-runnable: configure runs again only when the flags or ngx_module/config
# change; make rebuilds only changed sources.

set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NGX_SRC="${NGX_SRC:-/usr/share/nginx/src}"
BUILD_DIR="${ENCONVERT_BUILD:-$REPO/build}"
SRC_COPY="$BUILD_DIR/nginx-src"
OUT_DIR="$BUILD_DIR/nginx"
MODULE_DIR="$REPO/ngx_module"
SO=ngx_http_enconvert_module.so

# nginx's configure splits the module's path on white space.
case "$MODULE_DIR$BUILD_DIR" in
*[[:space:]]*)
    echo "build-module: $MODULE_DIR or $BUILD_DIR has white space in it, which" \
         "nginx's configure cannot take: clone to a path without" >&2
    exit 1 ;;
esac

if [ ! -x "$NGX_SRC/configure" ] || [ ! -f "$NGX_SRC/conf_flags" ]; then
    echo "build-module: $NGX_SRC/configure or conf_flags missing" \
         "(install nginx-dev)" >&2
    exit 1
fi

# shellcheck disable=SC1091
. "$NGX_SRC/conf_flags"        # defines the NGX_CONF_FLAGS array

# Debian's own compiler and linker options (not part of conf_flags).
CC_OPT="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
CC_OPT="$CC_OPT -fPIC -Wdate-time -D_FORTIFY_SOURCE=2"
LD_OPT="-Wl,-z,relro -Wl,-z,now -fPIC"
# make sanitize adds its instrumentation here (CMakeLists.txt).
CC_OPT="$CC_OPT${ENCONVERT_MODULE_CC_OPT:+ $ENCONVERT_MODULE_CC_OPT}"
LD_OPT="$LD_OPT${ENCONVERT_MODULE_LD_OPT:+ $ENCONVERT_MODULE_LD_OPT}"

ARGS=("${NGX_CONF_FLAGS[@]}" "--with-cc-opt=$CC_OPT" "--with-ld-opt=$LD_OPT"
      "--add-dynamic-module=$MODULE_DIR")

mkdir -p "$BUILD_DIR" "$OUT_DIR"

if [ ! -x "$SRC_COPY/configure" ]; then
    rm -rf "$SRC_COPY.tmp"
    cp -a "$NGX_SRC" "$SRC_COPY.tmp"
    mv "$SRC_COPY.tmp" "$SRC_COPY"
fi

STAMP_WANT="$( { printf '%s\n' "${ARGS[@]}"; cat "$MODULE_DIR/config"; } \
               | sha256sum | cut -d' ' -f1)"
STAMP_FILE="$SRC_COPY/.enconvert-configure-stamp"

cd "$SRC_COPY"

if [ ! -f objs/Makefile ] || [ ! -f "$STAMP_FILE" ] \
   || [ "$(cat "$STAMP_FILE")" != "$STAMP_WANT" ]
then
    echo "build-module: configuring nginx in $SRC_COPY"
    ./configure "${ARGS[@]}" > "$SRC_COPY/configure.log" 2>&1 || {
        tail -n 30 "$SRC_COPY/configure.log" >&2
        exit 1
    }
    echo "$STAMP_WANT" > "$STAMP_FILE"
fi

make -f objs/Makefile modules -j"$(nproc 2>/dev/null || echo 2)"

if ! cmp -s "objs/$SO" "$OUT_DIR/$SO"; then
    cp "objs/$SO" "$OUT_DIR/$SO.tmp"
    mv "$OUT_DIR/$SO.tmp" "$OUT_DIR/$SO"
fi

echo "build-module: $OUT_DIR/$SO" >&2
