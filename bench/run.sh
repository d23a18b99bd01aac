#!/bin/bash
# run.sh - the full benchmark (`make bench`): ceiling, opsbase, scaling,
# resources and the Directus peer, on 127.0.0.1 only, every wrk run bounded.
# Writes build-release/bench/out/ (raw figures and logs) and bench/results.md.
#
# usage: bench/run.sh [OPSBASE_BINARY]     (default: builds build-release/opsbase)
# env:   BENCH_DURATION (s per wrk run, 5)  BENCH_RUNS (3)  BENCH_PEER (1; 0 skips Directus)
#        BENCH_PORT (base port, 18400)  BENCH_SMALL (1: the smoke data set, to test this script quickly)
#        BENCH_WORK (work directory, build-release/bench)
#        BENCH_PG (1; 0 skips PostgreSQL)  BENCH_ONLY=pg (only the PostgreSQL part, bench/pg.sh)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$BENCH_DIR/prepare.sh"
source "$BENCH_DIR/peer.sh"
source "$BENCH_DIR/pg.sh"

SMOKE=${BENCH_SMALL:-0}
DURATION=${BENCH_DURATION:-5}
RUNS=${BENCH_RUNS:-3}
PORT=${BENCH_PORT:-18400}
WORK=${BENCH_WORK:-$ROOT/build-release/bench}
OUT=$WORK/out${BENCH_ONLY:+-$BENCH_ONLY}
LOGDIR=$OUT
RESULTS=$OUT/runs.tsv
METRICS=$OUT/metrics.tsv
trap stop_all EXIT

cd "$ROOT"
if [ $# -ge 1 ]; then
    OPSBASE=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
    log "building the release binary"
    make --no-print-directory RELEASE=1 all >/dev/null || die "release build failed"
    OPSBASE=$ROOT/build-release/opsbase
fi
[ -x "$OPSBASE" ] || die "no binary at $OPSBASE"
mkdir -p "$WORK"
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$RESULTS"
: >"$METRICS"
if [ "${BENCH_ONLY:-}" = pg ]; then pg_only; exit 0; fi

CEILING=$WORK/ceiling
build_ceiling "$CEILING"

prepare_data
prepare_cold
reset_data
MIX_N=100
MANY_N=1000
[ "$SMOKE" = 1 ] && MIX_N=5 && MANY_N=20

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)')"
    echo "nproc: $(nproc)"
    lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|L2|L3|Hypervisor)' | sed 's/  */ /g'
    free -m | sed -n 2p | awk '{print "memory: " $2 " MiB"}'
    echo "kernel: $(uname -r)"
    echo "libmicrohttpd: $(pkg-config --modversion libmicrohttpd), sqlite: $(pkg-config --modversion sqlite3), wrk: $($WRK -v 2>&1 | head -1 | cut -d' ' -f1-2)"
    echo "duration: ${DURATION}s per wrk run, $RUNS runs, $CONNS connections"
    echo "load before: $(uptime | sed 's/.*load average/load average/')"
} >"$OUT/machine.txt"
top -bn1 | head -20 >"$OUT/top-before.txt"

sample "$DATA/tenants/bench.db" "SELECT id FROM customers ORDER BY random() LIMIT 10000" "$OUT/ids.txt"


# --- ceiling -------------------------------------------------------------------
SETTLE=/fixed
for pin in pinned unpinned; do
    log "ceiling, $pin"
    start_ceiling "$PORT" "$pin" --db "$WORK/ceiling.db" --synchronous full
    echo none >"$OUT/none.txt"
    U=http://127.0.0.1:$PORT
    bench ceiling_fixed "$pin" "$pin" "$U/fixed"
    bench ceiling_get "$pin" "$pin" "$U/" BENCH_MODE=get BENCH_FILE="$OUT/ids.txt"
    bench ceiling_list "$pin" "$pin" "$U/api/v1/customers?status=active"
    bench ceiling_insert "$pin" "$pin" "$U/" BENCH_MODE=create BENCH_FILE="$OUT/none.txt"
    stop_pid "$SRV_PID"
