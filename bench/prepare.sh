# prepare.sh - sourced by run.sh and smoke.sh: builds the data directory the
# benchmark reads, once, and keeps it (it is rebuilt when the registry or the
# generator changes). Needs OPSBASE, WORK, SMOKE set.
#
# Tenants (all on plan enterprise, owner owner@<slug>.test, password $OWNER_PASS):
#   bench       100,000 customers and 100,000 tickets, 3 agents (smoke: 5,000 each)
#   m001..m100  1,000 customers each: the 100-tenant mix     (smoke: m001..m005)
#   w1..w8      empty: write throughput across 1, 2, 8 tenants (smoke: w1, w2)
#   s10k, s1m   10,000 and 1,000,000 customers: the scaling curve (not in smoke)
#   m101..m300  empty: RSS with many tenants open (RSS_TENANTS)  (not in smoke)

# Raise when the tenants made below change: the data directory is then rebuilt.
PREP_VERSION=1
RSS_TENANTS=${BENCH_RSS_TENANTS:-300}

new_tenant() {
    "$OPSBASE" tenant create "$1" --plan enterprise --owner-email "owner@$1.test" --owner-password "$OWNER_PASS" \
        --data "$DATA" >/dev/null || die "tenant create $1 failed"
}

# Rebuilt when the tables it fills or the generator change; any other
# registry change is applied by `opsbase migrate`, as on a real install.
data_stamp() {
    { "$OPSBASE" schema --json | $PY -c 'import json, sys
d = json.load(sys.stdin)
print(json.dumps([t for t in d["tables"] if t["name"] in ("customers", "tickets", "users", "sequences")]))'
        cat "$BENCH_DIR/gen_data.py"; echo "v=$PREP_VERSION smoke=$SMOKE rss=$RSS_TENANTS"; } | md5sum | cut -c1-32
}

prepare_data() {
    DATA=$WORK/data
    local stamp
    stamp=$(data_stamp)
    if [ -f "$WORK/prepared" ] && [ "$(cat "$WORK/prepared")" = "$stamp" ]; then
        log "data directory $DATA is up to date; migrating it to this binary"
        rm -f "$DATA/tenants/bench.db-wal" "$DATA/tenants/bench.db-shm"
        cp "$WORK/bench.db.orig" "$DATA/tenants/bench.db"
        timeout 600 "$OPSBASE" migrate --data "$DATA" >/dev/null || die "opsbase migrate failed"
        cp "$DATA/tenants/bench.db" "$WORK/bench.db.orig"
        return 0
    fi
    log "preparing $DATA (once; kept for later runs)"
    rm -rf "$WORK/data" "$WORK/prepared" "$WORK/bench.db.orig"
    mkdir -p "$WORK"
    local big=100000 mix=100 wr=8 i t
    if [ "$SMOKE" = 1 ]; then big=5000; mix=5; wr=2; fi
    new_tenant bench
    for i in 1 2 3; do
        "$OPSBASE" user create --tenant bench --email "agent$i@bench.test" --role agent --password "$OWNER_PASS" \
            --data "$DATA" >/dev/null || die "user create failed"
    done
    $PY "$BENCH_DIR/gen_data.py" "$DATA/tenants/bench.db" --customers "$big" --tickets "$big" \
        || die "gen_data failed"
    local mixdbs=()
    for i in $(seq 1 "$mix"); do
        t=$(printf 'm%03d' "$i")
        new_tenant "$t"
        mixdbs+=("$DATA/tenants/$t.db")
    done
    $PY "$BENCH_DIR/gen_data.py" "${mixdbs[@]}" --customers 1000 || die "gen_data failed"
    for i in $(seq 1 "$wr"); do new_tenant "w$i"; done
    if [ "$SMOKE" != 1 ]; then
        new_tenant s10k
        $PY "$BENCH_DIR/gen_data.py" "$DATA/tenants/s10k.db" --customers 10000 || die "gen_data failed"
        new_tenant s1m
        log "generating 1,000,000 customers (a few minutes)"
        $PY "$BENCH_DIR/gen_data.py" "$DATA/tenants/s1m.db" --customers 1000000 || die "gen_data failed"
        # 1,000 is the aim (BENCH_RSS_TENANTS=1000): tenant create no longer
        # visits the existing tenants, so that costs about 8 minutes and 4 GB
        log "creating tenants m101..m$RSS_TENANTS"
        for i in $(seq 101 "$RSS_TENANTS"); do new_tenant "$(printf 'm%03d' "$i")"; done
    fi
    cp "$DATA/tenants/bench.db" "$WORK/bench.db.orig"
    echo "$stamp" >"$WORK/prepared"
    log "data directory ready"
}

