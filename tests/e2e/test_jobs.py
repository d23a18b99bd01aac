"""Background jobs: the durable per-tenant queue. A job runs once and records
its result; a failing one is retried with back-off, then dead, and a retry
queues it again; the API shows jobs read-only; a worker killed in the middle of
a job loses nothing: the job runs again after the restart. Both engines."""
import json
import signal
import socket
import subprocess
import time

import httpx
import pytest

import helpers as h

API = "/api/v1"


def _wait(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _job(c, kind):
    rows = h.list_all(c, "jobs", {"kind": kind})
    return rows[0] if rows else None


def test_job_runs_once_and_reports(cli, new_tenant):
    t = new_tenant()
    cli.run("job", "enqueue", "--tenant", t.slug, "--kind", "ledgers.check")
    done = _wait(lambda: (j := _job(t.owner, "ledgers.check")) and j["status"] == "done" and j, h.WAIT_S, "the job")
    assert done["attempts"] == 1 and done["result"] == {"mismatches": 0}
    assert h.TS_RE.match(done["finished_at"]) and done["last_error"] is None
    # an unknown kind is refused at enqueue: no job that no worker takes
    r = cli.run("job", "enqueue", "--tenant", t.slug, "--kind", "no.such", check=False)
    assert r.returncode == 1 and "no worker knows" in r.stderr
    assert [j["kind"] for j in h.list_all(t.owner, "jobs") if j["kind"] not in h.SEEDED_SCHEDULE_KINDS] == [
        "ledgers.check"]


def test_failing_job_backs_off_dies_and_retry_requeues(cli, new_tenant, login):
    t = new_tenant()
    cli.run("job", "enqueue", "--tenant", t.slug, "--kind", "system.fail", "--max-attempts", "2")
    dead = _wait(lambda: (j := _job(t.owner, "system.fail")) and j["status"] == "dead" and j, h.WAIT_S, "a dead job")
    assert dead["attempts"] == 2 and "fails by design" in dead["last_error"]
    assert h.get(t.owner, "jobs", dead["id"]) == dead
    # read-only through the API, but for retry
    h.expect_error(t.owner.post(f"{API}/jobs", json={"kind": "system.fail"}), 405, "method_not_allowed")
    h.expect_error(t.owner.patch(f"{API}/jobs/{dead['id']}", json={"max_attempts": 9}), 405, "method_not_allowed")
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    assert h.get(viewer, "jobs", dead["id"])["status"] == "dead"
    h.expect_error(viewer.post(f"{API}/jobs/{dead['id']}/retry", json={}), 403, "forbidden")
    again = h.ok(t.owner.post(f"{API}/jobs/{dead['id']}/retry", json={}))
    assert again["status"] == "queued" and again["attempts"] == 0
    h.expect_error(t.owner.post(f"{API}/jobs/{dead['id']}/retry", json={}), 422, "invalid_transition")
    redead = _wait(lambda: (j := h.get(t.owner, "jobs", dead["id"]))["status"] == "dead" and j, h.WAIT_S, "dead again")
    assert redead["attempts"] == 2


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def own_store(opsbase_bin, tmp_path, database, pg_factory):
    """A data directory (and on PostgreSQL a database) of this test's own, with
    one tenant, so that no other server's workers take its jobs."""
    data, env, run = h.own_store(opsbase_bin, tmp_path, pg_factory().url if database else None)
    return run, data, env


def _start(opsbase_bin, data, env, port, log):
    return subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
                             "--job-lease", "1", "--job-poll-ms", "100"], env=env, stdout=log, stderr=log)


def test_worker_killed_mid_job_loses_nothing(opsbase_bin, own_store, tmp_path):
    run, data, env = own_store
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "serve.log", "ab")
    proc = _start(opsbase_bin, data, env, port, log)
    try:
        _wait(lambda: _healthy(base), 20, "the server")
        owner = _login(base)
        run("job", "enqueue", "--tenant", "jk", "--kind", "system.sleep", "--payload", json.dumps({"ms": 4000}))
        _wait(lambda: (j := _job(owner, "system.sleep")) and j["status"] == "running", h.WAIT_S, "the job to start")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        proc = _start(opsbase_bin, data, env, port, log)
        _wait(lambda: _healthy(base), 20, "the restarted server")
        owner = _login(base)
        # the lease (1 s) runs out and the job runs again, to the end
        done = _wait(lambda: (j := _job(owner, "system.sleep")) and j["status"] == "done" and j, h.WAIT_S, "the job")
        assert done["attempts"] == 2 and done["result"] == {"slept_ms": 4000}
        assert len([j for j in h.list_all(owner, "jobs") if j["kind"] not in h.SEEDED_SCHEDULE_KINDS]) == 1
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
        log.close()


def _healthy(base):
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _login(base):
    r = h.login_raw(base, "jk", "owner@jk.test", h.OWNER_PASSWORD)
    assert r.status_code == 200, h.show(r)
    c = h.ApiClient(base_url=base, timeout=10, headers={"Authorization": "Bearer " + r.json()["token"]})
    return c
