#!/usr/bin/env bash
# Run every cargo-fuzz target of mcp-auth for FUZZ_SECONDS each, on the stable toolchain.
#
#   FUZZ_SECONDS=60   seconds per target (default 60)
#   FUZZ_TARGETS="challenge json_token"   a subset (default: every target in fuzz/Cargo.toml)
#   FUZZ_JOBS=1       targets run at once (default 1; the machine has 2 cores)
#   FUZZ_NICE=10      niceness of the fuzzers
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer, sancov passes): RUSTC_BOOTSTRAP=1
# lets the stable compiler accept them. The sanitizer is `none` (the code under test is safe
# Rust; libFuzzer's coverage, debug assertions and overflow checks stay on).
#
# Each target starts from the committed corpus (fuzz/corpus/<target>/: the seeds and a minimized
# set of earlier finds, read only) plus its working corpus (fuzz/target/corpus/<target>/, not in
# git), where libFuzzer writes every new coverage-increasing input. `make fuzz-cmin` folds the
# finds that reach new code back into fuzz/corpus (fuzz/cmin.sh). Crashes and timeouts go to
# fuzz/artifacts/<target>/. The script prints executions per target and exits non-zero on any
# crash or timeout.
set -euo pipefail
cd "$(dirname "$0")"

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
JOBS="${FUZZ_JOBS:-1}"
NICE="${FUZZ_NICE:-10}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked
fi

ALL_TARGETS=$(sed -n 's/^name = "\([a-z_0-9]*\)"$/\1/p' Cargo.toml | grep -v '^mcp-auth-fuzz$' || true)
TARGETS="${FUZZ_TARGETS:-$ALL_TARGETS}"

nice -n "$NICE" cargo fuzz build --fuzz-dir . -s none -a >&2
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN_DIR="target/$TRIPLE/release"
LOG_DIR="target/fuzz-logs"
mkdir -p "$LOG_DIR"

run_one() {
    local t="$1"
    mkdir -p "corpus/$t" "target/corpus/$t" "artifacts/$t"
    local rc=0
    nice -n "$NICE" "$BIN_DIR/$t" \
        -max_total_time="$SECONDS_PER_TARGET" \
        -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -dict=mcp-auth.dict -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" \
        "target/corpus/$t" "corpus/$t" >"$LOG_DIR/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$LOG_DIR/$t.rc"
}

start=$(date +%s)
running=0
for t in $TARGETS; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true
elapsed=$(( $(date +%s) - start ))

status=0
total=0
printf '%-24s %14s %10s %8s %8s\n' target executions exec/s crashes timeouts
for t in $TARGETS; do
    log="$LOG_DIR/$t.log"
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    crashes=$(find "artifacts/$t" -name 'crash-*' -o -name 'oom-*' 2>/dev/null | wc -l)
    timeouts=$(find "artifacts/$t" -name 'timeout-*' -o -name 'slow-unit-*' 2>/dev/null | wc -l)
    rc=$(cat "$LOG_DIR/$t.rc")
    if [ -z "$execs" ] || [ "$rc" != 0 ] || [ "$crashes" != 0 ] || [ "$timeouts" != 0 ]; then
        status=1
        echo "!! $t: exit $rc, see fuzz/$log" >&2
    fi
    total=$((total + ${execs:-0}))
    printf '%-24s %14s %10s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "$crashes" "$timeouts"
done
printf '%-24s %14s   (%ss wall, %ss per target, %s job(s))\n' TOTAL "$total" "$elapsed" "$SECONDS_PER_TARGET" "$JOBS"
exit "$status"
