#!/bin/sh
# tests/reliability/valgrind.sh [BINARY] - valgrind memcheck smoke run of
# `opsbase serve` under a short e2e-like workload (login, create, read, list,
# patch with If-Match, ticket workflow, bad input, logout), then SIGTERM.
# Passes when memcheck reports 0 errors and 0 bytes definitely lost.
# Needs valgrind (Debian package valgrind). BINARY defaults to build/opsbase.
set -u
cd "$(dirname "$0")/../.."
bin=${1:-build/opsbase}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind: not installed (apt-get install valgrind)" >&2; exit 1; }
[ -x "$bin" ] || { echo "valgrind: no binary at $bin (run make)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/opsbase-valgrind.XXXXXX")
trap 'rm -rf "$dir"' EXIT
data="$dir/data"
log="$dir/memcheck.log"
"$bin" tenant create acme --plan business --owner-email owner@acme.test --owner-password 'Owner-pass-123!' \
    --data "$data" >/dev/null || exit 1
"$bin" user create --tenant acme --email agent@acme.test --role agent --password 'User-pass-123!' \
    --data "$data" >/dev/null || exit 1
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
    --track-origins=yes --num-callers=30 --log-file="$log" \
    "$bin" serve --data "$data" --listen "127.0.0.1:$port" --threads 2 2>"$dir/stderr" &
pid=$!
/usr/bin/python3 - "$port" <<'PY'
import sys, time, httpx
url = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 120
while True:
    try:
        if httpx.get(url + "/healthz", timeout=5).status_code == 200:
            break
    except httpx.HTTPError:
        pass
    if time.monotonic() > deadline:
        sys.exit("server did not start under valgrind")
    time.sleep(0.5)
c = httpx.Client(base_url=url, timeout=120)
r = c.post("/api/v1/auth/login", json={"tenant": "acme", "email": "owner@acme.test", "password": "Owner-pass-123!"})
assert r.status_code == 200, r.text
c.headers["Authorization"] = "Bearer " + r.json()["token"]
def want(r, s):
    assert r.status_code == s, f"{r.request.method} {r.request.url}: {r.status_code} {r.text[:300]}"
    return r.json()
for i in range(5):
    cu = want(c.post("/api/v1/customers", json={"customer_code": f"V-{i}", "company_name": "V", "credit_limit": "12.50"},
                     headers={"Idempotency-Key": f"k{i}"}), 201)
    want(c.post("/api/v1/customers", json={"customer_code": f"V-{i}", "company_name": "V", "credit_limit": "12.50"},
                headers={"Idempotency-Key": f"k{i}"}), 201)
    want(c.get(f"/api/v1/customers/{cu['id']}"), 200)
    want(c.patch(f"/api/v1/customers/{cu['id']}", json={"notes": "n"}, headers={"If-Match": '"1"'}), 200)
    want(c.patch(f"/api/v1/customers/{cu['id']}", json={"notes": "n"}, headers={"If-Match": '"1"'}), 412)
    t = want(c.post("/api/v1/tickets", json={"title": "t", "description": "d", "customer_id": cu["id"]}), 201)
    for ev in ("start", "resolve", "close"):
        want(c.post(f"/api/v1/tickets/{t['id']}/{ev}"), 200)
    want(c.post("/api/v1/ticket_messages", json={"ticket_id": t["id"], "content": "hello"}), 201)
page = want(c.get("/api/v1/customers", params={"limit": "2", "sort": "-created_at"}), 200)
want(c.get("/api/v1/customers", params={"limit": "2", "sort": "-created_at", "cursor": page["next_cursor"]}), 200)
want(c.get("/api/v1/audit_logs", params={"limit": "50"}), 200)
want(c.get("/api/v1/auth/me"), 200)
want(c.get("/api/openapi.json"), 200)
want(c.post("/api/v1/customers", content=b'{"a":', headers={"Content-Type": "application/json"}), 400)
want(c.post("/api/v1/customers", content=b'[' * 100, headers={"Content-Type": "application/json"}), 400)
want(c.get("/api/v1/customers", params={"sort": "nope"}), 400)
want(c.get("/api/v1/customers/01900000-0000-7000-8000-000000000000"), 404)
want(c.delete("/api/v1/customers/01900000-0000-7000-8000-000000000000"), 404)
want(c.post("/api/v1/auth/logout"), 200)
want(c.get("/api/v1/auth/me"), 401)
PY
work=$?
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1 | tr -d ,)
echo "valgrind: workload exit $work, server exit $rc, ${errors:-?} errors, ${definite:-0} bytes definitely lost"
if [ "$work" -ne 0 ] || [ "$rc" -ne 0 ] || [ "${errors:-1}" -ne 0 ] || [ "${definite:-0}" -ne 0 ]; then
    grep -E "^==[0-9]+== (Invalid|Conditional|Use of|Syscall|Mismatched|Source|   at|   by|  Address|[0-9,]+ bytes in)" \
        "$log" | head -60
    tail -5 "$dir/stderr"
    exit 1
fi
