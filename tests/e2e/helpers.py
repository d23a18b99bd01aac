"""Shared helpers for the opsbase end-to-end tests.

Nothing here starts processes on its own; conftest.py owns the server and the
data directory. These helpers wrap the command line, the HTTP client and the
assertions every test repeats (error shape, unique values, record lookups).
"""
import contextlib
import datetime
import json
import os
import random
import re
import sqlite3
import string
import subprocess
import uuid

import httpx

TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DATE_RE = re.compile(r"^\d{4}-\d\d-\d\d$")

OWNER_PASSWORD = "Owner-pass-123!"
USER_PASSWORD = "User-pass-123!"

# An id that is well formed (UUIDv7 layout) but never issued by the server.
MISSING_ID = "01900000-0000-7000-8000-000000000000"
# The schedules every new tenant is given (their jobs may appear in any test
# that crosses their time: crm.follow_ups runs every 15 minutes).
SEEDED_SCHEDULE_KINDS = ("documents.purge", "loyalty.expire", "crm.follow_ups", "kpis.compute", "reports.scheduled",
                         "automation.run", "services.sla_check", "tickets.sla_check")
# The notification templates every new tenant is given, by code.
SEEDED_TEMPLATE_CODES = ("crm_follow_up_overdue", "ndr_follow_up", "ndr_opened", "ndr_reattempt_scheduled")

HTTP_TIMEOUT = 15.0
# The longest a background step (a job, a schedule's run) may take before a
# test gives up: generous, because the suites run two servers at once under
# ASan on two cores; a step that never happens still fails.
WAIT_S = float(os.environ.get("OPSBASE_TEST_WAIT", "90"))
CLI_TIMEOUT = 60.0


def uniq(prefix="x"):
    """A value no other test (or earlier run) uses."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def word(n=12):
    """A unique purely alphabetic word, so full-text tokenizers keep it whole."""
    return "".join(random.choice(string.ascii_lowercase) for _ in range(n))


def slug():
    """A tenant slug: lower-case letters and digits, starting with a letter."""
    return "t" + uuid.uuid4().hex[:11]


def parse_ts(value):
    assert isinstance(value, str) and TS_RE.match(value), f"not a ms UTC timestamp: {value!r}"
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)


def fmt_ts(dt):
    dt = dt.astimezone(datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def as_obj(value):
    """Audit old_values/new_values/changed_fields may be JSON or JSON text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def show(resp):
    return f"{resp.request.method} {resp.request.url} -> {resp.status_code} {resp.text[:800]}"


def assert_json(resp):
    ctype = resp.headers.get("content-type", "")
    assert ctype.split(";")[0].strip().lower() == "application/json", (
        f"Content-Type {ctype!r}: {show(resp)}")
    try:
        return resp.json()
    except ValueError as exc:  # pragma: no cover - reported as a failure
        raise AssertionError(f"body is not JSON: {show(resp)}") from exc


def ok(resp, status=200):
    """Assert a success status and return the JSON body."""
    assert resp.status_code == status, show(resp)
    return assert_json(resp)


def expect_error(resp, status, code, field=None):
    """Assert the documented error shape; return the error object."""
    assert resp.status_code == status, f"expected {status} {code}: {show(resp)}"
    body = assert_json(resp)
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), show(resp)
    e = body["error"]
    assert e.get("code") == code, f"expected code {code}: {show(resp)}"
    assert isinstance(e.get("message"), str) and e["message"], show(resp)
    if field is not None:
        fields = e.get("fields") or {}
        assert e.get("field") == field or field in fields, (
            f"error does not name field {field!r}: {show(resp)}")
    return e


def error_fields(e):
    """Every field an error names, from `field` and `fields`."""
    names = set((e.get("fields") or {}).keys())
    if e.get("field"):
        names.add(e["field"])
    return names


class ApiClient(httpx.Client):
    """An httpx client bound to one logged-in user."""

    token = None
    user = None
    tenant = None


def login_raw(base_url, tenant, email, password):
    with httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT) as c:
        return c.post("/api/v1/auth/login",
                      json={"tenant": tenant, "email": email, "password": password})


def page(client, table, params=None):
    r = client.get(f"/api/v1/{table}", params=params or {})
    body = ok(r)
    assert set(body.keys()) >= {"data", "next_cursor"}, show(r)
    return body


