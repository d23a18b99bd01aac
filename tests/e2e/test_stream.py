"""GET /api/v1/stream: committed changes as Server-Sent Events, each shown as
a GET of its record shows it to the reader; resume with Last-Event-ID; the
per-user cap; keep-alives and a prompt stop with streams open (a server of
the test's own). Runs on both engines."""
import contextlib
import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

import helpers as h

API = "/api/v1"
READ_S = 30.0  # longest silence a test waits for (keep-alives come every 15 s)


def _events(resp):
    """The stream's events as dicts (id, event, data as text), and its
    comment lines as {"comment": text}."""
    ev = {}
    for line in resp.iter_lines():
        line = line.rstrip("\r\n")  # older httpx keeps the line end
        if line == "":
            if ev:
                yield ev
            ev = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        elif line.startswith("retry:"):
            continue  # the reconnection delay, not an event
        else:
            key, _, val = line.partition(":")
            ev[key] = val[1:] if val.startswith(" ") else val


@contextlib.contextmanager
def _stream(client, tables, last=None, via_query=False, base=None):
    params = {"tables": tables}
    headers = {}
    if last is not None:
        if via_query:
            params["last_event_id"] = str(last)
        else:
            headers["Last-Event-ID"] = str(last)
    timeout = httpx.Timeout(10.0, read=READ_S)
    with client.stream("GET", f"{API}/stream", params=params, headers=headers, timeout=timeout) as r:
        assert r.status_code == 200, f"{r.status_code} {r.read()[:300]!r}"
        assert r.headers["content-type"].startswith("text/event-stream")
        yield r, _events(r)


def _until(events, pred, what, limit=READ_S * 2):
    """Events (comments dropped) up to and including the first for which pred holds."""
    got = []
    deadline = time.monotonic() + limit
    for ev in events:
        if "comment" in ev:
            assert time.monotonic() < deadline, f"no {what} in {limit}s; got {got}"
            continue
        got.append(ev)
        if pred(ev):
            return got
        assert time.monotonic() < deadline, f"no {what} in {limit}s; got {got}"
    raise AssertionError(f"the stream ended before {what}; got {got}")


def _data(ev):
    import json
    return json.loads(ev["data"])


def _of(evs, rid):
    return [e for e in evs if e.get("event") != "reset" and _data(e).get("id") == rid]


def _portal(cli, login, owner, tenant, customer_id):
    email = h.uniq("portal") + f"@{tenant}.test"
    cli.user_create(tenant, email, "customer")
    uid = h.user_id_by_email(owner, email)
    h.ok(owner.patch(f"{API}/users/{uid}", json={"customer_id": customer_id}))
    return login(tenant, email)


def test_agent_sees_ticket_create_and_updates_in_order(acme_owner, acme_agent):
    cust = h.create_customer(acme_owner)
    with _stream(acme_agent, "tickets") as (_, events):
        t = h.create_ticket(acme_owner, cust["id"])
        started = h.ok(acme_owner.post(f"{API}/tickets/{t['id']}/start"))
        last = h.ok(acme_owner.patch(f"{API}/tickets/{t['id']}", json={"priority": "high"},
                                     headers={"If-Match": f'"{started["version"]}"'}))
        got = _until(events, lambda e: _data(e)["id"] == t["id"] and _data(e)["version"] == last["version"],
                     "the ticket's last version")
    mine = _of(got, t["id"])
    assert [e["event"] for e in mine] == ["tickets.created", "tickets.updated", "tickets.updated"]
    ids = [int(e["id"]) for e in mine]
    assert ids == sorted(ids) and len(set(ids)) == 3
    # the ids are the changes' places in the audit trail
    seqs = sorted(int(a["seq"]) for a in h.audit_rows(acme_owner, entity_type="tickets", entity_id=t["id"]))
    assert ids == seqs
    # data is the record as the reader's GET shows it
    assert _data(mine[-1]) == h.get(acme_agent, "tickets", t["id"])


