"""Two commands started together on a new store (a setup script creating its
tenants in parallel, a server starting while a tenant is created) both find the
control database empty and both make it. The one that commits second used to
fail on the version row the first had written ("a record with the same
'version' exists"), and on PostgreSQL the two also met in CREATE TABLE IF NOT
EXISTS of the version table (the later fails on the catalog's unique index once
the first commits); now the later one sees the version made and goes on. Both
engines."""
import os
import subprocess

import helpers as h

# SQLite's rounds take half a second, PostgreSQL's several seconds (two
# tenant schemas made at once)
ROUNDS = {"sqlite": 6, "postgres": 4}


def _create(opsbase_bin, data, env, slug):
    return subprocess.Popen([str(opsbase_bin), "tenant", "create", slug, "--plan", "business", "--owner-email",
                             f"owner@{slug}.test", "--owner-password", h.OWNER_PASSWORD, "--data", str(data)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_creates_on_a_new_store_both_succeed(opsbase_bin, tmp_path, database, pg_factory):
    """New stores, ROUNDS of them (the race is lost or won by timing: before the fix about
    half the rounds failed); on PostgreSQL one server, a new database a round."""
    pg = pg_factory() if database else None
    for i in range(ROUNDS["postgres" if pg else "sqlite"]):
        env = dict(os.environ)
        env.pop("OPSBASE_DB", None)
        if pg:
            pg.create_db(f"race{i}")
            env["OPSBASE_DB"] = pg.url.rsplit("/", 1)[0] + f"/race{i}"
        data = tmp_path / f"data{i}"
        procs = [_create(opsbase_bin, data, env, slug) for slug in ("race-a", "race-b")]
        outs = [p.communicate(timeout=120)[0] for p in procs]
        assert [p.returncode for p in procs] == [0, 0], (i, outs)

        listed = subprocess.run([str(opsbase_bin), "tenant", "list", "--data", str(data)], env=env,
                                capture_output=True, text=True, timeout=60, check=True).stdout
        rows = sorted(line.split() for line in listed.splitlines() if line.strip())
        assert [(r[0], r[-1]) for r in rows] == [("race-a", "active"), ("race-b", "active")], listed
        # the control database is whole: migrating again applies nothing and fails nothing
        subprocess.run([str(opsbase_bin), "migrate", "--data", str(data)], env=env, capture_output=True, text=True,
                       timeout=60, check=True)
