"""/readyz (issue 18): the database (control and one tenant), the job queues
(depth and the age of the oldest due job) and the data directory's free disk
space, each with a status and its figures; 200 when all pass, 503 naming
the failed checks."""
import time

import httpx
import pytest

import helpers as h
import obs_helpers as oh


@pytest.fixture(scope="module")
def ready_cli(opsbase_bin, tmp_path_factory, database):
    return oh.make_cli(opsbase_bin, tmp_path_factory, "ready", database)


def test_ready_reports_each_check_with_figures(anon):
    r = anon.get("/readyz")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready" and body["failed"] == []
    db, jobs, disk = body["checks"]["database"], body["checks"]["jobs"], body["checks"]["disk"]
    assert db["status"] == "pass" and db["tenants"] >= 3 and db["tenant"]
    assert db["engine"] in ("sqlite", "postgres")
    assert jobs["status"] == "pass" and jobs["queued"] >= 0 and jobs["oldest_due_age_s"] <= jobs["max_age_s"]
    assert disk["status"] == "pass" and 0 < disk["free_bytes"] <= disk["total_bytes"]
    assert disk["min_free_bytes"] == 64 << 20


def test_disk_below_threshold_is_503_naming_disk(opsbase_bin, ready_cli):
    # a threshold no disk meets (1 EiB free) must fail the disk check alone
    s = oh.serve(opsbase_bin, ready_cli, "--ready-min-disk-mb", str(1 << 40), "--workers", "0")
    try:
        r = httpx.get(s.url + "/readyz", timeout=10)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "not_ready" and body["failed"] == ["disk"]
        assert body["checks"]["disk"]["status"] == "fail"
        assert body["checks"]["disk"]["free_bytes"] < body["checks"]["disk"]["min_free_bytes"] == 1 << 60
        assert body["checks"]["database"]["status"] == "pass" and body["checks"]["database"]["tenant"] == "obs"
        assert body["checks"]["database"]["tenants"] == 1
    finally:
        s.stop()


def test_an_old_due_job_fails_the_jobs_check(opsbase_bin, ready_cli):
    # no workers: an enqueued job stays due and grows older than the 1 s allowed
    ready_cli.run("job", "enqueue", "--tenant", "obs", "--kind", "system.sleep", "--payload", '{"ms": 1}')
    s = oh.serve(opsbase_bin, ready_cli, "--ready-max-job-age", "1", "--workers", "0")
    try:
        time.sleep(1.5)
        # the figures are the count of the sweep (one thread with --workers 0),
        # whose first pass begins one poll interval after start
        deadline = time.monotonic() + h.WAIT_S
        while True:
            r = httpx.get(s.url + "/readyz", timeout=10)
            if r.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["failed"] == ["jobs"]
        jobs = body["checks"]["jobs"]
        assert jobs["status"] == "fail" and jobs["queued"] >= 1 and jobs["due"] >= 1
        assert jobs["oldest_due_age_s"] >= 1 and jobs["max_age_s"] == 1
    finally:
        s.stop()


def test_ready_flags_are_checked(opsbase_bin, ready_cli):
    r = ready_cli.run("serve", "--ready-max-job-age", "0", "--listen", "127.0.0.1:1", check=False)
    assert r.returncode != 0 and "--ready-max-job-age" in r.stderr
