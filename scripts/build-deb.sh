#!/usr/bin/env bash
# Builds the Debian packages (libnginx-mod-http-enconvert, enconvert-worker)
# with dpkg-buildpackage from a copy of the working tree, then checks them
# with lintian (errors fail the build). Output: build/deb/*.deb.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/build/deb
version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
src=$out/enconvert-$version

rm -rf "$out"
mkdir -p "$src"
# What git tracks, plus new files not yet committed (never build/ or var/).
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$repo" && xargs -0 cp --parents -t "$src" 2>/dev/null || true)
rm -rf "$src/build" "$src/var"

(cd "$src" && dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$out/build.log" 2>&1) || {
    tail -n 40 "$out/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed, see $out/build.log" >&2
    exit 1
}
lintian --fail-on error --suppress-tags-from-file /dev/null "$out"/*.changes |
    tee "$out/lintian.log"
ls "$out"/*.deb