done
start_ceiling "$PORT" pinned --db "$WORK/ceiling.db" --synchronous normal
bench ceiling_insert_normal pinned pinned "http://127.0.0.1:$PORT/" BENCH_MODE=create BENCH_FILE="$OUT/none.txt"
stop_pid "$SRV_PID"
SETTLE=/healthz

# --- opsbase -------------------------------------------------------------------
for pin in pinned unpinned; do
    log "opsbase, $pin"
    reset_data
    start_opsbase "$DATA" "$PORT" "$pin"
    U=http://127.0.0.1:$PORT
    TOKEN=$(login "$PORT" bench owner@bench.test)
    [ -n "$TOKEN" ] || die "login failed"
    CURSOR=$(deep_cursor "$PORT" "$TOKEN")
    tenants_file "$PORT" 1 "$MIX_N" 'm%03d' 20 "$OUT/mix.txt"
    bench get "$pin" "$pin" "$U/api/v1/customers" BENCH_MODE=get BENCH_FILE="$OUT/ids.txt" BENCH_TOKEN="$TOKEN"
    bench list "$pin" "$pin" "$U/api/v1/customers?$LIST_Q" BENCH_TOKEN="$TOKEN"
    bench list_nofilter "$pin" "$pin" "$U/api/v1/customers?sort=-created_at&limit=50" BENCH_TOKEN="$TOKEN"
    bench list_deep "$pin" "$pin" "$U/api/v1/customers?$LIST_Q&cursor=$CURSOR" BENCH_TOKEN="$TOKEN"
    bench search "$pin" "$pin" "$U/api/v1/customers?$SEARCH_Q" BENCH_TOKEN="$TOKEN"
    printf '%s\n' "$TOKEN" >"$OUT/token.txt"
    bench create "$pin" "$pin" "$U/" BENCH_MODE=create BENCH_FILE="$OUT/token.txt"
    BEFORE_RUN=patch_sample bench patch "$pin" "$pin" "$U/" BENCH_MODE=patch BENCH_FILE="$OUT/patch.txt" BENCH_TOKEN="$TOKEN"
    bench ticket "$pin" "$pin" "$U/" BENCH_MODE=ticket BENCH_FILE="$OUT/ids.txt" BENCH_TOKEN="$TOKEN"
    bench mix100 "$pin" "$pin" "$U/api/v1/customers" BENCH_MODE=mix BENCH_FILE="$OUT/mix.txt"
    if [ "$pin" = pinned ]; then
        metric rss_load_mix 1 "$(rss_kb "$SRV_PID" VmHWM)" kB
        metric rss_after_load 1 "$(rss_kb "$SRV_PID" VmRSS)" kB
    fi
    stop_pid "$SRV_PID"
done
log "opsbase, synchronous=normal"
reset_data
start_opsbase "$DATA" "$PORT" pinned --synchronous normal
TOKEN=$(login "$PORT" bench owner@bench.test)
printf '%s\n' "$TOKEN" >"$OUT/token.txt"
bench create_normal pinned pinned "http://127.0.0.1:$PORT/" BENCH_MODE=create BENCH_FILE="$OUT/token.txt"
stop_pid "$SRV_PID"

# --- workflows (bench/workflows/run.py: its own server and data, OUT/workflows.tsv)
log "workflows"
BENCH_RUNS=$RUNS BENCH_DURATION=$DURATION BENCH_SMALL=$SMOKE $PY "$BENCH_DIR/workflows/run.py" "$OPSBASE" "$OUT" ||
    { log "workflows failed"; FAILED=1; }

# --- scaling -------------------------------------------------------------------
log "scaling"
reset_data
start_opsbase "$DATA" "$PORT" pinned
U=http://127.0.0.1:$PORT
# latency, not saturation: one client, keep-alive, up to 200 requests or 5 s
for t in s10k bench s1m; do
    [ -f "$DATA/tenants/$t.db" ] || continue
    case $t in s10k) rows=10k ;; bench) rows=100k ;; s1m) rows=1M ;; esac
    tok=$(login "$PORT" "$t" "owner@$t.test")
    [ -n "$tok" ] || die "login to $t failed"
    probe "scale_list_$rows" "$PORT" "/api/v1/customers?$LIST_Q" "$tok"
    probe "scale_list_nofilter_$rows" "$PORT" "/api/v1/customers?sort=-created_at&limit=50" "$tok"
    probe "scale_search_$rows" "$PORT" "/api/v1/customers?$SEARCH_Q" "$tok"
