#!/usr/bin/env bash
# Installs the Debian 12 packages enconvert needs to build, run and test.
# Fast when everything is present: asks dpkg only, touches apt only if a
# package is missing.
set -euo pipefail

# --build: only what `make deb` needs (debian/control's Build-Depends and
# the packaging tools), for building the packages on a server: no test
# tools, no browsers, no second nginx next to the server's own.
build_only=0
[ "${1:-}" = "--build" ] && build_only=1

packages=(
    # build
    build-essential cmake pkg-config git
    # nginx and the module's libraries (`nginx`, not a flavour: any flavour
    # a machine already has provides it, so its server is left alone)
    nginx nginx-dev libzmq3-dev libmsgpack-dev libjansson-dev libssl-dev
    libidn2-dev
    # worker libraries
    cppzmq-dev nlohmann-json3-dev libpqxx-dev libpq-dev libcurl4-openssl-dev
    libboost-dev libboost-program-options-dev libwebkit2gtk-4.1-dev
    libgtest-dev libgmime-3.0-dev libxml2-dev zlib1g-dev
    libqpdf-dev libharfbuzz-dev libwebp-dev libjpeg-dev libpng-dev libsystemd-dev
    libpoppler-glib-dev libzip-dev libfontconfig-dev libpcre2-dev
    libxau-dev libxext-dev libxcb1-dev
    # runtime
    postgresql xvfb xauth fonts-liberation fonts-dejavu-core curl openssl
    ca-certificates fonts-noto-cjk fonts-noto-color-emoji
    # packaging (make deb)
    dpkg-dev debhelper lintian
    # tests
    poppler-utils qpdf python3 python3-pytest python3-zmq python3-msgpack
    python3-aiosmtpd python3-yaml python3-botocore
    # the Type 3 font tests draw from a CFF face (URW) and from a face with
    # no italic, which the engine slants itself (Noto Sans Mono)
    fonts-urw-base35 fonts-noto-mono
    # the print-fidelity tests compare page counts with Chromium's
    chromium
    python3-gi gir1.2-gdkpixbuf-2.0
    # make sanitize (GCC's libasan comes with build-essential), make fuzz
    # (clang's libFuzzer runtime), llvm-symbolizer for readable reports
    clang libclang-rt-14-dev llvm
)

missing=()
if [ "$build_only" -eq 1 ]; then
    control=$(cd "$(dirname "$0")/.." && pwd)/debian/control
    # Build-Depends: up to the next field; names without their versions.
    mapfile -t packages < <(awk '/^Build-Depends:/ {on = 1; sub(/^Build-Depends:/, "")}
        on && /^[A-Za-z-]+:/ && !/^Build-Depends:/ {on = 0}
        on {print}' "$control" | tr ',' '\n' | sed 's/(.*)//; s/^[[:space:]]*//; s/[[:space:]]*$//' |
        grep -v -e '^$' -e '^debhelper-compat$')
    packages+=(build-essential dpkg-dev debhelper lintian)
    # debian/rules loads the module into nginx: the server's own will do.
    [ -x /usr/sbin/nginx ] || packages+=(nginx)
fi

for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
# The S3 tests' store (tests/s3, installed by the tests with npm): any
# Node.js with npm will do, Debian's when there is none.
[ "$build_only" -eq 1 ] || command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
# sudo resets the environment: the settings go on the command itself. The
# lock timeout waits out a freshly booted machine's apt-daily run; a
# configuration file changed by hand is kept without asking.
apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
[ "$(id -u)" -eq 0 ] || apt=(sudo "${apt[@]}")
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "${missing[@]}"
# Debian starts nginx when it installs it; the project runs its own
# instances. Only that nginx, started by this install: an nginx that was
# already there (a server's, `make deb` on it) is none of our business,
# and it was there if `nginx` was not missing.
case " ${missing[*]} " in
    *" nginx "*)
        sudo_cmd=()
        [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
        if [ -d /run/systemd/system ]; then
            "${sudo_cmd[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
        fi
        if [ -e /run/nginx.pid ]; then
            "${sudo_cmd[@]}" /usr/sbin/nginx -s quit 2>/dev/null || true
        fi
        ;;
esac
