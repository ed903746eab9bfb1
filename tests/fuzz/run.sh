#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for a bounded time each
# (docs/fuzzing.md). Usage: run.sh BUILD_DIR SECONDS [TARGET...]
#
# Each target starts from its seeds (tests/fuzz/corpus/<target>, read only)
# and a working corpus in BUILD_DIR/fuzz-corpus/<target> that grows across
# runs. A crash, leak, hang or oracle failure leaves the input in
# BUILD_DIR/findings/; the run goes on with the other targets and fails at
# the end. The executions of each target are summed up in
# BUILD_DIR/fuzz-summary.txt.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$(cd "$1" && pwd)"
SECONDS_EACH="$2"
shift 2
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(module_body module_url intake_wire render_frame gate_socks)

mkdir -p "$BUILD/findings" "$BUILD/fuzz-logs"
SUMMARY="$BUILD/fuzz-summary.txt"
: > "$SUMMARY"
failed=0

for t in "${TARGETS[@]}"; do
    bin="$(find "$BUILD/tests/fuzz" -type f -name "fuzz_$t" | head -n 1)"
    if [ -z "$bin" ]; then
        echo "fuzz: no binary for $t in $BUILD" >&2
        failed=1
        continue
    fi
    corpus="$BUILD/fuzz-corpus/$t"
    mkdir -p "$corpus"
    args=(-max_total_time="$SECONDS_EACH" -print_final_stats=1
          -artifact_prefix="$BUILD/findings/$t-" -max_len=8192 -timeout=20
          -rss_limit_mb=4096)
    [ -f "$HERE/$t.dict" ] && args+=(-dict="$HERE/$t.dict")
    log="$BUILD/fuzz-logs/$t.log"
    echo "fuzz: $t for ${SECONDS_EACH}s ($bin ${args[*]} $corpus $HERE/corpus/$t)"
    "$bin" "${args[@]}" "$corpus" "$HERE/corpus/$t" > "$log" 2>&1
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)"
    if [ $rc -eq 0 ]; then
        result=clean
    else
        result="FAILED (exit $rc, see $log)"
        failed=1
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 >&2
    fi
    printf '%-14s %10s executions in %ss, %s, %s\n' "$t" "${execs:-?}" \
        "$SECONDS_EACH" "${cov:-cov: ?}" "$result" | tee -a "$SUMMARY"
done

exit $failed
