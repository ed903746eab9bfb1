#!/usr/bin/env bash
# Regenerates block_ads's content rule list (make ad-rules):
# worker/src/render_child/ad_rules.json from the EasyList that Debian's
# webext-ublock-origin-firefox package ships, and ad_rules.README (where it
# came from, its licence). The package is only downloaded and unpacked in a
# temporary directory, never installed. docs/rendering.md, "block_ads".
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
package=webext-ublock-origin-firefox
out=$repo/worker/src/render_child/ad_rules.json
readme=$repo/worker/src/render_child/ad_rules.README
tmp=$(mktemp -d)
chmod 755 "$tmp"  # apt downloads as _apt
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && apt-get download -q "$package" >/dev/null)
deb=$(ls "$tmp"/*.deb)
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -x "$deb" "$tmp/x"
list=$(find "$tmp/x" -path '*/thirdparties/easylist/easylist.txt' | head -n 1)
[ -n "$list" ] || { echo "ad-rules: no easylist.txt in $package $version" >&2; exit 1; }

/usr/bin/python3 "$repo/tools/easylist_to_webkit.py" "$list" -o "$out" 2>"$tmp/stats"
cat >"$readme" <<README
ad_rules.json: the content rule list of block_ads (docs/rendering.md).

Made by tools/easylist_to_webkit.py (make ad-rules) from EasyList's
easylist.txt as Debian ships it in $package $version
(sha256 $(sha256sum "$list" | cut -d' ' -f1)).

EasyList: https://easylist.to/, (C) The EasyList authors, licensed under
GPL-3+ or CC-BY-SA-3.0+ (debian/copyright); this conversion is under the
same terms.

Converter statistics:
$(sed 's/^/  /' "$tmp/stats")
README
echo "ad-rules: $out from $package $version"
cat "$tmp/stats"
