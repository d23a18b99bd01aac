"""GET /metrics: Prometheus text behind a token of its own, counting requests by
route template (never the raw path), valid for promtool."""
import re
import shutil
import subprocess
import time

import httpx
import pytest

import helpers as h
from conftest import _free_port, _stop

TOKEN = "metrics-" + "x" * 24


@pytest.fixture(scope="module")
def metered_cli(opsbase_bin, database, tmp_path_factory):
    data = tmp_path_factory.mktemp("metrics") / "data"
    return h.Cli(opsbase_bin, data), (("--db", database) if database else ())


@pytest.fixture(scope="module")
def metered(opsbase_bin, metered_cli):
    cli, db = metered_cli
    data = cli.data
    cli.run("tenant", "create", "meter", "--plan", "business", "--owner-email", "o@meter.test",
            "--owner-password", h.OWNER_PASSWORD, *db)
    port = _free_port()
    proc = subprocess.Popen([str(opsbase_bin), "serve", "--data", str(data), *db, "--listen", f"127.0.0.1:{port}",
                             "--metrics-token", TOKEN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, proc)
        yield url
    finally:
        _stop(proc)


def _wait(url, proc):
    import time
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        assert proc.poll() is None
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError("server did not start")


def scrape(url, token=TOKEN):
    return httpx.get(url + "/metrics", headers={"Authorization": f"Bearer {token}"} if token else {}, timeout=10)


def test_metrics_count_routes_by_template_and_pass_promtool(metered):
    token = h.login_raw(metered, "meter", "o@meter.test", h.OWNER_PASSWORD).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    ids = []
    for i in range(3):
        r = httpx.post(metered + "/api/v1/customers", headers=auth, json={"name": f"m{i}"}, timeout=10)
        assert r.status_code == 201
        ids.append(r.json()["id"])
    for cid in ids:
        assert httpx.get(f"{metered}/api/v1/customers/{cid}", headers=auth, timeout=10).status_code == 200
    httpx.get(metered + "/api/v1/customers/00000000-0000-7000-8000-000000000000", headers=auth, timeout=10)
    httpx.get(metered + "/no/such/path", timeout=10)
    r = scrape(metered)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = r.text
    assert 'opsbase_http_requests_total{method="POST",route="/api/v1/customers",status="2xx"} 3' in text
    assert 'opsbase_http_requests_total{method="GET",route="/api/v1/customers/{id}",status="2xx"} 3' in text
    assert 'opsbase_http_requests_total{method="GET",route="/api/v1/customers/{id}",status="4xx"} 1' in text
    assert 'route="unmatched",status="4xx"' in text
    assert not any(cid in text for cid in ids), "ids never become labels"
    assert 'opsbase_tenant_requests_total{tenant="meter"}' in text
    # the session's PostgreSQL database holds the other tests' tenants too
    m = re.search(r"^opsbase_tenants (\d+)$", text, re.M)
    assert m and int(m.group(1)) >= 1 and "opsbase_process_resident_memory_bytes" in text
    assert 'opsbase_http_request_duration_seconds_bucket{method="GET",route="/api/v1/customers/{id}",le="+Inf"} 4' in text
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is installed by scripts/deps.sh test"
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_metrics_need_their_token(metered, server):
    assert scrape(metered, None).status_code == 401
    assert scrape(metered, "wrong-" + "y" * 26).status_code == 401
    # a server started without --metrics-token has no /metrics
    assert scrape(server.url).status_code == 404


def gauge(text, name):
    m = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    assert m, f"{name} is missing"
    return float(m.group(1))


def test_metrics_show_connections_pool_and_job_queues(metered, metered_cli):
    cli, db = metered_cli
    # two clients holding keep-alive connections while the scrape runs
    with httpx.Client() as a, httpx.Client() as b:
        assert a.get(metered + "/healthz").status_code == 200 and b.get(metered + "/healthz").status_code == 200
        text = scrape(metered).text
        assert gauge(text, "opsbase_http_connections_open") >= 3, "the two clients and the scraper"
    engine = "postgres" if db else "sqlite"
    assert gauge(text, f'opsbase_db_connections_open{{engine="{engine}"}}') >= 1
    assert gauge(text, f'opsbase_db_connections_idle{{engine="{engine}"}}') <= \
        gauge(text, f'opsbase_db_connections_open{{engine="{engine}"}}')
    assert gauge(text, f'opsbase_db_connections_opened_total{{engine="{engine}"}}') >= 1
    assert gauge(text, "opsbase_tenants_open") >= 1, "the tenant signed in above has its database open"
    dead_before = gauge(text, "opsbase_jobs_dead")
    assert gauge(text, "opsbase_jobs_queued") >= 0 and gauge(text, "opsbase_jobs_oldest_due_age_seconds") >= 0

    # a job that fails on its only attempt becomes a dead letter, and the
    # gauge (counted over every tenant at most 5 s ago) shows it
    cli.run("job", "enqueue", "--tenant", "meter", "--kind", "system.fail", "--max-attempts", "1", *db)
    deadline = time.monotonic() + h.WAIT_S
    while True:
        text = scrape(metered).text
        if gauge(text, "opsbase_jobs_dead") >= dead_before + 1:
            break
        assert time.monotonic() < deadline, "the dead job never showed in opsbase_jobs_dead"
        time.sleep(0.5)
    check = subprocess.run([shutil.which("promtool") or "promtool", "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
