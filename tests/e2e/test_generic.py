"""Every tenant table with an API, driven by `opsbase schema --json` alone.

For each table: a row made from its declaration is created, read back equal and
found in the list; every declared constraint kind (required and empty required
text, length, bounds, decimal scale, JSON type, enum values, unique columns and
indexes, references, checks, server-set and unknown fields) refuses a violating
create with its documented status and writes nothing; every edge of a declared
state machine is walked, and every event not allowed from a state is 422 with
the row unchanged; read-only and append-only tables refuse the verbs their
declaration rules out (the `methods` of `schema --json`) with 405 and an Allow
header naming exactly the declared ones.

Runs in a tenant of its own so that "nothing written" can be read as an
unchanged list.
"""
import pytest

import generic as g
import helpers as h

API = "/api/v1"
# tables whose rows are uploads (files) are created by test_files_upload.py
WRITABLE = [t for t in g.API_TABLES if not g.SCHEMA[t]["read_only"] and not g.SCHEMA[t].get("upload")]
READ_ONLY = [t for t in g.API_TABLES if g.SCHEMA[t]["read_only"]]
APPEND_ONLY = [t for t in WRITABLE if g.is_append_only(t)]
MACHINES = [t for t in WRITABLE if g.SCHEMA[t].get("state_machine")]


@pytest.fixture(scope="module")
def tenant(new_tenant):
    return new_tenant()


@pytest.fixture(scope="module")
def owner(tenant):
    return tenant.owner


@pytest.fixture(scope="module")
def f(owner):
    return g.Factory(owner)


@pytest.fixture(scope="module")
def viewer(tenant, cli, login):
    """A user of the tenant with the viewer role: it reads, and holds no event's permission."""
    email = f"viewer@{tenant.slug}.test"
    cli.user_create(tenant.slug, email, "viewer")
    return login(tenant.slug, email)


def test_the_registry_is_covered():
    assert len(g.API_TABLES) >= 80, g.API_TABLES
    assert READ_ONLY and APPEND_ONLY and MACHINES


# ---------------------------------------------------------------- create

@pytest.mark.parametrize("table", WRITABLE)
def test_create_read_back_and_list(owner, f, table):
    body = f.body(table)
    if g.is_singleton(table):
        (only,) = h.list_all(owner, table)
        h.expect_error(owner.post(f"{API}/{table}", json=body), 409, "conflict")
        assert h.list_all(owner, table) == [only]
        return
    f.writes += 1
    r = owner.post(f"{API}/{table}", json=body)
    row = h.ok(r, 201)
    for k in g.REVEALED_ON_CREATE.get(table, ()):
        assert row.pop(k), f"{table}: the create answers {k} once"
    assert r.headers.get("etag") or g.is_append_only(table), h.show(r)
    assert r.headers.get("location", "").endswith(f"/api/v1/{table}/{row['id']}"), h.show(r)
    for name, sent in body.items():
        c = g.col(table, name)
        if c.get("secret"):
            continue
        assert name in row and g.same(sent, row[name], c), (
            f"{table}.{name}: sent {sent!r}, got {row.get(name)!r}")
    assert h.get(owner, table, row["id"]) == row
    listed = [x for x in h.list_all(owner, table) if x["id"] == row["id"]]
    assert listed == [row], f"{table}: list gives {listed}"


# ---------------------------------------------------------------- refusals

REFUSALS = [(t, kind, detail) for t in WRITABLE for kind, detail in g.refusal_kinds(t)]


@pytest.mark.parametrize("table,kind,detail", REFUSALS,
                         ids=[f"{t}-{k}-{d}" for t, k, d in REFUSALS])
def test_refuses_declared_constraint(owner, f, table, kind, detail):
    if kind == "unique":
        first = f.make(table, **{detail: _unique_value(f, table, detail)})
        body = f.body(table, refused=True)
        body[detail] = first[detail]
        want = (409, "conflict", detail)
    elif kind == "unique_index":
        names = detail.split(",")
        first = f.make(table, **{n: _unique_value(f, table, n) for n in names})
        body = f.body(table, refused=True)
        body.update({n: first[n] for n in names})
        want = (409, "conflict", None)
    else:
        body, *want = g.refusal(f, table, kind, detail)
    status, code, field = want
    if g.is_singleton(table):
        # one row per tenant: POST is refused as such, so the row's PATCH is checked
        _refused_patch(owner, table, kind, detail, body, status, code, field)
        return
    before = f.ids(table)
    e = h.expect_error(owner.post(f"{API}/{table}", json=body), status, code, field)
    _names_check(table, kind, detail, e)
    assert f.ids(table, fresh=True) == before, f"{table}: a refused create ({kind}) wrote a row"


def _unique_value(f, table, name):
    c = g.col(table, name)
    return f.fresh(c["references"]) if c["type"] == "reference" else g.value_for(c, f.salt((table, name)))


def _names_check(table, kind, detail, e):
    if kind == "check":
        chk = next(k for k in g.SCHEMA[table]["checks"] if k["name"] == detail)
        assert h.error_fields(e) & {chk["left"], chk["right"]}, e


def _refused_patch(owner, table, kind, detail, body, status, code, field):
    (row,) = h.list_all(owner, table)
    if kind == "required":
        change = {detail: None}
    elif kind == "check":
        chk = next(k for k in g.SCHEMA[table]["checks"] if k["name"] == detail)
        change = {k: body[k] for k in (chk["left"], chk["right"]) if k in body}
    else:
        change = {detail: body[detail]}
    e = h.expect_error(owner.patch(f"{API}/{table}/{row['id']}", json=change), status, code, field)
    _names_check(table, kind, detail, e)
    assert h.get(owner, table, row["id"]) == row, f"{table}: a refused PATCH ({kind}) changed the row"


