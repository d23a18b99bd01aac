"""Session set-up for the opsbase end-to-end tests.

One data directory and one `opsbase serve` per test session. Tenants and users
are made with the command line before the server starts:

    acme   (business) owner, agent1, agent2, viewer, operator, analyst
    globex (business) owner
    tiny   (free, --ticket-limit 3 --agent-limit 2) owner, agent1, agent2, viewer

Tests that need their own state (a fresh agent pool, a user to lock out) make
their own tenants and users through the `cli` and `new_tenant` fixtures; the
server caches nothing about tenants, so they are usable at once.

OPSBASE_TEST_DB=postgres runs the same session on PostgreSQL: a throw-away
PostgreSQL server (`PgServer` below: initdb and pg_ctl into a directory under
/tmp, 127.0.0.1 on a free port) is started for the session, OPSBASE_DB points
every `opsbase` command at its database, `serve` gets `--db URL`, and the
server is stopped and removed at the end, also when tests fail.
"""
import atexit
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

import helpers as h

REPO_ROOT = Path(__file__).resolve().parents[2]

# A worker passes over a tenant with nothing due until its next due moment;
# work written by another process is found at once on SQLite (the tenant's
# files changed) and within --job-recheck-s (30 s) on PostgreSQL. The tests
# write jobs and schedules from other processes all the time (the CLI,
# tenant_sql), so every server they start re-checks idle tenants every 2 s;
# test_jobs_idle.py tests the bound itself with its own value.
os.environ.setdefault("OPSBASE_JOB_RECHECK_S", "2")
STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0

# Where the running server writes stderr, for failure reports.
_STATE = {"stderr": None}



def _scratch_dir():
    """Where throw-away test data lives: OPSBASE_TEST_TMPDIR, else /dev/shm when
    it is a writable memory file system with room (4 GiB free), else the
    system's temporary directory. The test clusters and data directories are
    thrown away; on a disk mounted with online discard, creating and removing
    the tens of thousands of files of a PostgreSQL cluster with hundreds of
    tenant schemas took longer than the tests that made them."""
    chosen = os.environ.get("OPSBASE_TEST_TMPDIR")
    if chosen:
        return chosen
    try:
        st = os.statvfs("/dev/shm")
        if st.f_bavail * st.f_frsize >= 4 << 30 and os.access("/dev/shm", os.W_OK | os.X_OK):
            return "/dev/shm"
    except OSError:
        pass
    return None


SCRATCH = _scratch_dir()
if SCRATCH:
    # pytest's tmp_path (the SQLite data directories) and PgServer below
    tempfile.tempdir = SCRATCH

# Secret columns are sealed under a master key that a server must be given
# (docs/cli.md "Master keys"); the tests name theirs explicitly, and every server and
# CLI they start inherits it.
TEST_MASTER_KEY = "6f70736261736520746573742d6f6e6c79206d6173746572206b657920303031"
os.environ.setdefault("OPSBASE_MASTER_KEY", TEST_MASTER_KEY)
# Each tenant's own request limits (security_settings.requests_per_minute, 100
# by default) are counted in its database; the session's server serves every
# test as a few users, so it runs without them. test_rate_limits.py starts
# servers of its own with them on.
os.environ.setdefault("OPSBASE_SETTINGS_RATE_LIMITS", "off")

