# lib.sh - shared by bench/run.sh and bench/smoke.sh (sourced, not run).
# Starts and stops the servers it measures, runs wrk, and appends one line per
# wrk run to $RESULTS: "case<TAB>variant<TAB>run<TAB>rps<TAB>p50_us<TAB>p99_us<TAB>non2xx<TAB>sockerr".

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
WRK=${WRK:-wrk}
PY=/usr/bin/python3
OWNER_PASS=bench-owner-pass-1
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
CONNS=${CONNS:-32}
STARTED_PIDS=()
FAILED=0

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Stop every server this script started (by pid, never by name).
stop_all() {
    local p
    for p in "${STARTED_PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${STARTED_PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    STARTED_PIDS=()
}

stop_pid() {
    local p=$1 q keep=()
    kill "$p" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    for q in "${STARTED_PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    STARTED_PIDS=("${keep[@]}")
}

# wait_http URL [seconds]: until the URL answers 200.
wait_http() {
    local url=$1 t=${2:-30} i
    for i in $(seq 1 $((t * 20))); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ]; then return 0; fi
        sleep 0.05
    done
    return 1
}

# pin_prefix pinned|unpinned CPU: the taskset prefix for a process.
pin_prefix() {
    if [ "$1" = pinned ]; then echo "taskset -c $2"; fi
}

# secret columns are sealed under a master key; a fixed one for benchmark data
export OPSBASE_MASTER_KEY=${OPSBASE_MASTER_KEY:-62656e63682d6f6e6c79206d6173746572206b65792c206e6f74206120736563}
# one load generator is one user: the tenant's per-user request limits off too
export OPSBASE_SETTINGS_RATE_LIMITS=${OPSBASE_SETTINGS_RATE_LIMITS:-off}

# start_opsbase DATA PORT pinned|unpinned [extra serve flags...]; sets SRV_PID.
start_opsbase() {
    local data=$1 port=$2 pin=$3
    shift 3
    # the gate's per-user rate limits off: one load generator is one user,
    # and the peer measured against has none
    # shellcheck disable=SC2046
    $(pin_prefix "$pin" "$SERVER_CPU") "$OPSBASE" serve --data "$data" --listen "127.0.0.1:$port" \
        --log-level error --rate-read 0 --rate-write 0 --rate-auth 0 "$@" >>"$LOGDIR/opsbase.log" 2>&1 &
    SRV_PID=$!
    STARTED_PIDS+=("$SRV_PID")
    wait_http "http://127.0.0.1:$port/healthz" 60 || die "opsbase did not start on port $port (see $LOGDIR/opsbase.log)"
}

# start_ceiling PORT pinned|unpinned [--db FILE --synchronous S]; sets SRV_PID.
start_ceiling() {
    local port=$1 pin=$2
    shift 2
    # shellcheck disable=SC2046
    $(pin_prefix "$pin" "$SERVER_CPU") "$CEILING" --port "$port" --threads 2 "$@" >>"$LOGDIR/ceiling.log" 2>&1 &
    SRV_PID=$!
    STARTED_PIDS+=("$SRV_PID")
    wait_http "http://127.0.0.1:$port/fixed" 60 || die "ceiling did not start on port $port"
}

# login PORT TENANT EMAIL: prints a bearer token.
login() {
    local body
    body=$(curl -s -X POST "http://127.0.0.1:$1/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"tenant\":\"$2\",\"email\":\"$3\",\"password\":\"$OWNER_PASS\"}")
    printf '%s' "$body" | sed -n 's/^{"token":"\([^"]*\)".*/\1/p'
}

# Current id and version of 20,000 random customers of the bench tenant, read
# from the file while the server runs (WAL: a reader never blocks it): patch
# sends If-Match with them and learns later versions from its responses.
patch_sample() {
    sample "$DATA/tenants/bench.db" "SELECT id, version FROM customers ORDER BY random() LIMIT 20000" "$OUT/patch.txt"
}

