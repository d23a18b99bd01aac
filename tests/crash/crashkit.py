"""Shared pieces of the crash-safety and fault-injection tests (the fixtures
are in conftest.py; this module has a name of its own so it cannot be confused
with another directory's conftest when several test trees run together).

These tests own their servers: each test provisions a data directory with the
CLI, starts `opsbase serve` on 127.0.0.1 and a free port, and kills, restarts,
traces or starves it of disk space as it needs. tests/e2e/helpers.py is
imported (not copied) for the CLI wrapper and the HTTP assertions.
"""
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))

import helpers as h  # noqa: E402  (tests/e2e/helpers.py)

# These tests are about the SQLite files at the configured durability: a
# PostgreSQL URL or a weaker synchronous mode from the environment (inherited by
# every `opsbase` this process starts) would test something else.
for _var in ("OPSBASE_DB", "OPSBASE_SYNCHRONOUS"):
    os.environ.pop(_var, None)

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
# Actions that write an audit row without changing the record's version (a
# read: the audited read of a personal row, written after the response).
SESSION_ACTIONS = ("login", "login_failed", "logout", "read")


def change_rows(client, **filters):
    """The audit rows of changes (not reads) that match filters."""
    return [r for r in h.audit_rows(client, **filters) if r["action"] != "read"]


def binary():
    b = os.environ.get("OPSBASE_BIN") or str(REPO_ROOT / "build" / "opsbase")
    return Path(b).resolve()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProc:
    """One `opsbase serve` on a fixed data directory and port that can be
    killed and started again any number of times. Every start appends to the
    same stderr log, with a marker line, so a failure report shows them all."""

    def __init__(self, binary_path, data, port, log_path, extra=()):
        self.binary = str(binary_path)
        self.data = Path(data)
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = Path(log_path)
        self.extra = tuple(extra)
        self.proc = None
        self.starts = 0

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, timeout=STARTUP_TIMEOUT):
        assert self.proc is None or self.proc.poll() is not None, "server already running"
        self.starts += 1
        with open(self.log_path, "ab") as err:
            err.write(f"--- start {self.starts} ---\n".encode())
            err.flush()
            self.proc = subprocess.Popen(
                [self.binary, "serve", "--data", str(self.data), "--listen",
                 f"127.0.0.1:{self.port}", "--log-level", "warn", *self.extra],
                stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL,
                start_new_session=True)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout=STARTUP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"opsbase serve exited with {self.proc.returncode} during "
                                     f"start-up\n{h.tail(self.log_path)}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"opsbase serve did not answer /healthz within {timeout}s\n"
                                     f"{h.tail(self.log_path)}")
            time.sleep(0.02)

    def kill(self):
        """SIGKILL, then reap: no handler runs, nothing is flushed or closed."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)

    def stop(self):
        """SIGTERM (a clean stop), SIGKILL if it is ignored."""
        if not self.proc or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


def provision(cli, slug_, agents, plan="enterprise"):
    """A tenant with an owner and `agents` agent users, made with the CLI."""
    cli.tenant_create(slug_, plan=plan)
    for i in range(agents):
        cli.user_create(slug_, f"agent{i + 1}@{slug_}.test", "agent")


def login_token(url, tenant, email=None, password=h.OWNER_PASSWORD):
    r = h.login_raw(url, tenant, email or f"owner@{tenant}.test", password)
    assert r.status_code == 200, h.show(r)
    return r.json()["token"]


def tenant_server(binary_path, tmp_path, servers, slug_, agents=0, data=None):
    """Provision `slug_` in a new data directory (or `data`), start a server on
    it and return (ServerProc, httpx.Client logged in as the owner)."""
    data = Path(data) if data else tmp_path / "data"
    data.mkdir(parents=True, exist_ok=True)
    provision(h.Cli(binary_path, data), slug_, agents)
    srv = ServerProc(binary_path, data, free_port(), tmp_path / "server.stderr")
    servers.append(srv)
    srv.start()
    token = login_token(srv.url, slug_)
    client = httpx.Client(base_url=srv.url, timeout=h.HTTP_TIMEOUT,
                          headers={"Authorization": f"Bearer {token}"})
    return srv, client


def customer_body(tag):
    """A customer create body whose company_name is unique and searchable."""
    code = f"{tag}-{os.urandom(5).hex()}"
    return {"customer_code": code, "company_name": f"Co {code}"}


def customers_named(client, name):
    return h.rows_where(client, "customers", company_name=name)


def db_paths(data, slug_):
    return [Path(data) / "control.db", Path(data) / "tenants" / f"{slug_}.db"]


def sqlite_checks(path, readonly=True):
    """Problems `PRAGMA integrity_check` and `PRAGMA foreign_key_check` report
    for one database file (an empty list when it is clean)."""
    uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
    con = sqlite3.connect(uri, uri=True, timeout=10)
    problems = []
    try:
        rows = [r[0] for r in con.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            problems.append(f"{path.name}: integrity_check: {rows[:5]}")
        fk = con.execute("PRAGMA foreign_key_check").fetchall()
        if fk:
            problems.append(f"{path.name}: foreign_key_check: {len(fk)} rows, e.g. {fk[:3]}")
    except sqlite3.DatabaseError as exc:
        problems.append(f"{path.name}: integrity_check: cannot read: {exc}")
    finally:
        con.close()
    return problems


def _all_traced(pid):
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for t in tasks:
        try:
            with open(f"/proc/{pid}/task/{t}/status", encoding="ascii") as f:
                if any(ln.startswith("TracerPid:") and ln.split()[1] == "0" for ln in f):
                    return False
        except OSError:
            pass
    return True


class Strace:
    """strace attached to every thread of a running server, tampering only
    with `syscalls` (fsync and fdatasync unless told) on one file (-P). Killing strace detaches it and the
    server runs on untraced: that is how a fault "clears" without a restart."""

    def __init__(self, pid, path, inject, out, syscalls="fdatasync,fsync"):
        if not shutil.which("strace"):
            pytest.skip("strace is not installed (Debian package strace)")
        self.out = out
        self.proc = subprocess.Popen(
            ["strace", "-qq", "-f", "-p", str(pid), "-P", str(path),
             "-e", f"trace={syscalls}", "-e", inject, "-o", str(out)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not _all_traced(pid):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")
                pytest.skip(f"strace cannot attach (ptrace not permitted here?): {err.strip()}")
            if time.monotonic() > deadline:
                self.detach()
                raise AssertionError("strace did not attach to every thread within 10 s")
            time.sleep(0.05)

    def detach(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()

    def log(self):
        try:
            return Path(self.out).read_text(errors="replace")
        except OSError:
            return ""
