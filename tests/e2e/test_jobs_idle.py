"""Idle tenants (issue 20): a worker passes over a tenant with nothing due
until its next due moment, and that must never lose a job. A job enqueued in
the server's own process runs at once (the workers are woken once its commit
is visible, even with no polling at all); one enqueued by another process
(the CLI) runs on the next poll on SQLite (the tenant's files changed) and
within --job-recheck-s on PostgreSQL; a job due later runs when it falls due;
a job of a tenant the CLI deleted and restored while serving runs too.
Both engines."""
import signal
import subprocess
import time

import helpers as h
from test_jobs import _free_port, _healthy, _job, _login, _wait
from test_webhooks import Endpoint, _subscribe

import pytest

API = "/api/v1"


@pytest.fixture
def idle_store(opsbase_bin, tmp_path, database, pg_factory):
    """A store of this test's own with one tenant (jk) and a way to start a
    server on it with given worker flags; the servers are stopped at the end."""
    data, env, cli = h.own_store(opsbase_bin, tmp_path, pg_factory().url if database else None,
                                 unset=("OPSBASE_JOB_RECHECK_S",))
    cli("tenant", "set", "jk", "--webhooks-allow-private", "yes")
    procs = []

    def start(*flags):
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(tmp_path / "serve.log", "ab")
        procs.append((subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen",
                                        f"127.0.0.1:{port}", *flags], env=env, stdout=log, stderr=log), log))
        _wait(lambda: _healthy(base), 20, "the server")
        return _login(base)

    try:
        yield cli, start, bool(database)
    finally:
        for proc, log in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
            log.close()


def test_an_enqueue_in_process_runs_at_once_without_polling(idle_store):
    cli, start, _ = idle_store
    # the workers sweep only when woken: no poll comes round within the test
    owner = start("--job-poll-ms", "600000", "--job-recheck-s", "3600")
    ep = Endpoint()
    try:
        h.ok(_subscribe(owner, ep.url, ["customers.created"]), 201)
        for n in (1, 2):
            t0 = time.monotonic()
            h.ok(owner.post(f"{API}/customers", json={"company_name": f"Woken {n}", "email": f"w{n}@idle.test"}),
                 201)
            # the delivery job was enqueued in the change's transaction, in this process
            _wait(lambda: len(ep.requests()) == n, 10, f"delivery {n}")
            assert ep.requests()[-1]["at"] - t0 < 5
            # the sweep after the run found nothing more: jk is now passed over
            # until written to, which the next create does
            time.sleep(1)
    finally:
        ep.close()


def test_an_enqueue_by_another_process_runs_within_the_bound(idle_store):
    cli, start, pg = idle_store
    # SQLite: the file stamp finds it, with a bound too long to matter;
    # PostgreSQL: the bound alone does
    bound = 4 if pg else 3600
    owner = start("--job-poll-ms", "100", "--job-recheck-s", str(bound))
    time.sleep(1.5)  # swept: jk has nothing due and is passed over
    t0 = time.monotonic()
    cli("job", "enqueue", "--tenant", "jk", "--kind", "ledgers.check")
    done = _wait(lambda: (j := _job(owner, "ledgers.check")) and j["status"] == "done" and j, 30, "the job")
    took = time.monotonic() - t0
    assert done["attempts"] == 1 and done["result"] == {"mismatches": 0}
    assert took < (bound + 3 if pg else 5), took
    # and a second one as well: the tenant was noted idle again after the first
    time.sleep(1)
    t0 = time.monotonic()
    cli("job", "enqueue", "--tenant", "jk", "--kind", "ledgers.check")
    _wait(lambda: len([j for j in h.list_all(owner, "jobs", {"kind": "ledgers.check"}) if j["status"] == "done"])
          == 2, 30, "the second job")
    took = time.monotonic() - t0
    assert took < (bound + 3 if pg else 5), took


def test_a_retry_due_later_runs_when_it_falls_due(idle_store):
    cli, start, _ = idle_store
    # neither polling nor the bound brings the tenant round: only the retry's
    # own run_at, noted as the tenant's next due moment
    owner = start("--job-poll-ms", "100", "--job-recheck-s", "3600", "--webhook-backoff-ms", "2000")
    ep = Endpoint(plan=[500])  # the first attempt fails: the retry is due 2 s (+ jitter) later
    try:
        h.ok(_subscribe(owner, ep.url, ["customers.created"]), 201)
        h.ok(owner.post(f"{API}/customers", json={"company_name": "Later", "email": "l@idle.test"}), 201)
        _wait(lambda: len(ep.requests()) >= 2, 20, "the retry")
        got = ep.requests()
        gap = got[1]["at"] - got[0]["at"]
        assert 1.9 <= gap < 6, gap
        d = _wait(lambda: (r := h.list_all(owner, "webhook_deliveries")) and r[0]["status"] == "delivered" and r[0],
                  10, "the delivery")
        assert d["attempts"] == 2
    finally:
        ep.close()


def test_a_job_of_a_tenant_restored_by_another_process_runs(idle_store, tmp_path):
    """The CLI deletes jk and restores it from a backup (it keeps its id) while
    the server's workers hold pooled connections of it: a job enqueued after
    the restore is in the restored database, which the workers must reach
    (a worker still reading the deleted file would never see it)."""
    cli, start, pg = idle_store
    bound = 4 if pg else 3600
    owner = start("--job-poll-ms", "100", "--job-recheck-s", str(bound))
    cli("job", "enqueue", "--tenant", "jk", "--kind", "ledgers.check")
    _wait(lambda: (j := _job(owner, "ledgers.check")) and j["status"] == "done" and j, 30, "the first job")
    time.sleep(1)  # swept again: jk is passed over, its connections pooled
    out = tmp_path / "backup"
    cli("backup", "--out", str(out), "--tenant", "jk")
    cli("tenant", "delete", "jk", "--yes")
    cli("restore", "--from", str(out), "--tenant", "jk")
    t0 = time.monotonic()
    cli("job", "enqueue", "--tenant", "jk", "--kind", "ledgers.check")

    def done():
        return len([j for j in h.list_all(owner, "jobs", {"kind": "ledgers.check"}) if j["status"] == "done"]) == 2

    _wait(done, 30, "the job enqueued after the restore")
    took = time.monotonic() - t0
    assert took < (bound + 3 if pg else 5), took
