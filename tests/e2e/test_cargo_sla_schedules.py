"""Every tenant starts with the SLA checks scheduled (issue #15, seed 002):
services.sla_check and tickets.sla_check every five minutes, seeded like the
document purge and the follow-up reminders; a slot that comes round runs the
job, which marks the late request breached. A tenant's changes to a seeded
schedule survive the seeds running again. Both engines."""
import datetime as dt
import time

import helpers as h

API = "/api/v1"
KINDS = ("services.sla_check", "tickets.sla_check")


def _seeded(c):
    return {s["kind"]: s for s in h.list_all(c, "schedules") if s["kind"] in KINDS}


def test_a_new_tenant_checks_both_slas_every_five_minutes(new_tenant):
    c = new_tenant().owner
    got = _seeded(c)
    assert sorted(got) == sorted(KINDS)
    now = dt.datetime.now(dt.timezone.utc)
    for kind, s in got.items():
        assert s["cron"] == "*/5 * * * *" and s["enabled"] is True and s["payload"] == {}, s
        nxt = h.parse_ts(s["next_run_at"])
        assert now - dt.timedelta(seconds=5) < nxt <= now + dt.timedelta(minutes=5, seconds=5), s
        assert nxt.minute % 5 == 0 and nxt.second == 0, s
    # one of each, however many tenants exist
    assert len([s for s in h.list_all(c, "schedules") if s["kind"] in KINDS]) == 2


def test_the_seeded_slot_runs_the_check(server, new_tenant):
    t = new_tenant()
    c = t.owner
    st = h.create(c, "service_types", {"service_code": h.uniq("ST")[:20], "service_name": "Svc " + h.uniq(),
                                       "sla_hours": 0, "requires_approval": False})
    late = h.ok(c.post(f"{API}/service_requests",
                       json={"customer_id": h.create_customer(c)["id"], "service_type_id": st["id"],
                             "request_title": "Late " + h.uniq()}), 201)
    sched = _seeded(c)["services.sla_check"]
    # the slot comes round now rather than in up to five minutes
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    h.tenant_sql(server, t.slug, f"UPDATE schedules SET next_run_at = '{past}' WHERE id = '{sched['id']}'")
    end = time.monotonic() + h.WAIT_S
    jobs = []
    while time.monotonic() < end:
        jobs = [j for j in h.list_all(c, "jobs", {"kind": "services.sla_check"}) if j["status"] == "done"]
        if jobs:
            break
        time.sleep(0.2)
    assert len(jobs) == 1, h.list_all(c, "jobs", {"kind": "services.sla_check"})
    assert jobs[0]["result"] == {"breached": 1}
    assert h.get(c, "service_requests", late["id"])["sla_breached"] is True
    after = h.get(c, "schedules", sched["id"])
    assert after["last_run_at"] == past
    assert h.parse_ts(after["next_run_at"]) > h.parse_ts(past)


def test_a_tenants_changes_to_a_seeded_schedule_survive_the_seeds(new_tenant, cli):
    c = new_tenant().owner
    s = _seeded(c)["tickets.sla_check"]
    h.ok(c.patch(f"{API}/schedules/{s['id']}", json={"enabled": False, "name": "our ticket SLA watch",
                                                    "cron": "0 * * * *"}))
    cli.run("migrate")  # runs every tenant's seeds again
    mine = [x for x in h.list_all(c, "schedules") if x["kind"] == "tickets.sla_check"]
    assert [(x["id"], x["name"], x["cron"], x["enabled"]) for x in mine] == \
        [(s["id"], "our ticket SLA watch", "0 * * * *", False)]