# ---------------------------------------------------------------- state machines

def _edges(table):
    sm = g.SCHEMA[table]["state_machine"]
    return [(tr["event"], s, tr["to"], tr) for tr in sm["transitions"] for s in tr["from"].split(",")]


def _initial(table):
    sm = g.SCHEMA[table]["state_machine"]
    return g.col(table, sm["column"])["default"]


def _paths(table):
    """{state: [events from the initial state]} for every reachable state."""
    start = _initial(table)
    paths, todo = {start: []}, [start]
    while todo:
        s = todo.pop(0)
        for ev, frm, to, _ in _edges(table):
            if frm == s and to not in paths:
                paths[to] = paths[s] + [ev]
                todo.append(to)
    return paths


def _event_body(f, table, tr):
    fields = [x for x in (tr.get("fields") or "").split(",") if x]
    # a reference an event takes (a document's file_id) is a row of its table
    return {n: f.ref(g.col(table, n)["references"]) if g.col(table, n)["type"] == "reference"
            else g.value_for(g.col(table, n), f.salt()) for n in fields}


def _at(owner, f, table, path):
    row = f.make(table)
    if table in g.PREPARE:
        g.PREPARE[table](owner, row)
        row = h.get(owner, table, row["id"])
    for ev in path:
        tr = next(tr for e, _, _, tr in _edges(table) if e == ev)
        f.writes += 1
        row = h.ok(owner.post(f"{API}/{table}/{row['id']}/{ev}", json=_event_body(f, table, tr)))
    return row


STATES = [(t, s) for t in MACHINES for s in _paths(t)] if g.SCHEMA else []


@pytest.mark.parametrize("table,state", STATES, ids=[f"{t}-{s}" for t, s in STATES])
def test_state_machine_from(owner, viewer, f, table, state):
    sm = g.SCHEMA[table]["state_machine"]
    path = _paths(table)[state]
    allowed = {e: (to, tr) for e, frm, to, tr in _edges(table) if frm == state}
    events = sorted({e for e, _, _, _ in _edges(table)})
    row = _at(owner, f, table, path)
    assert row[sm["column"]] == state
    for ev in events:
        if ev in allowed:
            continue
        h.expect_error(owner.post(f"{API}/{table}/{row['id']}/{ev}", json={}), 422, "invalid_transition")
        assert h.get(owner, table, row["id"]) == row, f"{table}: refused {ev} from {state} changed the row"
    for ev, (to, tr) in sorted(allowed.items()):
        fresh = _at(owner, f, table, path)
        body = _event_body(f, table, tr)
        # an event needs its declared permission
        e = h.expect_error(viewer.post(f"{API}/{table}/{fresh['id']}/{ev}", json=body), 403, "forbidden")
        assert tr["permission"] in e["message"], e
        # and takes only its declared fields
        other = next(c["name"] for c in g.SCHEMA[table]["columns"]
                     if g.writable(c) and c["name"] not in body)
        h.expect_error(owner.post(f"{API}/{table}/{fresh['id']}/{ev}", json={other: None}), 400,
                       "unknown_field", other)
        assert h.get(owner, table, fresh["id"]) == fresh
        f.writes += 1
        moved = h.ok(owner.post(f"{API}/{table}/{fresh['id']}/{ev}", json=body))
        assert moved[sm["column"]] == to, f"{table}: {ev} from {state}"
        assert moved["version"] == fresh["version"] + 1
        for k, v in body.items():
            assert g.same(v, moved[k], g.col(table, k)), (table, ev, k)
        assert h.get(owner, table, fresh["id"]) == moved


# ---------------------------------------------------------------- read-only and append-only

def _allow(r):
    assert "allow" in r.headers, f"405 without Allow: {h.show(r)}"
    return {m.strip() for m in r.headers["allow"].split(",")}


def _declared(table, route):
    return set(g.SCHEMA[table]["methods"][route])


@pytest.mark.parametrize("table", READ_ONLY)
def test_read_only_table_refuses_writes(owner, acme_owner, table):
    rows = h.page(acme_owner, table, {"limit": "1"})["data"]
    rid = rows[0]["id"] if rows else h.MISSING_ID
    assert _declared(table, "collection") == {"GET"}
    r = acme_owner.post(f"{API}/{table}", json={})
    h.expect_error(r, 405, "method_not_allowed")
    assert _allow(r) == {"GET"}
    record = _declared(table, "record")
    assert "PATCH" not in record
    for method in ("PATCH", "DELETE"):
        if method in record:
            continue  # a declared DELETE action (ending a session) is tested with its workflow
        r = acme_owner.request(method, f"{API}/{table}/{rid}", **({"json": {}} if method == "PATCH" else {}))
        h.expect_error(r, 405, "method_not_allowed")
        assert _allow(r) == record, f"{table} {method}: Allow {r.headers['allow']}"
    if rows:
        assert h.get(acme_owner, table, rid) == rows[0]


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_table_refuses_patch_and_delete(owner, f, table):
    row = f.make(table)
    url = f"{API}/{table}/{row['id']}"
    record = _declared(table, "record")
    assert "PATCH" not in record and "GET" in record
    # links between records (a role's permission, a customer's tag) may be removed
    for r in [owner.patch(url, json={})] + ([] if "DELETE" in record else [owner.delete(url)]):
        h.expect_error(r, 405, "method_not_allowed")
        assert _allow(r) == record, f"{table} {r.request.method}: Allow {r.headers['allow']}"
    assert h.get(owner, table, row["id"]) == row
