#!/usr/bin/env bash
# Host tuning for rendering (docs/operations.md, "Tuning a rendering host"):
# transparent huge pages for shared memory, so that the WebKit web
# processes' paint buffers (memfd shared memory, 8 MiB per 1920x1080
# update) are faulted in 2 MiB at a time instead of 4 KiB.
#
#   tune-host.sh check   print the setting, exit 1 if not tuned
#   tune-host.sh apply   set within_size (root), until the next boot
#
# It changes a host-wide kernel setting, so nothing runs it implicitly
# (not make run, not the packages). ENCONVERT_SHMEM_THP_FILE overrides the
# sysfs file (tests).
set -euo pipefail

file=${ENCONVERT_SHMEM_THP_FILE:-/sys/kernel/mm/transparent_hugepage/shmem_enabled}
wanted=within_size

current() {
    # The file lists every value with the active one in brackets.
    sed -n 's/.*\[\([a-z_]*\)\].*/\1/p' "$file"
}

readable_file() {
    # -f as well as -r: as root, -r is true of a directory too.
    [ -f "$file" ] && [ -r "$file" ] || {
        echo "tune-host: $file not readable (no THP in this kernel?)" >&2
        exit 2
    }
}

case "${1:-}" in
check)
    readable_file
    now=$(current)
    echo "shmem_enabled: ${now:-unknown}"
    case "$now" in
    within_size | always | force) exit 0 ;;
    *) echo "tune-host: not tuned; run 'sudo scripts/tune-host.sh apply'" >&2; exit 1 ;;
    esac
    ;;
apply)
    readable_file
    grep -qw "$wanted" "$file" || { echo "tune-host: this kernel offers no '$wanted' in $file" >&2; exit 2; }
    before=$(current)
    if ! echo "$wanted" 2>/dev/null >"$file"; then
        echo "tune-host: cannot write $file (run as root)" >&2
        exit 2
    fi
    echo "shmem_enabled: $before -> $(current)"
    ;;
*)
    echo "usage: tune-host.sh check|apply" >&2
    exit 2
    ;;
esac