done
stop_pid "$SRV_PID"
# the same probes on PostgreSQL 15 (bench/pg_scale.py: a throw-away cluster, 10k,
# 100k and 1M customers loaded with COPY); skipped, saying so, without its binaries
log "scaling on PostgreSQL"
PGOUT=$(BENCH_RUNS=$RUNS BENCH_WORK=$WORK/pg-scale $PY "$BENCH_DIR/pg_scale.py" "$OPSBASE") ||
    { log "PostgreSQL scaling failed"; FAILED=1; }
while read -r _ name r line; do
    record "$name" unpinned "$r" "$line"
done < <(printf '%s\n' "$PGOUT" | grep '^PROBE ' || true)
start_opsbase "$DATA" "$PORT" pinned
for n in 1 2 8; do
    [ -f "$DATA/tenants/w$n.db" ] || continue
    tenants_file "$PORT" 1 "$n" 'w%d' 0 "$OUT/w$n.txt"
    bench "write_tenants_$n" pinned pinned "$U/" BENCH_MODE=create BENCH_FILE="$OUT/w$n.txt"
done
stop_pid "$SRV_PID"

# --- resources -----------------------------------------------------------------
log "resources"
metric binary_size 1 "$(stat -c %s "$OPSBASE")" bytes
for r in $(seq 1 "$RUNS"); do
    start_opsbase "$DATA" "$PORT" unpinned
    sleep 1
    metric rss_idle "$r" "$(rss_kb "$SRV_PID")" kB
    stop_pid "$SRV_PID"
done
start_opsbase "$DATA" "$PORT" unpinned
# open each tenant: a login and one request per tenant
open_tenants() { # SLUG...
    local t tok
    for t in "$@"; do
        tok=$(login "$PORT" "$t" "owner@$t.test")
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $tok" \
            "http://127.0.0.1:$PORT/api/v1/customers?limit=1")" = 200 ] || die "tenant $t did not answer"
    done
}
MANY=($(cd "$DATA/tenants" && ls m*.db | sed 's/\.db$//' | sort))
open_tenants "${MANY[@]:0:$MIX_N}"
sleep 1
metric "rss_${MIX_N}_tenants" 1 "$(rss_kb "$SRV_PID")" kB
if [ "${#MANY[@]}" -gt "$MIX_N" ]; then
    open_tenants "${MANY[@]:$MIX_N}"
    sleep 1
    metric "rss_${#MANY[@]}_tenants" 1 "$(rss_kb "$SRV_PID")" kB
fi
stop_pid "$SRV_PID"

# --- many tenants: the mix on one tenant, on 100 and on 1,000 (bench/mix.sh) --
# Each on a fresh server, the same mix on one tenant first (the goals are
# ratios to it), peak RSS (VmHWM) of the mix alone; its own data set of
# m001..m100 made by `tenant create` plus copies of m001 beyond.
for n in "$MIX_N" "$MANY_N"; do
    log "the mix over $n tenants (bench/mix.sh)"
    rm -f "$WORK/mix/out/mix.tsv"
    BENCH_WORK=$WORK/mix BENCH_MIX_N=$n BENCH_MIX_BASE=$MIX_N BENCH_RUNS=$RUNS BENCH_DURATION=$DURATION \
        BENCH_PORT=$((PORT + 100)) BENCH_PIN=pinned "$BENCH_DIR/mix.sh" "$OPSBASE" >>"$OUT/mix.log" 2>&1 \
        || die "bench/mix.sh over $n tenants failed (see $OUT/mix.log)"
    while read -r _ c _ r v; do
        [ -n "$v" ] || continue
        case $c in
            mix1) metric "mix_one_tenant_with_$n" "$r" "$v" req/s ;;
            rss_mix1) ;;
            rss_mix*) metric "rss_mix_$n" "$r" "$v" kB ;;
            mix*) metric "mix_tenants_$n" "$r" "$v" req/s ;;
        esac
    done < <(grep '^MIX ' "$WORK/mix/out/mix.tsv")
