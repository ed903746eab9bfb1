#!/usr/bin/env bash
# Debian packages the benchmarks need on top of scripts/deps.sh (which
# `make build` runs). Fast when everything is present: asks dpkg only.
set -euo pipefail

packages=(
    wrk        # HTTP load generator for accept/status (Lua scripts for bodies)
    chromium   # the peer renderer, driven by playwright-core (bench/package.json)
    nodejs     # runs the Playwright peer (this machine's nodejs package ships npm)
    python3    # bench drivers (reuse tests/e2e/stack.py)
    poppler-utils      # pdfinfo, pdftotext, pdffonts (fidelity, render)
    qpdf               # link annotations (fidelity)
    postgresql-doc-15  # fidelity: the PostgreSQL manual (DocBook HTML)
    python3.11-doc     # fidelity: the Python documentation (Sphinx HTML)
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# Debian's own npm package conflicts with a nodejs that bundles npm: only ask
# for it when npm is absent.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "bench deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
