#!/bin/sh
# tests/fuzz/run.sh [SECONDS] - build every libFuzzer target and run each for
# SECONDS (default 60), starting from the seed corpus in tests/fuzz/corpus/.
# Fails when any target finds a crash, a leak, undefined behaviour or a
# broken response contract. Needs clang and libFuzzer (Debian: clang-14,
# libclang-rt-14-dev). Targets run FUZZ_JOBS at a time (default: the number
# of cores). Inputs found while fuzzing go to build/fuzz/corpus/ (not the
# repository); a failing input is saved in build/fuzz/artifacts/.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
targets="fuzz_json fuzz_query fuzz_target fuzz_handler fuzz_headers"
out=build/fuzz

if ! command -v "${FZCC:-clang}" >/dev/null 2>&1; then
    echo "fuzz: clang not found (Debian: apt-get install clang libclang-rt-14-dev)" >&2
    exit 1
fi
make -s -f tests/fuzz/fuzz.mk -j"$jobs" all || { echo "fuzz: build failed" >&2; exit 1; }
mkdir -p "$out/artifacts" "$out/logs"
# the in-process targets make a data directory each; a crashing run cannot
# remove its own, so they all live here and go at the end
export TMPDIR="$PWD/$out/tmp"
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
    t=$1
    mkdir -p "$out/corpus/$t"
    if "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
        "$out/corpus/$t" "tests/fuzz/corpus/$t" >"$out/logs/$t.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log")
        echo "fuzz: $t ok (${runs:-?} inputs in ${secs}s)"
        return 0
    fi
    echo "fuzz: $t FAILED (log: $out/logs/$t.log)"
    grep -E "ERROR|SUMMARY|runtime error|fuzz:|Test unit written" "$out/logs/$t.log" | head -12
    return 1
}

status=0
running=0
pids=""
for t in $targets; do
    run_one "$t" &
    pids="$pids $!"
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        for p in $pids; do wait "$p" || status=1; done
        pids=""
        running=0
    fi
done
for p in $pids; do wait "$p" || status=1; done
rm -rf "$TMPDIR"
[ "$status" -eq 0 ] && echo "fuzz: all targets clean" || echo "fuzz: FAILED"
exit "$status"