done

# cold start: a token made on a running server, then exec-to-first-200
start_opsbase "$COLD" "$PORT" unpinned
CTOK=$(login "$PORT" c001 owner@c001.test)
stop_pid "$SRV_PID"
r=0
while read -r ms cpu; do
    r=$((r + 1))
    metric "cold_start_${MIX_N}_tenants" "$r" "$ms" ms
    metric "cold_start_cpu_${MIX_N}_tenants" "$r" "$cpu" ms
done < <($PY "$BENCH_DIR/coldstart.py" "$OPSBASE" "$COLD" "$PORT" "$CTOK" "$RUNS")
# the same token on 1,000 tenants (c001 is among them; the copies are only counted)
prepare_cold_many
NC=$(find "$COLD_MANY/tenants" -name '*.db' | wc -l)
r=0
while read -r ms cpu; do
    r=$((r + 1))
    metric "cold_start_many_tenants" "$r" "$ms" ms
    metric "cold_start_cpu_many_tenants" "$r" "$cpu" ms
done < <($PY "$BENCH_DIR/coldstart.py" "$OPSBASE" "$COLD_MANY" "$PORT" "$CTOK" "$RUNS")
metric "cold_start_many_tenants_n" 1 "$NC" tenants
# the same 1,000 tenants left idle: the job workers' sweep is all that runs
while read -r _ r cpu fds stop; do
    metric "idle_cpu_20s_many_tenants" "$r" "$cpu" ms
    metric "idle_fds_many_tenants" "$r" "$fds" fds
    metric "stop_ms_many_tenants" "$r" "$stop" ms
done < <($PY "$BENCH_DIR/idle.py" "$COLD_MANY" "$PORT" 20 "$RUNS" "$OPSBASE")
# and a fresh server's first /readyz on them (an orchestrator's probe times out
# at about 1 s): its job figures are the sweep's counts, no tenant visited
while read -r _ r first _ later; do
    metric "first_readyz_many_tenants" "$r" "$first" ms
    metric "readyz_at_5s_many_tenants" "$r" "$later" ms
done < <($PY "$BENCH_DIR/first_probe.py" "$COLD_MANY" "$PORT" "$RUNS" "$OPSBASE")
start_opsbase "$DATA" "$PORT" unpinned
CTOK=$(login "$PORT" m001 owner@m001.test)
stop_pid "$SRV_PID"
NT=$(find "$DATA/tenants" -name '*.db' | wc -l)
r=0
while read -r ms _; do
    r=$((r + 1))
    metric "cold_start_${NT}_tenants" "$r" "$ms" ms
done < <($PY "$BENCH_DIR/coldstart.py" "$OPSBASE" "$DATA" "$PORT" "$CTOK" "$RUNS")

# one tenant of about 1 GB backed up and restored (BENCH_SMALL: 20,000 rows)
backup_bench "$([ "${BENCH_SMALL:-0}" = 1 ] && echo 20000 || echo 550000)"

# --- peer ----------------------------------------------------------------------
if [ "${BENCH_PEER:-1}" = 1 ]; then
    peer_bench || log "Directus could not be measured: $PEER_WHY (continuing without the peer)"
else
    PEER_WHY="skipped (BENCH_PEER=0)"
fi
printf '%s\n' "${PEER_WHY:-}" >"$OUT/peer.txt"

# --- PostgreSQL (bench/pg.sh) ---------------------------------------------------
if [ "${BENCH_PG:-1}" = 1 ]; then pg_bench; else PG_WHY="skipped (BENCH_PG=0)"; fi
printf '%s\n' "$PG_WHY" >"$OUT/pg.txt"

echo "load after: $(uptime | sed 's/.*load average/load average/')" >>"$OUT/machine.txt"
top -bn1 | head -20 >"$OUT/top-after.txt"
$PY "$BENCH_DIR/report.py" "$OUT" "$BENCH_DIR/results.md"
log "done: bench/results.md (raw figures in $OUT)"
[ "$FAILED" = 0 ] || die "some requests failed (see $OUT/wrk.log)"