# "sqlite" (default) or "postgres"
ENGINE = os.environ.get("OPSBASE_TEST_DB", "sqlite").strip().lower() or "sqlite"

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


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def _sanitizer_report(path):
    """The first sanitizer report in a server's stderr, or None."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    at = min((i for i in (text.find(m) for m in SANITIZER_MARKERS) if i >= 0), default=-1)
    return text[max(0, at - 200):at + 4000] if at >= 0 else None


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
    def __init__(self, url, data, cli, stderr_path, proc, db_url=None):
        self.url = url
        self.data = data
        self.cli = cli
        self.stderr_path = stderr_path
        self.proc = proc
        self.db_url = db_url                      # postgres://... or None (SQLite files in data)
        self.engine = "postgres" if db_url else "sqlite"


# ---------------------------------------------------------------- PostgreSQL

PG_USER = "opsbase-test"
PG_START_TIMEOUT = 60


def _pg_bindir():
    d = os.environ.get("OPSBASE_PG_BINDIR")
    if d:
        return d
    ctl = shutil.which("pg_ctl")
    if ctl and os.path.exists(os.path.join(os.path.dirname(os.path.realpath(ctl)), "initdb")):
        return os.path.dirname(os.path.realpath(ctl))
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(p.split("/")[-3]) if p.split("/")[-3].isdigit() else 0)
    return os.path.dirname(found[-1]) if found else None


def _pg_available():
    d = _pg_bindir()
    return bool(d) and os.path.exists(os.path.join(d, "initdb"))


def _pg_run_as():
    """(user, group) for subprocess when running as root, else (None, None)."""
    if os.geteuid() != 0:
        return None, None
    try:
        pw = pwd.getpwnam(PG_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        PG_USER], check=True, capture_output=True)
        pw = pwd.getpwnam(PG_USER)
    return pw.pw_uid, pw.pw_gid


class PgServer:
    def __init__(self, dbname="opsbase"):
        self.bin = _pg_bindir()
        self.dbname = dbname
        self.port = None
        self.dir = None
        self.uid, self.gid = _pg_run_as()

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def log(self):
        return os.path.join(self.dir, "server.log")

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _run(self, *argv, check=True, timeout=PG_START_TIMEOUT):
        kw = {}
        if self.uid is not None:
            kw = {"user": self.uid, "group": self.gid, "extra_groups": []}
        r = subprocess.run([os.path.join(self.bin, argv[0]), *argv[1:]], capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL, cwd=self.dir, **kw)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}\n{r.stdout}\n{r.stderr}\n"
                               f"--- server log ---\n{self.log_tail()}")
        return r

    def log_tail(self, lines=30):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return "\n".join(f.read().splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def init(self):
        # Under /tmp rather than pytest's base directory, which is private to
        # the user running pytest and would be closed to the server's user.
        self.dir = tempfile.mkdtemp(prefix="opsbase-pg-")
        if self.uid is not None:
            os.chown(self.dir, self.uid, self.gid)
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self.port = _free_port()
        return self

    def start(self):
        # fsync off: a test cluster is thrown away, and syncing only slows it.
        opts = (f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
                f"-c full_page_writes=off -c max_connections=200")
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t",
                  str(PG_START_TIMEOUT), "start")
        return self

    def create_db(self, name=None):
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                  name or self.dbname)

    def psql(self, sql, db=None):
        r = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                      db or self.dbname, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql)
        return r.stdout

    def stop(self):
        if self.dir and os.path.exists(os.path.join(self.data, "postmaster.pid")):
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop",
                      check=False)

    def destroy(self):
        if not self.dir:
            return
        self.stop()
        # a server that would not stop must not keep the directory alive
        pidfile = os.path.join(self.data, "postmaster.pid")
        if os.path.exists(pidfile):
            try:
                with open(pidfile) as f:
                    os.kill(int(f.readline()), 9)
                time.sleep(0.5)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


@pytest.fixture(scope="session")
def database():
    """The session's PostgreSQL URL (OPSBASE_TEST_DB=postgres), else None (SQLite)."""
    if ENGINE == "sqlite":
        yield None
        return
    if ENGINE != "postgres":
        pytest.fail(f"OPSBASE_TEST_DB must be sqlite or postgres, not {ENGINE!r}", pytrace=False)
    if not _pg_available():
        pytest.fail("OPSBASE_TEST_DB=postgres but no PostgreSQL server binaries were found "
                    "(Debian package postgresql, or set OPSBASE_PG_BINDIR)", pytrace=False)
    pg = PgServer()
    atexit.register(pg.destroy)  # also when the session dies before teardown
    try:
        pg.init().start()
        pg.create_db()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        pg.destroy()
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    os.environ["OPSBASE_DB"] = pg.url
    try:
        yield pg.url
    finally:
        os.environ.pop("OPSBASE_DB", None)
        pg.destroy()