# settle URL: after a run, wait (at most 120 s) until the server answers a
# cheap request at once again, so requests a slow case left queued do not
# spill into the next case's figures.
settle() {
    local i t
    for i in $(seq 1 240); do
        t=$(curl -s -o /dev/null -m 5 -w '%{time_total}' "$1" 2>/dev/null || echo 9)
        if $PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) * 1000 < float(sys.argv[2]) else 1)' "$t" \
            "${SETTLE_MS:-50}"; then return 0; fi
        sleep 0.5
    done
    log "the server at $1 did not settle in 120 s"
}

# record NAME VARIANT RUN "BENCH ..." : one line of $RESULTS from a summary
# line. Non-2xx answers and connect/read/write errors fail the run (FAILED=1,
# except for the peer); timeouts are figures of a slow case, reported as such
# (the smoke run fails on them too).
record() {
    local name=$1 variant=$2 r=$3 line=$4 f
    if [ -z "$line" ]; then
        log "$name/$variant run $r: no result"
        FAILED=1
        return
    fi
    f=$(printf '%s' "$line" | $PY -c '
import sys
kv = dict(x.split("=") for x in sys.stdin.read().split()[1:])
sock = sum(int(kv[k]) for k in ("connect", "read", "write"))
print("\t".join([kv["rps"], kv["p50_us"], kv["p99_us"], kv["non2xx"], str(sock + int(kv["timeout"])),
                 kv["requests"], str(sock), kv["timeout"]]))')
    printf '%s\t%s\t%s\t%s\n' "$name" "$variant" "$r" "$(printf '%s' "$f" | cut -f1-6)" >>"$RESULTS"
    local non2xx sock req timeout
    non2xx=$(printf '%s' "$f" | cut -f4)
    req=$(printf '%s' "$f" | cut -f6)
    sock=$(printf '%s' "$f" | cut -f7)
    timeout=$(printf '%s' "$f" | cut -f8)
    log "$name/$variant run $r: $(printf '%s' "$line" | cut -d' ' -f2,4,6) requests=$req"
    if [ "$non2xx" != 0 ] || [ "$sock" != 0 ] || [ "$timeout" != 0 ] || [ "$req" = 0 ]; then
        log "$name/$variant run $r: $non2xx non-2xx, $sock socket errors, $timeout timeouts, $req requests"
        case $name in
            peer_*) ;;
            *) if [ "$non2xx" != 0 ] || [ "$sock" != 0 ] || [ "$SMOKE" = 1 ]; then FAILED=1; fi ;;
        esac
    fi
}

# bench CASE VARIANT pinned|unpinned URL [VAR=value ...]: $RUNS wrk runs of
# $DURATION seconds each; environment assignments choose the Lua mode.
# SETTLE (default /healthz) is the cheap path waited on after each run.
bench() {
    local name=$1 variant=$2 pin=$3 url=$4
    shift 4
    local threads=1 r out base
    [ "$pin" = pinned ] || threads=2
    base=$(printf '%s' "$url" | sed 's|^\(http://[^/]*\).*|\1|')
    for r in $(seq 1 "$RUNS"); do
        # a case that needs fresh input per run names a function in BEFORE_RUN
        if [ -n "${BEFORE_RUN:-}" ]; then "$BEFORE_RUN"; fi
        # shellcheck disable=SC2046
        out=$(env BENCH_THREADS=$threads "$@" $(pin_prefix "$pin" "$LOAD_CPU") "$WRK" -t"$threads" -c"$CONNS" \
            -d"${DURATION}s" --timeout "${WRK_TIMEOUT:-30}s" --latency -s "$BENCH_DIR/wrk/bench.lua" "$url" \
            2>>"$LOGDIR/wrk.err")
        printf '%s\n' "$out" >>"$LOGDIR/wrk.log"
        record "$name" "$variant" "$r" "$(printf '%s\n' "$out" | grep '^BENCH ' | tail -1)"
        settle "$base${SETTLE:-/healthz}"
    done
}

