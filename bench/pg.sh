# pg.sh - sourced by run.sh (and by `make bench-pg` through run.sh with
# BENCH_ONLY=pg): the same cases on PostgreSQL 15. A throw-away cluster of its
# own (initdb into the work directory, 127.0.0.1 only, durable: fsync and
# synchronous_commit on, as SQLite's synchronous=FULL), opsbase on it
# (`serve --db`), the libpq ceiling (bench/ceiling/pg/) on a copy of the same
# customers table, and Directus on PostgreSQL as the peer when it can run.
# Skipped with one line when no PostgreSQL 15+ binaries are found.
#
# Needs OPSBASE, WORK, OUT, PORT, RUNS, SMOKE set (run.sh sets them).
#
# Data (prepared once, kept in $WORK/pg-data.orig, restored before each group):
#   tenant_bench    100,000 customers (smoke: 5,000) from bench/gen_data.py
#   tenant_m001..   1,000 customers each: the 100-tenant mix (smoke: 5)
#   public.ceiling_customers  a copy of tenant_bench.customers with an index on
#                   (status, created_at DESC), the table the ceiling serves

PG_PREP_VERSION=2
PG_SYS_USER=opsbase-bench

# The newest PostgreSQL server binaries (OPSBASE_PG_BINDIR overrides), >= 15.
pg_bindir() {
    local d=${OPSBASE_PG_BINDIR:-} v
    if [ -z "$d" ]; then
        d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -1)
    fi
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] || return 1
    v=$("$d/pg_ctl" --version | sed -n 's/.* \([0-9][0-9]*\)[.0-9]*.*/\1/p')
    [ "${v:-0}" -ge 15 ] || return 1
    echo "$d"
}

# Run a server binary as the cluster's owner (initdb refuses root).
pg_as() {
    if [ "$(id -u)" = 0 ]; then
        setpriv --reuid "$PG_SYS_USER" --regid "$PG_SYS_USER" --clear-groups "$@"
    else
        "$@"
    fi
}

pg_ctl_start() {
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 120 \
        -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200 -c shared_buffers=256MB ${PG_EXTRA_OPTS:-}" start \
        >/dev/null || die "PostgreSQL did not start (see $PG_DIR/server.log)"
    PG_RUNNING=1
}

pg_ctl_stop() {
    [ "${PG_RUNNING:-0}" = 1 ] || return 0
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    PG_RUNNING=0
}

pg_psql() { # [psql args...]
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d opsbase "$@"
}

# A fresh cluster with an empty database `opsbase` in $PG_DIR/data.
pg_init() {
    if [ "$(id -u)" = 0 ] && ! id "$PG_SYS_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_SYS_USER" || die "useradd failed"
    fi
    rm -rf "$PG_DIR"
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown "$PG_SYS_USER:" "$PG_DIR"
    pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 \
        || die "initdb failed (see $PG_DIR/initdb.log)"
    pg_ctl_start
    pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres opsbase || die "createdb failed"
}

pg_new_tenant() { # SLUG
    "$OPSBASE" tenant create "$1" --plan enterprise --owner-email "owner@$1.test" --owner-password "$OWNER_PASS" \
        --db "$PG_URL" --data "$PG_FILES" >/dev/null || die "tenant create $1 on PostgreSQL failed"
}

# Rebuilt when the tables it fills, the generator or this file's data change.
pg_stamp() {
    { "$OPSBASE" schema --json | $PY -c 'import json, sys
d = json.load(sys.stdin)
print(json.dumps([t for t in d["tables"] if t["name"] in ("customers", "users", "sequences")]))'
        cat "$BENCH_DIR/gen_data.py" "$BENCH_DIR/pg_gen.py"
        echo "v=$PG_PREP_VERSION smoke=$SMOKE bin=$PG_BIN"; } | md5sum | cut -c1-32
}

