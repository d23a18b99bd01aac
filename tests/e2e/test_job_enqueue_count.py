"""`opsbase job enqueue --count N`: N alike jobs in one transaction (what the
job benchmark queues its backlog with), each run once; a count out of range
is a usage error that queues nothing. Both engines."""
import time

import helpers as h


def test_count_queues_that_many_jobs_each_run_once(cli, new_tenant):
    t = new_tenant()
    r = cli.run("job", "enqueue", "--tenant", t.slug, "--kind", "system.sleep", "--payload", '{"ms": 0}',
                "--count", "7")
    assert "enqueued 7 system.sleep jobs" in r.stdout
    deadline = time.monotonic() + h.WAIT_S
    while True:
        jobs = h.list_all(t.owner, "jobs", {"kind": "system.sleep"})
        if len(jobs) == 7 and all(j["status"] == "done" for j in jobs):
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.2)
    assert len({j["id"] for j in jobs}) == 7
    assert all(j["attempts"] == 1 and j["result"] == {"slept_ms": 0} for j in jobs)
    assert len({j["created_at"] for j in jobs}) == 1  # one transaction, one clock reading


def test_count_out_of_range_queues_nothing(cli, new_tenant):
    t = new_tenant()
    for bad in ("0", "-1", "x", "1000001"):
        r = cli.run("job", "enqueue", "--tenant", t.slug, "--kind", "system.sleep", "--count", bad, check=False)
        assert r.returncode != 0 and "--count" in r.stderr
    assert [j for j in h.list_all(t.owner, "jobs") if j["kind"] not in h.SEEDED_SCHEDULE_KINDS] == []