# probe CASE PORT PATH TOKEN: $RUNS latency probes (bench/latency.py) of one
# client; after a probe whose single request outlasted the budget, the
# remaining runs are skipped (one sample is all such a case can give).
probe() {
    local name=$1 port=$2 path=$3 token=$4 r line
    for r in $(seq 1 "$RUNS"); do
        # shellcheck disable=SC2046
        line=$($(pin_prefix pinned "$LOAD_CPU") $PY "$BENCH_DIR/latency.py" 127.0.0.1 "$port" "$path" "$token" 200 "${PROBE_BUDGET:-5}" \
            | grep '^BENCH ' | tail -1)
        record "$name" pinned "$r" "$line"
        if [ "$(printf '%s' "$line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')" = 1 ]; then break; fi
    done
}

# rss_kb PID [VmRSS|VmHWM]
rss_kb() { awk -v k="${2:-VmRSS}:" '$1 == k {print $2}' "/proc/$1/status"; }

# metric NAME RUN VALUE UNIT: one figure that is not a wrk run.
metric() {
    log "$1 run $2: $3 $4"
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$METRICS"
}

# Time `opsbase backup` and `opsbase restore` of one tenant of $1 rows
# (bench/backup.py) and record its figures; fails when either command fails.
backup_bench() {
    local out
    out=$(BENCH_BACKUP_ROWS=$1 BENCH_WORK=$WORK/backup $PY "$BENCH_DIR/backup.py" "$OPSBASE") ||
        { log "backup bench failed"; FAILED=1; return 1; }
    while read -r _ name value unit; do
        metric "$name" 1 "$value" "$unit"
    done < <(printf '%s\n' "$out" | grep '^METRIC ')
}

# The list and search every opsbase case and the scaling curve use.
LIST_Q='status=active&sort=-created_at&limit=50'
SEARCH_Q='q=garcia&limit=50'

# Sample ids and versions straight from the prepared file (read only).
sample() { # DB SQL OUTFILE
    $PY -c 'import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
with open(sys.argv[3], "w") as f:
    for r in db.execute(sys.argv[2]):
        f.write(" ".join(str(x) for x in r) + "\n")' "$1" "$2" "$3"
}
# deep_cursor PORT TOKEN: the cursor of page 50 of the list, walked page by page.
deep_cursor() {
    local c="" i body
    for i in $(seq 1 49); do
        body=$(curl -s -H "Authorization: Bearer $2" \
            "http://127.0.0.1:$1/api/v1/customers?$LIST_Q${c:+&cursor=$c}")
        c=$(printf '%s' "$body" | $PY -c 'import json, sys; print(json.load(sys.stdin)["next_cursor"] or "")')
        [ -n "$c" ] || die "the list ended before page 50"
    done
    printf '%s' "$c"
}

# tenants_file PORT FIRST LAST PREFIX IDS OUT: "token id..." per tenant (of
# $DATA), signed in four at a time by bench/tokens.py.
tenants_file() {
    $PY "$BENCH_DIR/tokens.py" "$1" "$2" "$3" "$4" "$5" "$DATA" "$6" 4 "$OWNER_PASS" \
        || die "signing in to tenants $2..$3 ($4) failed"
}

# reset_hwm PID: start the process's peak RSS (VmHWM) afresh, so the next
# reading is the peak of what ran in between (sign-ins before a case hash
# passwords with 19 MiB each and would otherwise set it).
reset_hwm() {
    echo 5 >"/proc/$1/clear_refs" 2>/dev/null || log "cannot reset VmHWM of $1"
}


# build_ceiling OUT: the ceiling server, outside the opsbase build on purpose.
build_ceiling() {
    log "building the ceiling server"
    # shellcheck disable=SC2046
    cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$1" "$BENCH_DIR"/ceiling/*.c \
        $(pkg-config --cflags --libs libmicrohttpd sqlite3 jansson) -lpthread || die "ceiling build failed"
}