# Prepare (once) and start the cluster; PG_URL is opsbase's database.
pg_prepare() {
    PG_DIR=$WORK/pg
    PG_PORT=$((PORT + 70))
    PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/opsbase"
    PG_FILES=$WORK/pg-files
    local stamp
    stamp=$(pg_stamp)
    if [ -f "$WORK/pg.prepared" ] && [ "$(cat "$WORK/pg.prepared")" = "$stamp" ] && [ -d "$WORK/pg-data.orig" ]; then
        pg_restore
        # a migration is applied on top of the copy (again on every run until the
        # data is prepared anew) and leaves the copy counted as clean
        log "PostgreSQL data is up to date; migrating it to this binary"
        timeout 600 "$OPSBASE" migrate --db "$PG_URL" --data "$PG_FILES" >/dev/null || die "opsbase migrate failed"
        return 0
    fi
    log "preparing the PostgreSQL cluster in $PG_DIR (once; kept for later runs)"
    rm -rf "$WORK/pg.prepared" "$WORK/pg-data.orig" "$PG_FILES"
    pg_dirty
    # the load is not measured: made without fsync, then stopped cleanly and
    # copied; every measured start runs durable
    PG_EXTRA_OPTS="-c fsync=off -c full_page_writes=off -c synchronous_commit=off" pg_init
    local big=100000 mix=100 i t
    [ "$SMOKE" = 1 ] && { big=5000; mix=5; }
    pg_new_tenant bench
    $PY "$BENCH_DIR/pg_gen.py" tenant_bench --customers "$big" | pg_psql >/dev/null || die "loading tenant_bench failed"
    for i in $(seq 1 "$mix"); do
        t=$(printf 'm%03d' "$i")
        pg_new_tenant "$t"
        $PY "$BENCH_DIR/pg_gen.py" "tenant_$t" --customers 1000 --seed $((5 + i)) | pg_psql >/dev/null \
            || die "loading tenant_$t failed"
    done
    # the ceiling's table: the same rows and columns, indexed for its list
    pg_psql -c "CREATE TABLE public.ceiling_customers (LIKE tenant_bench.customers INCLUDING ALL);
        INSERT INTO public.ceiling_customers SELECT * FROM tenant_bench.customers;
        CREATE INDEX ceiling_status_created ON public.ceiling_customers (status, created_at DESC);" \
        -c "VACUUM ANALYZE public.ceiling_customers" >/dev/null || die "cannot make the ceiling's table"
    # Only the loaded tables are analyzed (pg_gen.py: each tenant's customers).
    # Statistics taken now of the nearly empty tables the runs write to
    # (audit_logs above all) would say "one page" while a run adds thousands of
    # rows: a generic plan cached from them scans the whole table for the
    # audit chain's head on every write. Never analyzed, the planner sizes
    # them by their pages on disk, as autovacuum soon does on a live server.
    pg_ctl_stop
    cp -a "$PG_DIR/data" "$WORK/pg-data.orig"
    echo "$stamp" >"$WORK/pg.prepared"
    pg_ctl_start
    log "PostgreSQL data ready"
}

# Put the cluster back to its prepared state (a stopped copy of the data
# directory, 2.6 GB in some 100,000 files with 100 tenants), so every group of
# cases starts from the same rows. $WORK/pg.clean says nothing has written to
# the cluster since the last copy, which is then skipped.
pg_restore() {
    pg_ctl_stop
    if [ -f "$WORK/pg.clean" ] && [ -d "$PG_DIR/data" ]; then
        pg_ctl_start
        return 0
    fi
    mkdir -p "$PG_DIR"
    rm -rf "$PG_DIR/data"
    cp -a "$WORK/pg-data.orig" "$PG_DIR/data"
    touch "$WORK/pg.clean"
    pg_ctl_start
}

# Anything that writes to the cluster calls this first.
pg_dirty() { rm -f "$WORK/pg.clean"; }

# "id version" of 20,000 random customers of the bench tenant, read while the
# server runs (patch sends If-Match with them).
pg_patch_sample() {
    pg_psql -At -F ' ' -c "SELECT id, version FROM tenant_bench.customers ORDER BY random() LIMIT 20000" \
        >"$OUT/pg_patch.txt"
}

pg_tenants_file() { # PORT N OUT: "token id..." per tenant m001..mN
    local i t tok
    : >"$3"
    for i in $(seq 1 "$2"); do
        t=$(printf 'm%03d' "$i")
        tok=$(login "$1" "$t" "owner@$t.test")
        [ -n "$tok" ] || die "login to $t on PostgreSQL failed"
        printf '%s %s\n' "$tok" "$(pg_psql -At -c "SELECT string_agg(id, ' ') FROM (SELECT id FROM tenant_$t.customers
            ORDER BY random() LIMIT 20) s")" >>"$3"
    done
}