def list_all(client, table, params=None, limit=200, max_pages=100):
    """Every row of a listing, following next_cursor."""
    params = dict(params or {})
    params["limit"] = str(limit)
    rows = []
    for _ in range(max_pages):
        body = page(client, table, params)
        rows.extend(body["data"])
        if not body["next_cursor"]:
            return rows
        params["cursor"] = body["next_cursor"]
    raise AssertionError(f"listing {table} did not end after {max_pages} pages")


def rows_where(client, table, **filters):
    return list_all(client, table, {k: str(v) for k, v in filters.items()})


def get(client, table, rid):
    return ok(client.get(f"/api/v1/{table}/{rid}"))


def create(client, table, body, status=201, headers=None):
    return ok(client.post(f"/api/v1/{table}", json=body, headers=headers or {}), status)


def create_customer(client, **fields):
    body = {"customer_code": uniq("C-"), "company_name": "Cust " + uniq()}
    body.update(fields)
    return create(client, "customers", body)


def create_category(client, **fields):
    body = {"name": "Cat " + uniq()}
    body.update(fields)
    return create(client, "categories", body)


def create_ticket(client, customer_id, **fields):
    body = {"title": "Ticket " + uniq(), "description": "Something is broken",
            "customer_id": customer_id}
    body.update(fields)
    return create(client, "tickets", body)


def create_document(client, **fields):
    body = {"title": "Doc " + uniq(), "content": "Knowledge base article body"}
    body.update(fields)
    return create(client, "documents", body)


def user_id_by_email(client, email):
    rows = rows_where(client, "users", email=email)
    assert len(rows) == 1, f"users?email={email} gave {len(rows)} rows"
    return rows[0]["id"]


def find_role_id(client, name):
    """The id of the role called `name`; the column naming it may be name, code or role_name."""
    for row in list_all(client, "roles"):
        for key in ("name", "code", "role_name", "slug", "role_code"):
            v = row.get(key)
            if isinstance(v, str) and v.lower() == name.lower():
                return row["id"]
    raise AssertionError(f"no role named {name!r}")


def ticket_count(client, user_id):
    return get(client, "users", user_id)["current_ticket_count"]


def audit_rows(client, **filters):
    return rows_where(client, "audit_logs", **filters)


class Cli:
    """Runs the opsbase binary against the session's data directory."""

    def __init__(self, binary, data_dir):
        self.binary = str(binary)
        self.data = str(data_dir)

    def run(self, *args, check=True, data=True, timeout=CLI_TIMEOUT):
        argv = [self.binary, *[str(a) for a in args]]
        if data:
            argv += ["--data", self.data]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError(
                f"{' '.join(argv)} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def tenant_create(self, slug_, plan="business", owner_email=None,
                      owner_password=OWNER_PASSWORD, extra=(), check=True):
        owner_email = owner_email or f"owner@{slug_}.test"
        r = self.run("tenant", "create", slug_, "--plan", plan, "--owner-email", owner_email,
                     "--owner-password", owner_password, *extra, check=check)
        if r.returncode == 0:
            relax_session_policy(self.data, slug_)
        return r

    def user_create(self, tenant, email, role, password=USER_PASSWORD, check=True):
        return self.run("user", "create", "--tenant", tenant, "--email", email, "--role", role,
                        "--password", password, check=check)


def tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def raw_request(base_url, method, path, headers, body, timeout=HTTP_TIMEOUT):
    """One HTTP/1.1 request over a plain socket. Write errors are ignored (a server
    may answer and close before reading everything); the response is then read.
    Returns (status, lower-cased headers, body bytes)."""
    import socket
    import urllib.parse

    u = urllib.parse.urlsplit(base_url)
    hdrs = {"Host": u.netloc, "Connection": "close"}
    hdrs.update(headers)
    if "Content-Length" not in hdrs:
        hdrs["Content-Length"] = str(len(body))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        try:
            s.sendall(head.encode() + b"\r\n")
            for i in range(0, len(body), 65536):
                s.sendall(body[i:i + 65536])
        except OSError:
            pass
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data:
                    top, rest = data.split(b"\r\n\r\n", 1)
                    m = re.search(rb"(?im)^content-length:\s*(\d+)", top)
                    if m and len(rest) >= int(m.group(1)):
                        break
        except OSError as exc:
            if b"\r\n\r\n" not in data:
                raise AssertionError(f"no response to {method} {path}: {exc}") from exc
    assert b"\r\n\r\n" in data, f"no complete response to {method} {path}: {data[:200]!r}"
    top, rest = data.split(b"\r\n\r\n", 1)
    lines = top.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    out = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        out[k.strip().lower()] = v.strip()
    if "content-length" in out:
        rest = rest[:int(out["content-length"])]
    return status, out, rest


