"""/readyz and /metrics over many tenants (issue 20): the job figures are the
sums the job sweep keeps as it visits tenants, so a probe opens no tenant's
database however many there are (a fresh server's first probe used to open
every one, seconds with 1,000), and a job enqueued in one tenant shows in the
figures once the sweep has visited it."""
import re
import time

import httpx
import pytest

import helpers as h
import obs_helpers as oh

# enough that "every tenant" and "at most one" are far apart (the old probe
# opened two connections a tenant), few enough to make cheaply on PostgreSQL
# under ASan (a tenant schema each)
TENANTS = 8
TOKEN = "readyz-tenants-metrics-token"


@pytest.fixture(scope="module")
def many_cli(opsbase_bin, tmp_path_factory, database):
    cli = oh.make_cli(opsbase_bin, tmp_path_factory, "readymany", database, tenants=())
    slugs = [f"rt{i:02d}" for i in range(TENANTS)]
    # one at a time: DbCli.tenant_create points OPSBASE_DB at this database
    # for the call and back, which threads would interleave
    for slug in slugs:
        cli.tenant_create(slug)
    return cli


def series(text, name):
    """The value of a series, with or without labels."""
    m = re.search(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert m, f"{name} is missing"
    return float(m.group(1))


def scrape(url):
    r = httpx.get(url + "/metrics", headers={"Authorization": "Bearer " + TOKEN}, timeout=h.HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.text


def test_first_probe_of_a_fresh_server_opens_no_tenant(opsbase_bin, many_cli):
    # the sweep's first pass waits one poll interval: ten minutes here, so any
    # tenant opened between the two scrapes was opened by the probe
    s = oh.serve(opsbase_bin, many_cli, "--metrics-token", TOKEN, "--job-poll-ms", "600000")
    try:
        before = scrape(s.url)
        assert series(before, "opsbase_tenants") == TENANTS
        assert series(before, "opsbase_jobs_swept") == 0 and series(before, "opsbase_jobs_tenants_counted") == 0
        r = httpx.get(s.url + "/readyz", timeout=h.HTTP_TIMEOUT)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["checks"]["database"]["tenants"] == TENANTS
        jobs = body["checks"]["jobs"]
        # nothing counted yet: said so, and not held against readiness
        assert jobs["status"] == "pass" and jobs["swept"] is False and jobs["tenants_counted"] == 0
        after = scrape(s.url)
        # the database check opens its one tenant (the first by slug); the old
        # job count opened every one
        opened = series(after, "opsbase_db_connections_opened_total") - series(
            before, "opsbase_db_connections_opened_total")
        assert opened <= 1, (before, after)
        assert series(after, "opsbase_tenants_open") <= series(before, "opsbase_tenants_open") + 1
        # a scrape opens none
        again = scrape(s.url)
        assert series(again, "opsbase_db_connections_opened_total") == series(
            after, "opsbase_db_connections_opened_total")
    finally:
        s.stop()


def swept_figures(s):
    """/readyz's job figures once a whole pass has counted every tenant."""
    deadline = time.monotonic() + h.WAIT_S
    while True:
        jobs = httpx.get(s.url + "/readyz", timeout=h.HTTP_TIMEOUT).json()["checks"]["jobs"]
        if jobs["swept"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert jobs["swept"] is True and jobs["tenants_counted"] == TENANTS, jobs
    return jobs


def wait_figures(s, until):
    deadline = time.monotonic() + h.WAIT_S
    while True:
        jobs = httpx.get(s.url + "/readyz", timeout=h.HTTP_TIMEOUT).json()["checks"]["jobs"]
        if until(jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.2)


# Jobs are written by another process (the CLI): the sweep finds them on its
# next poll on SQLite (the files changed), within --job-recheck-s on PostgreSQL.
SWEEP = ("--job-poll-ms", "200", "--job-recheck-s", "1")


def test_a_failed_job_is_counted_again_after_its_run(opsbase_bin, many_cli):
    # the worker runs it, it fails and waits an hour for its retry: counted
    # as queued and no longer due once the worker's pass has recorded that
    s = oh.serve(opsbase_bin, many_cli, "--metrics-token", TOKEN, *SWEEP, "--job-backoff-ms", "3600000")
    try:
        swept_figures(s)
        # the tenants' own first jobs (made with them) run first: start from a
        # queue with nothing due (a failure waits an hour here)
        j0 = wait_figures(s, lambda j: j["due"] == 0)
        assert j0["due"] == 0, j0
        many_cli.run("job", "enqueue", "--tenant", f"rt{TENANTS - 3:02d}", "--kind", "system.fail",
                     "--max-attempts", "5")
        jobs = wait_figures(s, lambda j: j["queued"] == j0["queued"] + 1 and j["due"] == j0["due"])
        assert jobs["queued"] == j0["queued"] + 1 and jobs["due"] == j0["due"], (j0, jobs)
        assert jobs["status"] == "pass"
        # a seeded schedule's slot may fire a job meanwhile (it runs at once)
        assert series(scrape(s.url), "opsbase_jobs_queued") >= j0["queued"] + 1
    finally:
        s.stop()


def test_a_due_job_shows_with_no_workers(opsbase_bin, many_cli):
    # --workers 0: one thread sweeps only to count, and runs nothing
    s = oh.serve(opsbase_bin, many_cli, "--metrics-token", TOKEN, "--workers", "0", *SWEEP)
    try:
        j0 = swept_figures(s)
        many_cli.run("job", "enqueue", "--tenant", f"rt{TENANTS - 7:02d}", "--kind", "system.sleep", "--payload",
                     '{"ms": 1}')
        jobs = wait_figures(s, lambda j: j["queued"] > j0["queued"])
        assert jobs["queued"] == j0["queued"] + 1 and jobs["due"] == j0["due"] + 1, (j0, jobs)
        assert jobs["status"] == "pass" and jobs["tenants_counted"] == TENANTS
        text = scrape(s.url)
        assert series(text, "opsbase_jobs_queued") == j0["queued"] + 1
        assert series(text, "opsbase_jobs_tenants_counted") == TENANTS and series(text, "opsbase_jobs_swept") == 1
    finally:
        s.stop()