pg_start_ceiling() { # PIN
    # shellcheck disable=SC2046
    $(pin_prefix "$1" "$SERVER_CPU") "$CEILING_PG" --port "$PORT" --threads "$PG_THREADS" \
        --pg "$PG_URL" --table public.ceiling_customers >>"$LOGDIR/ceiling-pg.log" 2>&1 &
    SRV_PID=$!
    STARTED_PIDS+=("$SRV_PID")
    wait_http "http://127.0.0.1:$PORT/fixed" 60 || die "the libpq ceiling did not start on port $PORT"
}

# The whole PostgreSQL part; returns 0 with PG_WHY set when it is skipped.
pg_bench() {
    PG_WHY=""
    PG_BIN=$(pg_bindir) || { PG_WHY="skipped: no PostgreSQL 15 or later server binaries (apt-get install postgresql-15)"; return 0; }
    command -v psql >/dev/null || { PG_WHY="skipped: no psql"; return 0; }
    pkg-config --exists libpq || { PG_WHY="skipped: no libpq (apt-get install libpq-dev)"; return 0; }
    CEILING_PG=$WORK/ceiling-pg
    trap 'stop_all; pg_ctl_stop' EXIT
    build_ceiling_pg "$CEILING_PG"
    pg_prepare
    # the ceiling's threads (and so its connections) are opsbase's: two per core
    PG_THREADS=$(( $(nproc) < 2 ? 4 : 2 * $(nproc) ))
    echo "PostgreSQL: $("$PG_BIN/postgres" --version | sed 's/.*) //'), fsync on, synchronous_commit on, shared_buffers 256MB; ceiling threads/connections: $PG_THREADS" \
        >>"$OUT/machine.txt"
    PG_MIX_N=100
    [ "$SMOKE" = 1 ] && PG_MIX_N=5
    pg_psql -At -c "SELECT id FROM tenant_bench.customers ORDER BY random() LIMIT 10000" >"$OUT/pg_ids.txt"
    echo none >"$OUT/none.txt"
    local pin U tok round pins=pinned
    [ "${BENCH_PG_UNPINNED:-0}" = 1 ] && pins="pinned unpinned"
    U=http://127.0.0.1:$PORT
    for pin in $pins; do
        # the prepared rows once per group (the creates of a few runs add a few
        # thousand rows to 100,000); tokens made now outlive the restarts
        pg_restore
        pg_dirty
        start_opsbase "$PG_FILES" "$PORT" "$pin" --db "$PG_URL"
        tok=$(login "$PORT" bench owner@bench.test)
        [ -n "$tok" ] || die "login to bench on PostgreSQL failed"
        printf '%s\n' "$tok" >"$OUT/pg_token.txt"
        pg_tenants_file "$PORT" "$PG_MIX_N" "$OUT/pg_mix.txt"
        stop_pid "$SRV_PID"
        # ceiling and opsbase alternate, run by run, so machine noise hits both
        for round in $(seq 1 "$RUNS"); do
            log "PostgreSQL run $round: ceiling, $pin"
            pg_start_ceiling "$pin"
            RUNS=1 SETTLE=/fixed bench pg_ceiling_get "$pin" "$pin" "$U/" BENCH_MODE=get BENCH_FILE="$OUT/pg_ids.txt"
            RUNS=1 SETTLE=/fixed bench pg_ceiling_list "$pin" "$pin" "$U/api/v1/customers?status=active"
            RUNS=1 SETTLE=/fixed bench pg_ceiling_insert "$pin" "$pin" "$U/" BENCH_MODE=create BENCH_FILE="$OUT/none.txt"
            stop_pid "$SRV_PID"
            log "PostgreSQL run $round: opsbase, $pin"
            start_opsbase "$PG_FILES" "$PORT" "$pin" --db "$PG_URL"
            RUNS=1 bench pg_get "$pin" "$pin" "$U/api/v1/customers" BENCH_MODE=get BENCH_FILE="$OUT/pg_ids.txt" \
                BENCH_TOKEN="$tok"
            RUNS=1 bench pg_list "$pin" "$pin" "$U/api/v1/customers?$LIST_Q" BENCH_TOKEN="$tok"
            RUNS=1 bench pg_create "$pin" "$pin" "$U/" BENCH_MODE=create BENCH_FILE="$OUT/pg_token.txt"
            RUNS=1 BEFORE_RUN=pg_patch_sample bench pg_patch "$pin" "$pin" "$U/" BENCH_MODE=patch \
                BENCH_FILE="$OUT/pg_patch.txt" BENCH_TOKEN="$tok"
            RUNS=1 bench pg_mix100 "$pin" "$pin" "$U/api/v1/customers" BENCH_MODE=mix BENCH_FILE="$OUT/pg_mix.txt"
            stop_pid "$SRV_PID"
        done
    done
    if [ "${BENCH_PEER:-1}" = 1 ]; then
        pg_peer_bench || log "Directus on PostgreSQL could not be measured: $PG_PEER_WHY (continuing)"
    else
        PG_PEER_WHY="skipped (BENCH_PEER=0)"
    fi
    printf '%s\n' "${PG_PEER_WHY:-}" >"$OUT/pg_peer.txt"
    pg_ctl_stop
}

