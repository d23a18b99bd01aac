# peer.sh - sourced by run.sh: Directus (npm package `directus`, on SQLite) as
# the peer, installed into bench/peer/ (ignored by git) on first use, given the
# same 100,000 customers (copied from the prepared opsbase tenant, indexed on
# status and created_at like opsbase's table), and measured with the same wrk
# script and a static token. peer_bench returns non-zero with PEER_WHY set when
# Directus cannot be installed or run; run.sh then goes on without it.

# 11.3.5 is the last release that runs on Node 18/20 (later ones need Node 22).
DIRECTUS_VERSION=${DIRECTUS_VERSION:-11.3.5}
PEER_DIR=$BENCH_DIR/peer
PEER_PASS=bench-admin-pass-1
PEER_TOKEN=bench-static-token-0123456789abcdef

peer_install() {
    if [ -x "$PEER_DIR/node_modules/.bin/directus" ] && [ -d "$PEER_DIR/node_modules/sqlite3" ] && [ -d "$PEER_DIR/node_modules/pg" ]; then return 0; fi
    command -v npm >/dev/null || { PEER_WHY="npm is not installed (apt-get install npm)"; return 1; }
    log "installing Directus $DIRECTUS_VERSION into $PEER_DIR (once)"
    mkdir -p "$PEER_DIR"
    [ -f "$PEER_DIR/package.json" ] || echo '{"name":"opsbase-bench-peer","private":true}' >"$PEER_DIR/package.json"
    (cd "$PEER_DIR" && timeout 1200 npm install --no-audit --no-fund "directus@$DIRECTUS_VERSION" sqlite3 pg \
        >"$PEER_DIR/npm-install.log" 2>&1) || { PEER_WHY="npm install failed (see $PEER_DIR/npm-install.log)"; return 1; }
}

# Environment of every Directus command: SQLite file, port, no telemetry.
peer_env() {
    export DB_CLIENT=sqlite3 DB_FILENAME="$PEER_WORK/directus.db" HOST=127.0.0.1 PORT=$PEER_PORT \
        PUBLIC_URL="http://127.0.0.1:$PEER_PORT" KEY=bench-key SECRET=bench-secret-0123456789 \
        ADMIN_EMAIL=admin@example.com ADMIN_PASSWORD=$PEER_PASS TELEMETRY=false LOG_LEVEL=warn \
        RATE_LIMITER_ENABLED=false CACHE_ENABLED=false WEBSOCKETS_ENABLED=false \
        EXTENSIONS_PATH="$PEER_WORK/extensions" STORAGE_LOCAL_ROOT="$PEER_WORK/uploads"
}

peer_start() {
    (cd "$PEER_WORK" && exec "$PEER_DIR/node_modules/.bin/directus" start) >>"$LOGDIR/directus.log" 2>&1 &
    PEER_PID=$!
    STARTED_PIDS+=("$PEER_PID")
    wait_http "http://127.0.0.1:$PEER_PORT/server/ping" 120
}

# RSS of the Directus process and its children, in kB.
peer_rss() {
    local total=0 p
    for p in $1 $(pgrep -P "$1" || true); do total=$((total + $(rss_kb "$p" || echo 0))); done
    echo "$total"
}

peer_api() { # METHOD PATH [JSON]
    curl -s -X "$1" "http://127.0.0.1:$PEER_PORT$2" -H "Authorization: Bearer ${PEER_AUTH:-$PEER_TOKEN}" \
        -H 'Content-Type: application/json' ${3:+-d "$3"}
}