def test_customer_sees_only_own_rows_and_no_internal_notes(cli, login, acme_owner, acme_agent):
    mine, other = h.create_customer(acme_owner), h.create_customer(acme_owner)
    portal = _portal(cli, login, acme_owner, "acme", mine["id"])
    with _stream(portal, "tickets,ticket_messages") as (_, events):
        theirs = h.create_ticket(acme_owner, other["id"])
        their_msg = h.create(acme_agent, "ticket_messages", {"ticket_id": theirs["id"], "content": "for them"})
        t = h.create_ticket(acme_owner, mine["id"])
        note = h.create(acme_agent, "ticket_messages", {"ticket_id": t["id"], "is_internal": True,
                                                        "content": "internal: refund is fraud"})
        public = h.create(acme_agent, "ticket_messages", {"ticket_id": t["id"], "content": "public reply"})
        got = _until(events, lambda e: _data(e)["id"] == public["id"], "the public reply")
    seen = {_data(e)["id"] for e in got}
    assert t["id"] in seen and public["id"] in seen
    assert not seen & {theirs["id"], their_msg["id"], note["id"]}, got
    assert "fraud" not in str(got)
    # every row has the columns the portal's GET shows, and no more (staff-only columns stay out)
    for e in got:
        table = e["event"].split(".")[0]
        assert set(_data(e)) == set(h.get(portal, table, _data(e)["id"])), e


def test_resume_with_last_event_id_gives_exactly_the_missed_events(new_tenant):
    ten = new_tenant()
    owner = ten.owner
    cust = h.create_customer(owner)
    with _stream(owner, "tickets,customers") as (_, events):
        first = h.create_ticket(owner, cust["id"])
        seen = _until(events, lambda e: _data(e)["id"] == first["id"], "the first ticket")
    last_id = seen[-1]["id"]
    # while nobody listens
    second = h.create_ticket(owner, cust["id"])
    h.ok(owner.post(f"{API}/tickets/{second['id']}/start"))
    other = h.create_customer(owner)
    for via_query in (False, True):
        with _stream(owner, "tickets,customers", last=last_id, via_query=via_query) as (_, events):
            got = _until(events, lambda e: _data(e)["id"] == other["id"], "the missed customer")
        assert [(e["event"], _data(e)["id"]) for e in got] == [
            ("tickets.created", second["id"]), ("tickets.updated", second["id"]),
            ("customers.created", other["id"])]
        assert int(got[0]["id"]) > int(last_id)
    # only the tables asked for
    with _stream(owner, "customers", last=last_id) as (_, events):
        got = _until(events, lambda e: _data(e)["id"] == other["id"], "the missed customer")
    assert [e["event"] for e in got] == ["customers.created"]


def test_stream_ends_with_its_session(new_tenant, login):
    ten = new_tenant()
    reader = login(ten.slug, f"owner@{ten.slug}.test", h.OWNER_PASSWORD)
    with _stream(reader, "customers") as (_, events):
        before = h.create_customer(ten.owner)
        _until(events, lambda e: _data(e)["id"] == before["id"], "the first customer")
        h.ok(reader.post(f"{API}/auth/logout"))
        after = h.create_customer(ten.owner)
        start = time.monotonic()
        rest = [e for e in events if "comment" not in e]  # the stream ends instead of showing it
        assert time.monotonic() - start < READ_S
    assert rest == [], rest
    assert after["id"] not in str(rest)


def test_unknown_future_id_starts_with_reset(new_tenant):
    ten = new_tenant()
    with _stream(ten.owner, "tickets", last=10**12) as (_, events):
        first = _until(events, lambda e: True, "the first event")[0]
        assert first["event"] == "reset"
        now = int(first["id"])
        assert _data(first)["last_event_id"] == now
        cust = h.create_customer(ten.owner)
        t = h.create_ticket(ten.owner, cust["id"])
        got = _until(events, lambda e: _data(e).get("id") == t["id"], "the ticket")
    assert all(int(e["id"]) > now for e in got)