# build_ceiling_pg OUT: the libpq ceiling, outside the opsbase build on purpose.
build_ceiling_pg() {
    log "building the libpq ceiling server"
    # shellcheck disable=SC2046
    cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$1" "$BENCH_DIR"/ceiling/pg/*.c \
        $(pkg-config --cflags --libs libmicrohttpd libpq jansson) -lpthread || die "libpq ceiling build failed"
}

# --- Directus on PostgreSQL (the peer) -------------------------------------------
# The same install as bench/peer.sh (bench/peer/, with the `pg` driver), a
# database `directus` in the same cluster, the collection made through its API
# as on SQLite, the bench tenant's 100,000 customers copied in, indexes on
# status and created_at. Made again on every run (about a minute): keeping it
# in the prepared copy would mean copying the whole cluster once more.
pg_peer_env() {
    PEER_PORT=$((PORT + 55))
    PEER_WORK=$WORK/directus-pg
    mkdir -p "$PEER_WORK/extensions" "$PEER_WORK/uploads"
    peer_env
    export DB_CLIENT=pg DB_HOST=127.0.0.1 DB_PORT=$PG_PORT DB_DATABASE=directus DB_USER=postgres DB_PASSWORD=
    unset DB_FILENAME
}

pg_peer_prepare() {
    pg_dirty
    log "preparing Directus data in PostgreSQL (database directus)"
    pg_psql -c "DROP DATABASE IF EXISTS directus" -c "CREATE DATABASE directus" >/dev/null \
        || { PG_PEER_WHY="cannot create the database directus"; return 1; }
    (cd "$PEER_WORK" && timeout 300 "$PEER_DIR/node_modules/.bin/directus" bootstrap) >>"$LOGDIR/directus-pg.log" 2>&1 \
        || { PG_PEER_WHY="directus bootstrap on PostgreSQL failed (see $LOGDIR/directus-pg.log)"; return 1; }
    peer_start || { PG_PEER_WHY="directus on PostgreSQL did not start"; return 1; }
    PEER_AUTH=$(curl -s -X POST "http://127.0.0.1:$PEER_PORT/auth/login" -H 'Content-Type: application/json' \
        -d "{\"email\":\"admin@example.com\",\"password\":\"$PEER_PASS\"}" |
        $PY -c 'import json, sys; print(json.load(sys.stdin)["data"]["access_token"])') \
        || { PG_PEER_WHY="directus login failed"; stop_pid "$PEER_PID"; return 1; }
    peer_api PATCH /users/me "{\"token\":\"$PEER_TOKEN\"}" >/dev/null
    local fields="" c
    for c in customer_code name email company_name industry status city notes; do
        fields+=",{\"field\":\"$c\",\"type\":\"string\",\"schema\":{\"is_nullable\":true}}"
    done
    peer_api POST /collections "{\"collection\":\"customers\",\"schema\":{},\"meta\":{},\"fields\":[
        {\"field\":\"id\",\"type\":\"uuid\",\"meta\":{\"special\":[\"uuid\"]},\"schema\":{\"is_primary_key\":true}},
        {\"field\":\"created_at\",\"type\":\"timestamp\",\"meta\":{\"special\":[\"date-created\"]},\"schema\":{}}
        $fields]}" >"$PEER_WORK/collection.json"
    stop_pid "$PEER_PID"
    grep -q '"collection":"customers"' "$PEER_WORK/collection.json" \
        || { PG_PEER_WHY="directus refused the collection: $(head -c 300 "$PEER_WORK/collection.json")"; return 1; }
    local cols="id, created_at, customer_code, name, email, company_name, industry, status, city, notes"
    pg_psql -c "\\copy (SELECT $cols FROM tenant_bench.customers) TO STDOUT" |
        pg_psql -d directus -c "\\copy customers ($cols) FROM STDIN" \
        || { PG_PEER_WHY="copying the rows into Directus' table failed"; return 1; }
    pg_psql -d directus -c "CREATE INDEX customers_created_at ON customers (created_at);
        CREATE INDEX customers_status ON customers (status);" -c "VACUUM ANALYZE customers" >/dev/null \
        || { PG_PEER_WHY="indexing Directus' table failed"; return 1; }
}

