#!/bin/sh
# make test: unit and end-to-end tests, then the same under ASan + UBSan.
# Prints one summary line per stage and a final one; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
status=0
start=$(date +%s)
summary=""
passed=0
failed=0

# The one-minute load average when a stage starts: on a shared machine a
# stage's seconds say little without it.
load() {
    cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"
}

stage() { # name, command...
    name=$1
    shift
    echo "==> $name"
    t0=$(date +%s)
    l0=$(load)
    if "$@"; then
        summary="$summary\n  $name: ok ($(($(date +%s) - t0)) s, load $l0 at start)"
        passed=$((passed + 1))
    else
        summary="$summary\n  $name: FAILED ($(($(date +%s) - t0)) s, load $l0 at start)"
        failed=$((failed + 1))
        status=1
    fi
}

stage "layer check (includes follow each README's May call)" /usr/bin/python3 scripts/check-layers.py
stage "build" make -s -j"$jobs" all
stage "unit tests" make -s -j"$jobs" unit
stage "end-to-end tests" make -s e2e
# PostgreSQL runs the same end-to-end suite once, under ASan + UBSan below:
# the optimised build's run on PostgreSQL (the same tests, the same driver
# code without sanitizers) is in make test-long, which keeps make test inside
# its time budget.
stage "OpenAPI lint (Redocly, Spectral)" make -s openapi-lint
stage "console bundle matches its sources (web/)" make -s console-check
stage "console in Chromium (Playwright)" make -s console-test
stage "crash safety and fault injection" make -s crash
stage "benchmark smoke run" make -s bench-smoke
stage "build (ASan+UBSan)" make -s -j"$jobs" SAN=1 all
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
stage "unit tests (ASan+UBSan)" make -s -j"$jobs" SAN=1 unit
stage "end-to-end tests (ASan+UBSan)" make -s SAN=1 e2e
stage "end-to-end tests (PostgreSQL, ASan+UBSan)" env OPSBASE_TEST_DB=postgres make -s SAN=1 e2e
stage "reliability tests + valgrind" make -s reliability
stage "fuzzing (60 s per target)" tests/fuzz/run.sh 60

printf "\nsummary:$summary\n"
echo "stages: $passed passed, $failed failed, $(($(date +%s) - start)) s in all"
exit "$status"