def test_connection_cap_per_user(new_tenant, login):
    ten = new_tenant(agents=1)
    with contextlib.ExitStack() as stack:
        for _ in range(5):
            stack.enter_context(_stream(ten.owner, "tickets"))
        r = ten.owner.get(f"{API}/stream", params={"tables": "tickets"})
        h.expect_error(r, 429, "rate_limited")
        # the same user in another session: still capped
        again = login(ten.slug, f"owner@{ten.slug}.test", h.OWNER_PASSWORD)
        assert again.token != ten.owner.token
        h.expect_error(again.get(f"{API}/stream", params={"tables": "tickets"}), 429, "rate_limited")
        # another user of the tenant has an allowance of its own
        agent = login(ten.slug, ten.agents[0])
        stack.enter_context(_stream(agent, "tickets"))
    # closed streams give their places back
    deadline = time.monotonic() + 10
    while True:
        with ten.owner.stream("GET", f"{API}/stream", params={"tables": "tickets"}) as r:
            if r.status_code == 200:
                break
            assert r.status_code == 429 and time.monotonic() < deadline
        time.sleep(0.2)


def test_refusals(anon, acme_owner, acme_viewer, cli, login):
    h.expect_error(anon.get(f"{API}/stream", params={"tables": "tickets"}), 401, "unauthenticated")
    for params in ({}, {"tables": ""}, {"tables": "tickets,nope"}, {"tables": "audit_logs"},
                   {"tables": "tickets", "x": "1"}, {"tables": "tickets", "last_event_id": "abc"}):
        h.expect_error(acme_owner.get(f"{API}/stream", params=params), 400, "invalid_query")
    h.expect_error(acme_owner.get(f"{API}/stream", params={"tables": "tickets"}, headers={"Last-Event-ID": "-1"}),
                   400, "invalid_query")
    # a table the reader may not view: 403, as GET of its records would be
    cust = h.create_customer(acme_owner)
    portal = _portal(cli, login, acme_owner, "acme", cust["id"])
    h.expect_error(portal.get(f"{API}/users/{portal.user['id']}"), 403, "forbidden")
    h.expect_error(portal.get(f"{API}/stream", params={"tables": "tickets,users"}), 403, "forbidden")


# ---- a server of the test's own: keep-alives, retention, SIGTERM ----

def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_server(opsbase_bin, tmp_path, database, pg_factory):
    data = tmp_path / "data"
    env = dict(os.environ)
    env.pop("OPSBASE_DB", None)
    if database:
        env["OPSBASE_DB"] = pg_factory().url
    subprocess.run([str(opsbase_bin), "tenant", "create", "sk", "--plan", "business", "--owner-email",
                    "owner@sk.test", "--owner-password", h.OWNER_PASSWORD, "--data", str(data)],
                   env=env, capture_output=True, text=True, timeout=60, check=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "ab")
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                             "--stream-keepalive-ms", "300", "--stream-retention", "3"],
                            env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + h.WAIT_S
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "the server did not start"
            time.sleep(0.05)
        r = h.login_raw(base, "sk", "owner@sk.test", h.OWNER_PASSWORD)
        owner = h.ApiClient(base_url=base, timeout=10, headers={"Authorization": "Bearer " + r.json()["token"]})
        yield proc, owner
        owner.close()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        log.close()


def test_keepalive_retention_reset_and_prompt_stop(own_server):
    proc, owner = own_server
    # keep-alive comments while nothing changes
    with _stream(owner, "customers") as (_, events):
        start = time.monotonic()
        comments = []
        for ev in events:
            assert "comment" in ev, ev
            if ev["comment"] == "keep-alive":
                comments.append(time.monotonic() - start)
            if len(comments) == 2:
                break
        assert comments[1] < 5
        c1 = h.create_customer(owner)
        first = _until(events, lambda e: _data(e)["id"] == c1["id"], "the first customer")[-1]
    for _ in range(4):
        h.create_customer(owner)
    # the id is more than 3 (the retention) behind: the first event is a reset
    with _stream(owner, "customers", last=first["id"]) as (_, events):
        ev = _until(events, lambda e: True, "the first event")[0]
        assert ev["event"] == "reset" and int(ev["id"]) >= int(first["id"]) + 4

    # SIGTERM with streams open: they end and the process exits promptly
    with _stream(owner, "customers") as (r1, ev1), _stream(owner, "tickets") as (r2, ev2):
        _until_comment = next(e for e in ev1 if e.get("comment") == "keep-alive")
        assert _until_comment
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        for events in (ev1, ev2):
            for _ in events:  # drains to the end of the response
                assert time.monotonic() - t0 < 10
        proc.wait(timeout=10)
        assert time.monotonic() - t0 < 10
    assert proc.returncode == 0