pg_peer_bench() {
    PG_PEER_WHY=""
    command -v node >/dev/null || { PG_PEER_WHY="node is not installed (apt-get install nodejs npm)"; return 1; }
    peer_install || { PG_PEER_WHY=$PEER_WHY; return 1; }
    [ -d "$PEER_DIR/node_modules/pg" ] || { PG_PEER_WHY="the pg driver is missing from $PEER_DIR"; return 1; }
    pg_peer_env
    pg_peer_prepare || return 1
    peer_start || { PG_PEER_WHY="directus on PostgreSQL did not start"; return 1; }
    pg_psql -d directus -At -c "SELECT id FROM customers ORDER BY random() LIMIT 10000" >"$OUT/pg_peer_ids.txt"
    pg_psql -d directus -At -F ' ' -c "SELECT id, 1 FROM customers ORDER BY random() LIMIT 20000" \
        >"$OUT/pg_peer_patch.txt"
    printf '%s\n' "$PEER_TOKEN" >"$OUT/peer_token.txt"
    local U=http://127.0.0.1:$PEER_PORT SETTLE=/server/ping SETTLE_MS=300
    bench pg_peer_get unpinned unpinned "$U/" BENCH_MODE=get BENCH_PREFIX=/items/customers \
        BENCH_FILE="$OUT/pg_peer_ids.txt" BENCH_TOKEN="$PEER_TOKEN"
    bench pg_peer_list unpinned unpinned \
        "$U/items/customers?filter%5Bstatus%5D%5B_eq%5D=active&sort=-created_at&limit=50" BENCH_TOKEN="$PEER_TOKEN"
    bench pg_peer_create unpinned unpinned "$U/" BENCH_MODE=create BENCH_PREFIX=/items/customers \
        BENCH_FILE="$OUT/peer_token.txt"
    bench pg_peer_patch unpinned unpinned "$U/" BENCH_MODE=patch BENCH_PREFIX=/items/customers \
        BENCH_FILE="$OUT/pg_peer_patch.txt" BENCH_TOKEN="$PEER_TOKEN"
    stop_pid "$PEER_PID"
}

# BENCH_ONLY=pg: only this part; its table goes to $OUT/pg.md and standard
# output, and results.md is left as it is (its PostgreSQL figures are added to
# the analysis by hand, dated).
pg_only() {
    {
        echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
        echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
        echo "nproc: $(nproc)"
        echo "duration: ${DURATION}s per wrk run, $RUNS runs, $CONNS connections"
        echo "load before: $(uptime | sed 's/.*load average/load average/')"
    } >"$OUT/machine.txt"
    pg_bench
    echo "load after: $(uptime | sed 's/.*load average/load average/')" >>"$OUT/machine.txt"
    printf '%s\n' "$PG_WHY" >"$OUT/pg.txt"
    $PY "$BENCH_DIR/report_pg.py" "$OUT" | tee "$OUT/pg.md"
    [ "$FAILED" = 0 ] || die "some requests failed (see $OUT/wrk.log)"
}