# Put the written-to tenant back to its prepared state, so every run measures
# the same 100,000 rows; the ceiling gets its own copy of the same table.
reset_data() {
    rm -f "$DATA/tenants/bench.db-wal" "$DATA/tenants/bench.db-shm"
    cp "$WORK/bench.db.orig" "$DATA/tenants/bench.db"
    rm -f "$WORK/ceiling.db" "$WORK/ceiling.db-wal" "$WORK/ceiling.db-shm"
    cp "$WORK/bench.db.orig" "$WORK/ceiling.db"
    # the ceiling's "indexed list" is what a hand-written server would index
    # for it: status, then created_at
    $PY -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute(
"CREATE INDEX IF NOT EXISTS ceiling_status_created ON customers (status, created_at)")' "$WORK/ceiling.db" \
        || die "cannot index the ceiling database"
}

# A second data directory with exactly 100 empty tenants (smoke: 5), for the
# cold start (a start reads no tenant database: each is checked on first use).
prepare_cold() {
    COLD=$WORK/cold
    local n=100 i stamp
    [ "$SMOKE" = 1 ] && n=5
    stamp="n=$n v=$PREP_VERSION"
    if [ -f "$WORK/cold.prepared" ] && [ "$(cat "$WORK/cold.prepared")" = "$stamp" ]; then
        timeout 300 "$OPSBASE" migrate --data "$COLD" >/dev/null || die "opsbase migrate failed"
        return 0
    fi
    rm -rf "$COLD" "$WORK/cold.prepared"
    log "preparing $COLD ($n tenants)"
    local save=$DATA
    DATA=$COLD
    for i in $(seq 1 "$n"); do new_tenant "$(printf 'c%03d' "$i")"; done
    DATA=$save
    echo "$stamp" >"$WORK/cold.prepared"
}

# The cold-start directory grown to 1,000 tenants (smoke: 20): the 100 made by
# the command plus copies of c001 (bench/clone_tenants.py: a file copy and its
# control rows each, since 1,000 creates take 8 to 30 minutes). Rebuilt when the
# cold directory is.
prepare_cold_many() {
    local n=1000
    [ "$SMOKE" = 1 ] && n=20
    COLD_MANY=$WORK/cold$n
    local stamp
    stamp="$(cat "$WORK/cold.prepared") n=$n"
    if [ -f "$WORK/cold_many.prepared" ] && [ "$(cat "$WORK/cold_many.prepared")" = "$stamp" ]; then
        timeout 300 "$OPSBASE" migrate --data "$COLD_MANY" >/dev/null || die "opsbase migrate failed"
        return 0
    fi
    rm -rf "$COLD_MANY" "$WORK/cold_many.prepared"
    log "preparing $COLD_MANY ($n tenants, copies of c001)"
    cp -a "$COLD" "$COLD_MANY"
    local have
    have=$(find "$COLD_MANY/tenants" -name '*.db' | wc -l)
    $PY "$BENCH_DIR/clone_tenants.py" "$COLD_MANY" c001 $((n - have)) k >/dev/null || die "clone_tenants failed"
    echo "$stamp" >"$WORK/cold_many.prepared"
}
