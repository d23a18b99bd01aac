#!/bin/bash
# mix.sh - only the multi-tenant cases, for A/B comparisons of builds: the
# 50/50 get/create mix on one tenant (mix1) and over N tenants (mixN), and the
# server's peak RSS (VmHWM) after mixN, with the binaries' runs interleaved
# (A B A B ...) so background load on a shared machine hits both alike.
#
# usage: bench/mix.sh OPSBASE_BINARY [OPSBASE_BINARY...]
# env:   BENCH_MIX_N (tenants, 100)  BENCH_RUNS (3)  BENCH_DURATION (s, 5)
#        BENCH_PIN (pinned | unpinned, pinned)  BENCH_PORT (18500)
#        BENCH_WORK (work directory, build-release/bench-mix): the data
#        directory m001..mN (1,000 customers each) is made there once with the
#        first binary and restored from a pristine copy before every server start.
# Prints one "MIX case binary run rps" line per wrk run and one
# "MIX rss_mixN binary run kB" line per server, and appends them to
# $BENCH_WORK/out/mix.tsv.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ $# -ge 1 ] || die "usage: bench/mix.sh OPSBASE_BINARY [OPSBASE_BINARY...]"
BINS=()
for b in "$@"; do BINS+=("$(cd "$(dirname "$b")" && pwd)/$(basename "$b")"); done
N=${BENCH_MIX_N:-100}
RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-5}
PIN=${BENCH_PIN:-pinned}
PORT=${BENCH_PORT:-18500}
SMOKE=0
WORK=${BENCH_WORK:-$ROOT/build-release/bench-mix}
OUT=$WORK/out
LOGDIR=$OUT
RESULTS=$OUT/runs.tsv
DATA=$WORK/data
trap stop_all EXIT
mkdir -p "$OUT"
: >"$RESULTS"

if [ ! -f "$WORK/prepared-$N" ]; then
    log "preparing $N tenants in $DATA (once)"
    rm -rf "$DATA" "$WORK/data.orig" "$WORK"/prepared-*
    dbs=()
    for i in $(seq 1 "$N"); do
        t=$(printf 'm%03d' "$i")
        "${BINS[0]}" tenant create "$t" --plan enterprise --owner-email "owner@$t.test" \
            --owner-password "$OWNER_PASS" --data "$DATA" >/dev/null || die "tenant create $t failed"
        dbs+=("$DATA/tenants/$t.db")
    done
    $PY "$BENCH_DIR/gen_data.py" "${dbs[@]}" --customers 1000 >/dev/null || die "gen_data failed"
    cp -a "$DATA" "$WORK/data.orig"
    touch "$WORK/prepared-$N"
fi

restore() {
    rm -rf "$DATA"
    cp -a "$WORK/data.orig" "$DATA"
}

for r in $(seq 1 "$RUNS"); do
    for i in "${!BINS[@]}"; do
        OPSBASE=${BINS[$i]}
        restore
        "$OPSBASE" migrate --data "$DATA" >/dev/null || die "migrate failed"
        start_opsbase "$DATA" "$PORT" "$PIN"
        tenants_file "$PORT" 1 1 'm%03d' 20 "$OUT/mix1.txt"
        tenants_file "$PORT" 1 "$N" 'm%03d' 20 "$OUT/mixn.txt"
        RUNS_SAVE=$RUNS
        RUNS=1
        for c in mix1 "mix$N"; do
            f=$OUT/mix1.txt
            [ "$c" = mix1 ] || f=$OUT/mixn.txt
            : >"$OUT/one.tsv"
            RESULTS=$OUT/one.tsv bench "$c" "b$i" "$PIN" "http://127.0.0.1:$PORT/api/v1/customers" \
                BENCH_MODE=mix BENCH_FILE="$f"
            rps=$(cut -f4 "$OUT/one.tsv" | tail -1)
            printf 'MIX %s b%d %d %s\n' "$c" "$i" "$r" "$rps" | tee -a "$OUT/mix.tsv"
        done
        RUNS=$RUNS_SAVE
        printf 'MIX rss_mix%d b%d %d %s\n' "$N" "$i" "$r" "$(rss_kb "$SRV_PID" VmHWM)" | tee -a "$OUT/mix.tsv"
        stop_pid "$SRV_PID"
    done
done
