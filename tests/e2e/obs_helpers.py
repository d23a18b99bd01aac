"""Servers of their own for the observability tests: flags the session's
server does not have (readiness thresholds, the slow-query log, tenant rate
limits), each on a data directory of its own."""
import os
import subprocess
import time
from pathlib import Path

import httpx

import helpers as h
from conftest import _free_port, _pg_bindir, _stop


class Served:
    def __init__(self, url, proc, log, cli):
        self.url, self.proc, self.log, self.cli = url, proc, log, cli

    def log_lines(self):
        return self.log.read_text(errors="replace").splitlines()

    def stop(self):
        _stop(self.proc)


class DbCli(h.Cli):
    """The CLI on a data directory and, on PostgreSQL, a database of its own
    (other servers of the session share the session's database and would run
    this one's jobs and count its statements)."""

    def __init__(self, binary, data_dir, db=None):
        super().__init__(binary, data_dir)
        self.db = db

    def run(self, *args, check=True, data=True, timeout=h.CLI_TIMEOUT):
        extra = ("--db", self.db) if self.db and data else ()
        return super().run(*args, *extra, check=check, data=data, timeout=timeout)

    def tenant_create(self, *args, **kw):
        # the suite's relaxed session policy is written through OPSBASE_DB
        saved = os.environ.get("OPSBASE_DB")
        if self.db:
            os.environ["OPSBASE_DB"] = self.db
        try:
            return super().tenant_create(*args, **kw)
        finally:
            if saved is not None:
                os.environ["OPSBASE_DB"] = saved


def private_db(database, name):
    """A new database in the session's PostgreSQL cluster; None on SQLite."""
    if not database:
        return None
    psql = os.path.join(_pg_bindir(), "psql")
    subprocess.run([psql, database, "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {name}"], check=True,
                   capture_output=True, timeout=60)
    return database.rsplit("/", 1)[0] + "/" + name


def make_cli(opsbase_bin, tmp_path_factory, name, database=None, tenants=("obs",)):
    data = tmp_path_factory.mktemp(name) / "data"
    cli = DbCli(opsbase_bin, data, private_db(database, f"obs_{name}_{h.uniq().lower().replace('-', '_')}"))
    for slug in tenants:
        cli.tenant_create(slug, owner_email=f"owner@{slug}.test")
    return cli


def serve(opsbase_bin, cli, *flags, env=None):
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = Path(cli.data).parent / f"serve-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", cli.data, "--listen", f"127.0.0.1:{port}",
                                 *(("--db", cli.db) if cli.db else ()), *flags], stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})}, start_new_session=True)
    deadline = time.monotonic() + h.WAIT_S
    while True:
        if proc.poll() is not None:
            raise AssertionError("serve exited: " + log.read_text(errors="replace")[-2000:])
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return Served(url, proc, log, cli)
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            _stop(proc)
            raise AssertionError("serve did not answer /healthz: " + log.read_text(errors="replace")[-2000:])
        time.sleep(0.05)
