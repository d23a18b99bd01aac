"""Session set-up for the reliability and security tests.

Like tests/e2e (whose helpers.py is imported, not copied): one data directory
and one `opsbase serve` per session, provisioned with the CLI first:

    acme   (business) owner and one user per seeded role (admin, manager,
           operator, agent, analyst, viewer, customer) plus `locked`, whose
           account the authorization matrix locks after logging it in
    globex (business) owner: the "other tenant", with canary rows
    race<N> fresh tenants made by the race tests through `new_tenant`

The server's pid is exposed (server.proc.pid) so tests can read its RSS and
open file descriptors from /proc.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))

import helpers as h  # noqa: E402  (tests/e2e/helpers.py)

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
ACME_ROLES = ["admin", "manager", "operator", "agent", "analyst", "viewer", "customer"]
_STATE = {"stderr": None}


def _binary():
    b = os.environ.get("OPSBASE_BIN") or str(REPO_ROOT / "build" / "opsbase")
    return Path(b).resolve()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, data, port, stderr_path, extra=()):
    """Start `opsbase serve` and wait for /healthz; returns the Popen."""
    url = f"http://127.0.0.1:{port}"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(
            [str(binary), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}", *extra],
            stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"opsbase serve exited with {proc.returncode} during start-up\n"
                                 f"{h.tail(stderr_path)}")
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            stop_server(proc)
            raise AssertionError(f"opsbase serve did not start\n{h.tail(stderr_path)}")
        time.sleep(0.05)


def stop_server(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


class Server:
    def __init__(self, url, data, cli, stderr_path, proc):
        self.url = url
        self.data = data
        self.cli = cli
        self.stderr_path = stderr_path
        self.proc = proc

    def tenant_db(self, slug):
        return self.data / "tenants" / f"{slug}.db"


@pytest.fixture(scope="session")
def opsbase_bin():
    b = _binary()
    if not (b.is_file() and os.access(b, os.X_OK)):
        pytest.fail(f"opsbase binary not found at {b} (set OPSBASE_BIN or run make)", pytrace=False)
    return b


@pytest.fixture(scope="session")
def server(opsbase_bin, tmp_path_factory):
    base = tmp_path_factory.mktemp("reliability")
    data = base / "data"
    data.mkdir()
    cli = h.Cli(opsbase_bin, data)
    try:
        cli.tenant_create("acme", owner_email="owner@acme.test")
        for role in ACME_ROLES:
            cli.user_create("acme", f"{role}@acme.test", role)
        cli.user_create("acme", "locked@acme.test", "viewer")
        cli.tenant_create("globex", owner_email="owner@globex.test")
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        pytest.fail(f"provisioning with the CLI failed: {exc}", pytrace=False)
    stderr_path = base / "server.stderr"
    port = free_port()
    try:
        proc = start_server(opsbase_bin, data, port, stderr_path)
    except AssertionError as exc:
        pytest.fail(str(exc), pytrace=False)
    _STATE["stderr"] = stderr_path
    try:
        yield Server(f"http://127.0.0.1:{port}", data, cli, stderr_path, proc)
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def login(server):
    clients = []

    def _login(tenant, email, password=h.USER_PASSWORD):
        r = h.login_raw(server.url, tenant, email, password)
        if r.status_code != 200:
            pytest.fail(f"login {email}@{tenant} failed: {h.show(r)}", pytrace=False)
        body = r.json()
        c = h.ApiClient(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                        headers={"Authorization": f"Bearer {body['token']}"})
        c.token = body["token"]
        c.user = body["user"]
        c.tenant = tenant
        clients.append(c)
        return c

    yield _login
    for c in clients:
        c.close()


@pytest.fixture(scope="session")
def acme_owner(login):
    return login("acme", "owner@acme.test", h.OWNER_PASSWORD)


@pytest.fixture(scope="session")
def globex_owner(login):
    return login("globex", "owner@globex.test", h.OWNER_PASSWORD)


@pytest.fixture(scope="session")
def new_tenant(server, login):
    """new_tenant(agents=N) -> (slug, owner client, agent emails)."""

    def _make(agents=0, plan="business"):
        s = h.slug()
        server.cli.tenant_create(s, plan=plan)
        emails = []
        for i in range(agents):
            e = f"agent{i + 1}@{s}.test"
            server.cli.user_create(s, e, "agent")
            emails.append(e)
        return s, login(s, f"owner@{s}.test", h.OWNER_PASSWORD), emails

    return _make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _STATE["stderr"] is not None:
        rep.sections.append(("opsbase serve stderr (tail)", h.tail(_STATE["stderr"], 25)))