@pytest.fixture
def pg_factory():
    """pg_factory() -> a private, started PostgreSQL server with an `opsbase`
    database (a PgServer), removed after the test; for tests that stop and
    start the server. Skips when no PostgreSQL binaries are installed."""
    if not _pg_available():
        pytest.skip("no PostgreSQL server binaries installed (Debian package postgresql)")
    made = []

    def _make():
        pg = PgServer()
        made.append(pg)
        pg.init().start()
        pg.create_db()
        return pg

    yield _make
    for pg in made:
        pg.destroy()


@pytest.fixture(autouse=True)
def _engine_of_sqlite_file_tests(request, monkeypatch):
    """test_migrations.py builds its own data directories and edits their SQLite
    files directly, so on a PostgreSQL run it still runs, against SQLite."""
    if ENGINE == "postgres" and request.module.__name__.endswith("test_migrations"):
        monkeypatch.delenv("OPSBASE_DB", raising=False)


@pytest.fixture
def sqlite_files():
    """For tests that open the embedded database files to look at what the API
    cannot show (control tables, write-only secrets, read-only log tables)."""
    if ENGINE == "postgres":
        pytest.skip("inspects the embedded SQLite files directly; the PostgreSQL pass has no such files")


def skip_on_postgres(why):
    if ENGINE == "postgres":
        pytest.skip(why)


@pytest.fixture(scope="session")
def opsbase_bin():
    b = _binary()
    if not (b.is_file() and os.access(b, os.X_OK)):
        pytest.fail(f"opsbase binary not found at {b} (set OPSBASE_BIN or run make)",
                    pytrace=False)
    return b


@pytest.fixture(scope="session")
def bare_cli(opsbase_bin, tmp_path_factory, database):
    """The CLI on an empty data directory of its own, for commands that need no server."""
    return h.Cli(opsbase_bin, tmp_path_factory.mktemp("bare") / "data")


@pytest.fixture(scope="session")
def server(opsbase_bin, tmp_path_factory, database):
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
            [str(opsbase_bin), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
             # the server erases due tenants itself (test_platform_tenant_purge.py): soon, for the tests
             "--purge-every", "1s",
             *(("--db", database) if database else ())],
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
        yield Server(url, data, cli, stderr_path, proc, database)
    finally:
        _stop(proc)
    # Under ASan/UBSan a report at exit (a leak, or an error the server
    # survived) is a failure of the run, not only of the process.
    report = _sanitizer_report(stderr_path)
    if report:
        pytest.fail(f"opsbase serve reported a sanitizer error (exit {proc.returncode}):\n{report}",
                    pytrace=False)


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
def provisioner(server):
    """A super admin's client that provisions tenants with POST
    /api/v1/platform/tenants, as an operator's sign-up flow would: the server
    does what `opsbase tenant create` does (test_cli.py tests the command),
    so most of the session's few hundred tenants go through the API."""
    import platform_helpers as ph
    email = ph.create_admin(server.cli)
    token, _, _ = ph.enrol(server.url, email)
    with ph.client(server.url, token) as c:
        yield c


_LIMIT_FLAGS = {"--agent-limit": "agent_limit", "--ticket-limit": "ticket_limit"}


@pytest.fixture(scope="session")
def new_tenant(cli, login, provisioner):
    """new_tenant(agents=N, plan=...) -> a fresh tenant with N agents and a logged-in owner."""

    def _make(agents=0, plan="business", extra=()):
        s = h.slug()
        body = {"slug": s, "plan": plan, "owner_email": f"owner@{s}.test", "owner_password": h.OWNER_PASSWORD}
        flags = list(extra)
        for flag, value in zip(flags[::2], flags[1::2]):
            body[_LIMIT_FLAGS[flag]] = int(value)
        # creating a schema is the slowest request there is (PostgreSQL under ASan on a
        # busy machine: tens of seconds), so it gets the wait of background work
        h.ok(provisioner.post("/api/v1/platform/tenants", json=body, timeout=h.WAIT_S), 201)
        h.relax_session_policy(cli.data, s)
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
