#!/bin/bash
# mix.sh - only the multi-tenant cases, for A/B comparisons of builds: the
# 50/50 get/create mix on one tenant (mix1) and over N tenants (mixN), and the
# server's peak RSS (VmHWM) after mixN, with the binaries' runs interleaved
# (A B A B ...) so background load on a shared machine hits both alike.
# Each case's peak RSS is its own: VmHWM is reset just before it (the sign-ins
# before it hash passwords with 19 MiB each).
#
# usage: bench/mix.sh OPSBASE_BINARY [OPSBASE_BINARY...]
# env:   BENCH_MIX_N (tenants, 100)  BENCH_RUNS (3)  BENCH_DURATION (s, 5)
#        BENCH_PIN (pinned | unpinned, pinned)  BENCH_PORT (18500)
#        BENCH_WORK (work directory, build-release/bench-mix): the data
#        directory m001..m100 (1,000 customers each, made by `tenant create`;
#        BENCH_MIX_BASE tenants instead of 100) is made there once with the
#        first binary; beyond those (BENCH_MIX_N=1000) the rest are copies of m001 (bench/clone_tenants.py --sign-in), kept
#        apart per N; the set is restored from its pristine copy before every
#        server start (all but the copies, once they are in place).
#        BENCH_MIX_METRICS=1: also the pool's figures from /metrics after each
#        case ("MIXPOOL ..." lines).
# Prints one "MIX case binary run rps" line per wrk run and one
# "MIX rss_mixN binary run kB" line per server (and "MIX rss_mix1 ..."), and
# appends them to $BENCH_WORK/out/mix.tsv.
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

BASE=${BENCH_MIX_BASE:-100}
BASE=$((N < BASE ? N : BASE))
if [ ! -f "$WORK/prepared-$BASE" ]; then
    log "preparing $BASE tenants in $DATA (once)"
    rm -rf "$DATA" "$WORK"/data.orig* "$WORK"/prepared-*
    dbs=()
    for i in $(seq 1 "$BASE"); do
        t=$(printf 'm%03d' "$i")
        "${BINS[0]}" tenant create "$t" --plan enterprise --owner-email "owner@$t.test" \
            --owner-password "$OWNER_PASS" --data "$DATA" >/dev/null || die "tenant create $t failed"
        dbs+=("$DATA/tenants/$t.db")
    done
    $PY "$BENCH_DIR/gen_data.py" "${dbs[@]}" --customers 1000 >/dev/null || die "gen_data failed"
    cp -a "$DATA" "$WORK/data.orig"
    touch "$WORK/prepared-$BASE"
fi
ORIG=$WORK/data.orig
if [ "$N" -gt "$BASE" ]; then
    ORIG=$WORK/data.orig-$N
    if [ ! -f "$WORK/prepared-$N" ]; then
        # `tenant create` takes about half a second a tenant (a password hash
        # and the schema's DDL); a copy of m001 is the same schema and rows.
        log "copying m001 to m$((BASE + 1))..m$N in $ORIG (once)"
        rm -rf "$ORIG"
        cp -a "$WORK/data.orig" "$ORIG"
        $PY "$BENCH_DIR/clone_tenants.py" "$ORIG" m001 $((N - BASE)) m --first $((BASE + 1)) \
            --format 'm%03d' --sign-in >/dev/null || die "clone_tenants failed"
        touch "$WORK/prepared-$N"
    fi
fi

restore() {
    if [ "$N" -gt "$BASE" ] && [ -f "$DATA/copies-$N" ]; then
        # Only the control database and m001..m$BASE come back: copying the
        # copies too would write gigabytes before every start, and a run adds
        # no more than a session and a few rows to each of them.
        rm -f "$DATA"/control.db*
        cp -a "$ORIG"/control.db* "$DATA/"
        local i t
        for i in $(seq 1 "$BASE"); do
            t=$(printf 'm%03d' "$i")
            rm -f "$DATA/tenants/$t.db"*
            cp -a "$ORIG/tenants/$t.db" "$DATA/tenants/"
        done
        return 0
    fi
    rm -rf "$DATA"
    cp -a "$ORIG" "$DATA"
    if [ "$N" -gt "$BASE" ]; then touch "$DATA/copies-$N"; fi
}

for r in $(seq 1 "$RUNS"); do
    for i in "${!BINS[@]}"; do
        OPSBASE=${BINS[$i]}
        restore
        # Beyond the base, `migrate` would open every copy (minutes for
        # 1,000): the server checks each tenant on its first use instead,
        # which the sign-ins before the measured runs do.
        if [ "$N" -le "$BASE" ]; then
            "$OPSBASE" migrate --data "$DATA" >/dev/null || die "migrate failed"
        fi
        MTOK=bench-mix-metrics-token
        if [ "${BENCH_MIX_METRICS:-0}" = 1 ]; then
            start_opsbase "$DATA" "$PORT" "$PIN" --metrics-token "$MTOK"
        else
            start_opsbase "$DATA" "$PORT" "$PIN"
        fi
        tenants_file "$PORT" 1 1 'm%03d' 20 "$OUT/mix1.txt"
        tenants_file "$PORT" 1 "$N" 'm%03d' 20 "$OUT/mixn.txt"
        RUNS_SAVE=$RUNS
        RUNS=1
        for c in mix1 "mix$N"; do
            f=$OUT/mix1.txt
            [ "$c" = mix1 ] || f=$OUT/mixn.txt
            : >"$OUT/one.tsv"
            reset_hwm "$SRV_PID"
            RESULTS=$OUT/one.tsv bench "$c" "b$i" "$PIN" "http://127.0.0.1:$PORT/api/v1/customers" \
                BENCH_MODE=mix BENCH_FILE="$f"
            rps=$(cut -f4 "$OUT/one.tsv" | tail -1)
            printf 'MIX %s b%d %d %s\n' "$c" "$i" "$r" "$rps" | tee -a "$OUT/mix.tsv"
            printf 'MIX rss_%s b%d %d %s\n' "$c" "$i" "$r" "$(rss_kb "$SRV_PID" VmHWM)" | tee -a "$OUT/mix.tsv"
            if [ "${BENCH_MIX_METRICS:-0}" = 1 ]; then
                curl -s -H "Authorization: Bearer $MTOK" "http://127.0.0.1:$PORT/metrics" | grep -E '^opsbase_(db_connections|db_pool|tenants_open)' \
                    | sed "s/^/MIXPOOL $c b$i $r /" | tee -a "$OUT/mix.tsv"
            fi
        done
        RUNS=$RUNS_SAVE
        stop_pid "$SRV_PID"
    done
done