peer_prepare() {
    local stamp="directus=$DIRECTUS_VERSION rows=$1 v=1"
    if [ -f "$PEER_WORK/prepared" ] && [ "$(cat "$PEER_WORK/prepared")" = "$stamp" ]; then return 0; fi
    rm -rf "$PEER_WORK"
    mkdir -p "$PEER_WORK/extensions" "$PEER_WORK/uploads"
    log "preparing Directus data in $PEER_WORK"
    (cd "$PEER_WORK" && timeout 300 "$PEER_DIR/node_modules/.bin/directus" bootstrap) >>"$LOGDIR/directus.log" 2>&1 \
        || { PEER_WHY="directus bootstrap failed (see $LOGDIR/directus.log)"; return 1; }
    peer_start || { PEER_WHY="directus did not start"; return 1; }
    PEER_AUTH=$(curl -s -X POST "http://127.0.0.1:$PEER_PORT/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"admin@example.com\",\"password\":\"$PEER_PASS\"}" |
        $PY -c 'import json, sys; print(json.load(sys.stdin)["data"]["access_token"])') \
        || { PEER_WHY="directus login failed"; return 1; }
    peer_api PATCH /users/me "{\"token\":\"$PEER_TOKEN\"}" >/dev/null
    local fields="" c
    for c in customer_code name email company_name industry status city notes; do
        fields+=",{\"field\":\"$c\",\"type\":\"string\",\"schema\":{\"is_nullable\":true}}"
    done
    peer_api POST /collections "{\"collection\":\"customers\",\"schema\":{},\"meta\":{},\"fields\":[
        {\"field\":\"id\",\"type\":\"uuid\",\"meta\":{\"special\":[\"uuid\"]},\"schema\":{\"is_primary_key\":true}},
        {\"field\":\"created_at\",\"type\":\"timestamp\",\"meta\":{\"special\":[\"date-created\"]},\"schema\":{}}
        $fields]}" >"$PEER_WORK/collection.json"
    grep -q '"collection":"customers"' "$PEER_WORK/collection.json" \
        || { PEER_WHY="directus refused the collection: $(head -c 300 "$PEER_WORK/collection.json")"; return 1; }
    stop_pid "$PEER_PID"
    # the rows: the prepared opsbase tenant's customers, written with SQLite
    $PY - "$PEER_WORK/directus.db" "$WORK/bench.db.orig" <<'EOF' || { PEER_WHY="loading the rows failed"; return 1; }
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("ATTACH ? AS src", ("file:%s?mode=ro" % sys.argv[2],))
db.execute("INSERT INTO customers (id, created_at, customer_code, name, email, company_name, industry, status, city, notes) "
           "SELECT id, replace(replace(created_at, 'T', ' '), 'Z', ''), customer_code, name, email, company_name, "
           "industry, status, city, notes FROM src.customers")
db.execute("CREATE INDEX IF NOT EXISTS customers_created_at ON customers (created_at)")
db.execute("CREATE INDEX IF NOT EXISTS customers_status ON customers (status)")
db.commit()
EOF
    echo "$stamp" >"$PEER_WORK/prepared"
}

peer_bench() {
    PEER_WHY=""
    PEER_PORT=$((PORT + 55))
    PEER_WORK=$WORK/directus
    command -v node >/dev/null || { PEER_WHY="node is not installed (apt-get install nodejs npm)"; return 1; }
    peer_install || return 1
    mkdir -p "$PEER_WORK"
    peer_env
    peer_prepare "$(cat "$WORK/prepared")" || return 1
    # cold start: exec to the first 200 of an authenticated list
    local r t0 ms i
    for r in $(seq 1 "$RUNS"); do
        t0=$(date +%s%N)
        (cd "$PEER_WORK" && exec "$PEER_DIR/node_modules/.bin/directus" start) >>"$LOGDIR/directus.log" 2>&1 &
        PEER_PID=$!
        STARTED_PIDS+=("$PEER_PID")
        for i in $(seq 1 3000); do
            [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $PEER_TOKEN" \
                "http://127.0.0.1:$PEER_PORT/items/customers?limit=1")" = 200 ] && break
            sleep 0.02
        done
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        [ "$i" -lt 3000 ] || { PEER_WHY="directus never answered 200"; stop_pid "$PEER_PID"; return 1; }
        metric peer_cold_start "$r" "$ms" ms
        if [ "$r" -lt "$RUNS" ]; then stop_pid "$PEER_PID"; fi
    done
    sleep 2
    metric peer_rss_idle 1 "$(peer_rss "$PEER_PID")" kB
    sample "$PEER_WORK/directus.db" "SELECT id FROM customers ORDER BY random() LIMIT 10000" "$OUT/peer_ids.txt"
    sample "$PEER_WORK/directus.db" "SELECT id, 1 FROM customers ORDER BY random() LIMIT 20000" "$OUT/peer_patch.txt"
    printf '%s\n' "$PEER_TOKEN" >"$OUT/peer_token.txt"
    local U=http://127.0.0.1:$PEER_PORT SETTLE=/server/ping SETTLE_MS=300
    bench peer_get unpinned unpinned "$U/" BENCH_MODE=get BENCH_PREFIX=/items/customers \
        BENCH_FILE="$OUT/peer_ids.txt" BENCH_TOKEN="$PEER_TOKEN"
    bench peer_list unpinned unpinned "$U/items/customers?filter%5Bstatus%5D%5B_eq%5D=active&sort=-created_at&limit=50" \
        BENCH_TOKEN="$PEER_TOKEN"
    bench peer_search unpinned unpinned "$U/items/customers?search=garcia&limit=50" BENCH_TOKEN="$PEER_TOKEN"
    bench peer_create unpinned unpinned "$U/" BENCH_MODE=create BENCH_PREFIX=/items/customers \
        BENCH_FILE="$OUT/peer_token.txt"
    bench peer_patch unpinned unpinned "$U/" BENCH_MODE=patch BENCH_PREFIX=/items/customers \
        BENCH_FILE="$OUT/peer_patch.txt" BENCH_TOKEN="$PEER_TOKEN"
    metric peer_rss_load 1 "$(peer_rss "$PEER_PID")" kB
    stop_pid "$PEER_PID"
}
