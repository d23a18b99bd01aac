"""Session set-up for the opsbase end-to-end tests.

One data directory and one `opsbase serve` per test session. Tenants and users
are made with the command line before the server starts:

    acme   (business) owner, agent1, agent2, viewer, operator, analyst
    globex (business) owner
    tiny   (free, --ticket-limit 3 --agent-limit 2) owner, agent1, agent2, viewer

Tests that need their own state (a fresh agent pool, a user to lock out) make
their own tenants and users through the `cli` and `new_tenant` fixtures; the
server caches nothing about tenants, so they are usable at once.
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

import helpers as h

REPO_ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

# Where the running server writes stderr, for failure reports.
_STATE = {"stderr": None}

ACME_USERS = {
    "agent1": "agent",
    "agent2": "agent",
    "viewer": "viewer",
    "operator": "operator",
    "analyst": "analyst",
}
TINY_USERS = {"agent1": "agent", "agent2": "agent", "viewer": "viewer"}


def _binary():
    b = os.environ.get("OPSBASE_BIN") or str(REPO_ROOT / "build" / "opsbase")
    return Path(b).resolve()


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc):
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        print(f"\nopsbase serve (pid {proc.pid}) ignored SIGTERM for {STOP_TIMEOUT}s; killing")
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT)


class Server:
    def __init__(self, url, data, cli, stderr_path, proc):
        self.url = url
        self.data = data
        self.cli = cli
        self.stderr_path = stderr_path
        self.proc = proc


@pytest.fixture(scope="session")
def opsbase_bin():
    b = _binary()
    if not (b.is_file() and os.access(b, os.X_OK)):
        pytest.fail(f"opsbase binary not found at {b} (set OPSBASE_BIN or run make)",
                    pytrace=False)
    return b


@pytest.fixture(scope="session")
def bare_cli(opsbase_bin, tmp_path_factory):
    """The CLI on an empty data directory of its own, for commands that need no server."""
    return h.Cli(opsbase_bin, tmp_path_factory.mktemp("bare") / "data")


@pytest.fixture(scope="session")
def server(opsbase_bin, tmp_path_factory):
    base = tmp_path_factory.mktemp("opsbase")
    data = base / "data"
    data.mkdir()
    cli = h.Cli(opsbase_bin, data)

    failure = None
    try:
        cli.tenant_create("acme", owner_email="owner@acme.test")
        for name, role in ACME_USERS.items():
            cli.user_create("acme", f"{name}@acme.test", role)
        cli.tenant_create("globex", owner_email="owner@globex.test")
        cli.tenant_create("tiny", plan="free", owner_email="owner@tiny.test",
                          extra=("--ticket-limit", "3", "--agent-limit", "2"))
        for name, role in TINY_USERS.items():
            cli.user_create("tiny", f"{name}@tiny.test", role)
    except (AssertionError, subprocess.TimeoutExpired) as exc:
        failure = f"provisioning with the CLI failed: {exc}"
    if failure:
        pytest.fail(failure, pytrace=False)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    stderr_path = base / "server.stderr"
    stdout_path = base / "server.stdout"
    with open(stderr_path, "wb") as err, open(stdout_path, "wb") as out:
        proc = subprocess.Popen(
            [str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}"],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    _STATE["stderr"] = stderr_path
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"opsbase serve exited with {proc.returncode} during start-up\n"
                            f"--- stderr tail ---\n{h.tail(stderr_path)}", pytrace=False)
            try:
                if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"opsbase serve did not answer /healthz within {STARTUP_TIMEOUT}s\n"
                            f"--- stderr tail ---\n{h.tail(stderr_path)}", pytrace=False)
            time.sleep(0.05)
        yield Server(url, data, cli, stderr_path, proc)
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def cli(server):
    return server.cli


@pytest.fixture(scope="session")
def login(server):
    """login(tenant, email, password) -> ApiClient with the bearer token set."""
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
def anon(server):
    with httpx.Client(base_url=server.url, timeout=h.HTTP_TIMEOUT) as c:
        yield c


@pytest.fixture(scope="session")
def acme_owner(login):
    return login("acme", "owner@acme.test", h.OWNER_PASSWORD)


@pytest.fixture(scope="session")
def globex_owner(login):
    return login("globex", "owner@globex.test", h.OWNER_PASSWORD)


@pytest.fixture(scope="session")
def tiny_owner(login):
    return login("tiny", "owner@tiny.test", h.OWNER_PASSWORD)


@pytest.fixture(scope="session")
def acme_viewer(login):
    return login("acme", "viewer@acme.test")


@pytest.fixture(scope="session")
def acme_agent(login):
    return login("acme", "agent1@acme.test")


@pytest.fixture(scope="session")
def acme_agent_ids(acme_owner):
    return [h.user_id_by_email(acme_owner, f"agent{i}@acme.test") for i in (1, 2)]


class Tenant:
    def __init__(self, slug, owner, agents):
        self.slug = slug
        self.owner = owner          # ApiClient of the owner
        self.agents = agents        # agent emails


@pytest.fixture(scope="session")
def new_tenant(cli, login):
    """new_tenant(agents=N, plan=...) -> a fresh tenant with N agents and a logged-in owner."""

    def _make(agents=0, plan="business", extra=()):
        s = h.slug()
        cli.tenant_create(s, plan=plan, extra=extra)
        emails = []
        for i in range(agents):
            e = f"agent{i + 1}@{s}.test"
            cli.user_create(s, e, "agent")
            emails.append(e)
        return Tenant(s, login(s, f"owner@{s}.test", h.OWNER_PASSWORD), emails)

    return _make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and _STATE["stderr"] is not None:
        rep.sections.append(("opsbase serve stderr (tail)", h.tail(_STATE["stderr"], 25)))
