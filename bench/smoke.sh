#!/bin/bash
# smoke.sh - `make bench-smoke`: every opsbase benchmark case for a moment on a
# small data set (5,000 customers and tickets), and the ceiling server's build
# and a request or two, so the harness cannot rot. Fails when any request of
# any case fails (wrk's non-2xx count or a socket error) or a case ran none.
# Not a measurement: the figures it prints mean nothing.
#
# usage: bench/smoke.sh OPSBASE_BINARY
# env:   BENCH_DURATION (s per case, 2)  BENCH_PORT (18300)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/prepare.sh"

[ $# -eq 1 ] || die "usage: bench/smoke.sh OPSBASE_BINARY"
OPSBASE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
[ -x "$OPSBASE" ] || die "no binary at $OPSBASE"
SMOKE=1
DURATION=${BENCH_DURATION:-2}
RUNS=1
CONNS=8
PORT=${BENCH_PORT:-18300}
WORK=$(dirname "$OPSBASE")/bench-smoke
OUT=$WORK/out
LOGDIR=$OUT
RESULTS=$OUT/runs.tsv
METRICS=$OUT/metrics.tsv
trap stop_all EXIT
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$RESULTS"
: >"$METRICS"
T0=$(date +%s)

CEILING=$WORK/ceiling
build_ceiling "$CEILING"
prepare_data
reset_data

sample "$DATA/tenants/bench.db" "SELECT id FROM customers ORDER BY random() LIMIT 1000" "$OUT/ids.txt"
echo none >"$OUT/none.txt"

start_ceiling "$PORT" unpinned --db "$WORK/ceiling.db" --synchronous normal
U=http://127.0.0.1:$PORT
DURATION=1
SETTLE=/fixed
bench ceiling_fixed unpinned unpinned "$U/fixed"
bench ceiling_get unpinned unpinned "$U/" BENCH_MODE=get BENCH_FILE="$OUT/ids.txt"
bench ceiling_list unpinned unpinned "$U/api/v1/customers?status=active"
bench ceiling_insert unpinned unpinned "$U/" BENCH_MODE=create BENCH_FILE="$OUT/none.txt"
DURATION=${BENCH_DURATION:-2}
SETTLE=/healthz
stop_pid "$SRV_PID"

start_opsbase "$DATA" "$PORT" unpinned
TOKEN=$(login "$PORT" bench owner@bench.test)
[ -n "$TOKEN" ] || die "login failed"
CURSOR=$(deep_cursor "$PORT" "$TOKEN")
tenants_file "$PORT" 1 5 'm%03d' 20 "$OUT/mix.txt"
tenants_file "$PORT" 1 2 'w%d' 0 "$OUT/w2.txt"
printf '%s\n' "$TOKEN" >"$OUT/token.txt"
bench get unpinned unpinned "$U/api/v1/customers" BENCH_MODE=get BENCH_FILE="$OUT/ids.txt" BENCH_TOKEN="$TOKEN"
bench list unpinned unpinned "$U/api/v1/customers?$LIST_Q" BENCH_TOKEN="$TOKEN"
bench list_deep unpinned unpinned "$U/api/v1/customers?$LIST_Q&cursor=$CURSOR" BENCH_TOKEN="$TOKEN"
bench search unpinned unpinned "$U/api/v1/customers?$SEARCH_Q" BENCH_TOKEN="$TOKEN"
bench create unpinned unpinned "$U/" BENCH_MODE=create BENCH_FILE="$OUT/token.txt"
BEFORE_RUN=patch_sample bench patch unpinned unpinned "$U/" BENCH_MODE=patch BENCH_FILE="$OUT/patch.txt" BENCH_TOKEN="$TOKEN"
bench ticket unpinned unpinned "$U/" BENCH_MODE=ticket BENCH_FILE="$OUT/ids.txt" BENCH_TOKEN="$TOKEN"
bench mix unpinned unpinned "$U/api/v1/customers" BENCH_MODE=mix BENCH_FILE="$OUT/mix.txt"
bench write_tenants_2 unpinned unpinned "$U/" BENCH_MODE=create BENCH_FILE="$OUT/w2.txt"
stop_pid "$SRV_PID"
backup_bench 5000

# the job queue and webhook delivery (bench/jobs/run.py), short: fails when a job
# is not done or a delivery does not arrive
if BENCH_SMOKE=1 BENCH_WORK="$WORK/jobs" /usr/bin/python3 "$BENCH_DIR/jobs/run.py" "$OPSBASE"; then
    log "bench-jobs: ok"
else
    log "bench-jobs: FAILED"
    FAILED=1
fi

# the workflows' hot paths (bench/workflows/run.py), a few records each: fails
# when an answer is not the expected one or the final state is wrong
if BENCH_SMALL=1 $PY "$BENCH_DIR/workflows/run.py" "$OPSBASE" "$OUT"; then
    log "workflows: ok"
else
    log "workflows: FAILED"
    FAILED=1
fi

# uploads, a CSV export and an import (bench/exchange.py), small
BENCH_SMALL=1 BENCH_WORK="$WORK/exchange" BENCH_PORT=$((PORT + 20)) /usr/bin/python3 "$BENCH_DIR/exchange.py" "$OPSBASE" \
    || { log "exchange failed"; FAILED=1; }

total=$(wc -l <"$RESULTS")
bad=$(awk -F'\t' '$7 != 0 || $8 != 0 || $9 == 0' "$RESULTS" | wc -l)
log "bench-smoke finished in $(( $(date +%s) - T0 ))s (logs in $OUT)"
echo "bench-smoke: $((total - bad)) passed, $bad failed"
[ "$FAILED" = 0 ] && [ "$bad" = 0 ] && [ "$total" -gt 0 ]
