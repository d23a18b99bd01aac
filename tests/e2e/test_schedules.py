"""Schedules: a cron spec that enqueues a job at each slot, in the tenant's time
zone (`opsbase tenant set --timezone`). The spec and the kind are checked when
saved; next_run_at is the next slot in UTC. Two processes on one data directory
(SQLite) or one database (PostgreSQL) fire every slot exactly once. The slots
of the firing test are seconds (the optional sixth, leading field of a spec),
so that it runs in seconds rather than minutes. Both engines."""
import datetime
import os
import signal
import subprocess
import time
import zoneinfo

import pytest

import helpers as h
from test_jobs import _free_port, _healthy, _login, _wait

API = "/api/v1"


def _schedule(c, **body):
    body.setdefault("name", h.uniq("sched"))
    body.setdefault("kind", "system.sleep")
    return c.post(f"{API}/schedules", json=body)


def _next_local(now_utc, zone, hour, minute):
    """The first hh:mm in zone strictly after now, in UTC (no DST change at noon)."""
    local = now_utc.astimezone(zone)
    cand = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if cand <= local:
        cand = datetime.datetime.combine(local.date() + datetime.timedelta(days=1),
                                         datetime.time(hour, minute), tzinfo=zone)
    return cand.astimezone(datetime.timezone.utc)


def test_specs_and_kinds_are_checked_when_saved(new_tenant, cli, login):
    t = new_tenant()
    for cron in ["* * * *", "61 * * * *", "* * * * 9", "*/0 * * * *", "0 0 30 2 *", "x y z w v", "   "]:
        e = h.expect_error(_schedule(t.owner, cron=cron), 422, "unprocessable")
        assert "cron" in e["message"], e
    h.expect_error(_schedule(t.owner, cron="* * * * *", kind="no.such"), 422, "unprocessable")
    h.expect_error(_schedule(t.owner, cron="* * * * *", payload=[1]), 422, "unprocessable")
    h.expect_error(_schedule(t.owner, cron="* * * * *", next_run_at="2030-01-01T00:00:00.000Z"), 400,
                   "readonly_field")
    h.expect_error(_schedule(t.owner, kind="system.sleep"), 400, "validation_failed")
    assert t.owner.post(f"{API}/schedules", json="nope").status_code == 400
    # nothing was saved: only the schedules every tenant is given (document purge, loyalty
    # expiry, overdue follow-ups, KPI measuring, scheduled reports)
    assert sorted(s["kind"] for s in h.list_all(t.owner, "schedules")) == sorted(h.SEEDED_SCHEDULE_KINDS)
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    h.expect_error(_schedule(viewer, cron="* * * * *"), 403, "forbidden")
    # another tenant's schedule does not exist here
    other = new_tenant()
    s = h.ok(_schedule(other.owner, cron="0 0 * * *", enabled=False), 201)
    h.expect_error(t.owner.get(f"{API}/schedules/{s['id']}"), 404, "not_found")
    h.expect_error(t.owner.patch(f"{API}/schedules/{s['id']}", json={"cron": "1 1 * * *"}), 404, "not_found")