def upload_file(client, content=None, name="doc.pdf", ctype="application/pdf", **fields):
    """Upload content (a small unique PDF by default) to /api/v1/files; the files row."""
    if content is None:
        content = b"%PDF-1.4\n" + uniq("pdf").encode() + b"\n%%EOF\n"
    r = client.post("/api/v1/files", files={"file": (name, content, ctype)},
                    data={k: str(v) for k, v in fields.items()})
    return ok(r, 201)


@contextlib.contextmanager
def sqlite_db(path, **kw):
    """A connection to an SQLite file that is closed on leaving the block, after
    committing (or rolling back on an error). sqlite3's own `with` ends only the
    transaction: the handle stays open until garbage collection, and while the
    test process holds a tenant's database open SQLite treats its shared-memory
    index as live, so a server restarted after a SIGKILL trusts the stale index
    instead of recovering the WAL, and a commit the killed server had written
    and synced is not seen (tests/crash found this)."""
    con = sqlite3.connect(str(path), **kw)
    try:
        with con:
            yield con
    finally:
        con.close()


def pause_seeded_schedule(client, kind):
    """Disable the tenant's seeded schedule of a kind (every five minutes for
    the SLA checks), so a test that runs that job by hand and counts its runs
    sees only its own. Returns the server's time of the pause: a slot that
    fired before it made a job created no later (filter jobs after it)."""
    since = ""
    for s in list_all(client, "schedules", {"kind": kind}):
        since = max(since, ok(client.patch(f"/api/v1/schedules/{s['id']}", json={"enabled": False}))["updated_at"])
    return since


def tenant_sql(server, slug, sql):
    """Run one SQL statement in a tenant's database on the session's engine, as
    an operator would by hand: for back-dating rows the server stamps."""
    if server.db_url:
        schema = "tenant_" + slug.replace("-", "_")
        subprocess.run(["psql", server.db_url, "-v", "ON_ERROR_STOP=1", "-qc", f'SET search_path TO "{schema}"; {sql}'],
                       check=True, capture_output=True)
    else:
        with sqlite_db(server.data / "tenants" / f"{slug}.db") as c:
            c.execute(sql)


# Session policy of the suite's tenants (issue #17). A new tenant gets seed
# 001's defaults: 30 minutes idle, 3 sessions per user, sessions end when a
# user's roles change, bearer tokens last 15 minutes. The suite signs the
# same users in many times, keeps tokens for the whole run and grants roles
# to signed-in users, so tenants made through Cli.tenant_create get a relaxed
# policy; test_sessions_policy.py and test_refresh_tokens.py set the real one.
RELAXED_SESSION_SETTINGS = {"session_timeout_minutes": 1440, "max_concurrent_sessions": 1000,
                            "force_logout_on_role_change": False, "access_token_minutes": 1440}
RELAXED_SESSION_POLICY = "UPDATE security_settings SET " + ", ".join(
    f"{k} = {str(v).lower()}" for k, v in RELAXED_SESSION_SETTINGS.items())


def relax_session_policy(data_dir, slug_):
    url = os.environ.get("OPSBASE_DB")
    if url:
        schema = "tenant_" + slug_.replace("-", "_")
        subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qc",
                        f'SET search_path TO "{schema}"; {RELAXED_SESSION_POLICY}'], check=True, capture_output=True)
    else:
        with sqlite_db(os.path.join(str(data_dir), "tenants", f"{slug_}.db")) as c:
            c.execute(RELAXED_SESSION_POLICY)


def own_store(opsbase_bin, tmp_path, pg_url=None, unset=()):
    """A store of one test's own with tenant jk (owner@jk.test): returns its data
    directory, the environment its commands and servers run with (OPSBASE_DB is
    pg_url's, or none for SQLite; the names in unset are removed) and a cli(*args)
    that runs opsbase on it."""
    data = tmp_path / "data"
    env = dict(os.environ)
    for name in ("OPSBASE_DB", *unset):
        env.pop(name, None)
    if pg_url:
        env["OPSBASE_DB"] = pg_url

    def cli(*args, check=True):
        return subprocess.run([str(opsbase_bin), *args, "--data", str(data)], env=env, capture_output=True,
                              text=True, timeout=60, check=check)

    cli("tenant", "create", "jk", "--plan", "business", "--owner-email", "owner@jk.test",
        "--owner-password", OWNER_PASSWORD)
    return data, env, cli