def test_next_run_in_the_tenant_time_zone(new_tenant, cli):
    t = new_tenant()
    before = datetime.datetime.now(datetime.timezone.utc)
    s = h.ok(_schedule(t.owner, cron="0 12 * * *", payload={"ms": 0}), 201)
    assert s["enabled"] is True and s["last_run_at"] is None
    # no time zone set: UTC
    assert h.parse_ts(s["next_run_at"]) == _next_local(before, datetime.timezone.utc, 12, 0)
    r = cli.run("tenant", "set", t.slug, "--timezone", "Mars/Olympus", check=False)
    assert r.returncode == 2 and "unknown time zone" in r.stderr
    cli.run("tenant", "set", t.slug, "--timezone", "Asia/Kathmandu")
    # the spec (not the zone change) recomputes next_run_at: change it
    before = datetime.datetime.now(datetime.timezone.utc)
    s2 = h.ok(t.owner.patch(f"{API}/schedules/{s['id']}", json={"cron": "30 12 * * *"}))
    ktm = zoneinfo.ZoneInfo("Asia/Kathmandu")
    assert h.parse_ts(s2["next_run_at"]) == _next_local(before, ktm, 12, 30)
    ny = zoneinfo.ZoneInfo("America/New_York")
    cli.run("tenant", "set", t.slug, "--timezone", "America/New_York")
    before = datetime.datetime.now(datetime.timezone.utc)
    s3 = h.ok(_schedule(t.owner, cron="0 12 * * SUN-SAT"), 201)
    assert h.parse_ts(s3["next_run_at"]) == _next_local(before, ny, 12, 0)
    # a disabled schedule keeps its spec; enabling it starts from now again
    off = h.ok(t.owner.patch(f"{API}/schedules/{s3['id']}", json={"enabled": False}))
    assert off["enabled"] is False
    h.expect_error(t.owner.patch(f"{API}/schedules/{s3['id']}", json={"cron": "bad"}), 422, "unprocessable")
    assert h.get(t.owner, "schedules", s3["id"])["cron"] == "0 12 * * SUN-SAT"
    on = h.ok(t.owner.patch(f"{API}/schedules/{s3['id']}", json={"enabled": True}))
    assert on["next_run_at"] == s3["next_run_at"]


@pytest.fixture
def shared_store(opsbase_bin, tmp_path, database, pg_factory):
    """A data directory (and on PostgreSQL a database) of this test's own."""
    data = tmp_path / "data"
    env = dict(os.environ)
    env.pop("OPSBASE_DB", None)
    if database:
        env["OPSBASE_DB"] = pg_factory().url
    subprocess.run([str(opsbase_bin), "tenant", "create", "jk", "--plan", "business", "--owner-email",
                    "owner@jk.test", "--owner-password", h.OWNER_PASSWORD, "--data", str(data)],
                   env=env, check=True, capture_output=True, timeout=60)
    return data, env


def test_two_processes_fire_each_slot_once(opsbase_bin, shared_store, tmp_path):
    data, env = shared_store
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    fast = ["--job-poll-ms", "20", "--workers", "2"]
    logs = [open(tmp_path / f"p{i}.log", "wb") for i in range(2)]
    procs = [subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                               *fast], env=env, stdout=logs[0], stderr=logs[0])]
    try:
        _wait(lambda: _healthy(base), 20, "the server")
        procs.append(subprocess.Popen([str(opsbase_bin), "worker", "--data", str(data), *fast], env=env,
                                      stdout=logs[1], stderr=logs[1]))
        owner = _login(base)
        s = h.ok(_schedule(owner, cron="* * * * * *", payload={"ms": 0}), 201)
        time.sleep(6)
        h.ok(owner.patch(f"{API}/schedules/{s['id']}", json={"enabled": False}))
        time.sleep(1)
        jobs = _wait(lambda: (js := h.list_all(owner, "jobs", {"kind": "system.sleep"}))
                     and all(j["status"] == "done" for j in js) and js, 20, "the jobs to run")
        slots = sorted(j["run_at"] for j in jobs)
        assert len(slots) >= 3, slots
        assert len(set(slots)) == len(slots), f"a slot fired twice: {slots}"
        assert all(x.endswith(".000Z") for x in slots), slots
        last = h.get(owner, "schedules", s["id"])
        assert last["last_run_at"] == slots[-1] and last["enabled"] is False
        # both processes looked for due slots; together they fired each one once
        for f in logs:
            f.flush()
        # (this schedule's lines: the tenant's seeded schedules may fire meanwhile)
        fired = [sum(1 for line in (tmp_path / f"p{i}.log").read_text().splitlines()
                     if "schedule fired" in line and s["id"] in line) for i in range(2)]
        assert sum(fired) == len(slots), (fired, slots)
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=15)
        for f in logs:
            f.close()
