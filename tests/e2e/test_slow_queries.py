"""The slow-query log (issue 18): `serve --slow-query-ms N` logs every
database statement that takes at least N ms once, as one JSON line (engine,
tenant, the statement's text with placeholders and never its bound values,
duration, rows), and counts them in /metrics."""
import json
import re

import httpx
import pytest

import helpers as h
import obs_helpers as oh

TOKEN = "slow-metrics-" + "t" * 20


@pytest.fixture(scope="module")
def slow_cli(opsbase_bin, tmp_path_factory, database):
    return oh.make_cli(opsbase_bin, tmp_path_factory, "slow", database)


def _metric(url, name):
    text = httpx.get(url + "/metrics", headers={"Authorization": "Bearer " + TOKEN}, timeout=10).text
    m = re.search(rf"^{name}{{engine=\"(\w+)\"}} (\S+)$", text, re.M)
    assert m, text[:3000]
    return m.group(1), float(m.group(2))


def _slow_lines(served):
    out = []
    for line in served.log_lines():
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if obj.get("msg") == "slow query":
            out.append(obj)
    return out


def _work(url, secret):
    token = h.login_raw(url, "obs", "owner@obs.test", h.OWNER_PASSWORD).json()["token"]
    with h.ApiClient(base_url=url, timeout=10, headers={"Authorization": "Bearer " + token}) as c:
        h.create(c, "customers", {"customer_code": secret, "company_name": secret})
        assert c.get("/api/v1/customers", params={"customer_code": secret}).status_code == 200


def test_threshold_zero_logs_every_statement_without_parameters(opsbase_bin, slow_cli):
    s = oh.serve(opsbase_bin, slow_cli, "--slow-query-ms", "0", "--workers", "0", "--metrics-token", TOKEN)
    secret = h.uniq("SECRET-")
    try:
        _work(s.url, secret)
        engine, counted = _metric(s.url, "opsbase_db_slow_statements_total")
        _, total = _metric(s.url, "opsbase_db_statements_total")
    finally:
        s.stop()
    lines = _slow_lines(s)
    assert counted >= 1 and total >= counted and len(lines) >= counted
    for obj in lines:
        assert obj["level"] == "warn" and obj["engine"] == engine
        assert float(obj["duration_ms"]) >= 0 and int(obj["rows"]) >= 0 and obj["sql"]
        assert obj["tenant"] in ("obs", "(control)")
    # the customer's insert is there, as its text with placeholders
    inserts = [o for o in lines if o["tenant"] == "obs" and re.match(r"INSERT INTO \"?customers\"? ", o["sql"])]
    assert inserts and "?" in inserts[0]["sql"]
    # a list read rows; the control database's statements are logged too
    assert any(o["sql"].startswith("SELECT") and int(o["rows"]) >= 1 for o in lines)
    assert any(o["tenant"] == "(control)" for o in lines)
    # never a bound value: the secret was bound in the insert and the filter
    assert not any(secret in json.dumps(o) for o in lines)


def test_large_threshold_logs_nothing(opsbase_bin, slow_cli):
    s = oh.serve(opsbase_bin, slow_cli, "--slow-query-ms", "600000", "--workers", "0", "--metrics-token", TOKEN)
    try:
        _work(s.url, h.uniq("C-"))
        _, counted = _metric(s.url, "opsbase_db_slow_statements_total")
        _, total = _metric(s.url, "opsbase_db_statements_total")
    finally:
        s.stop()
    assert counted == 0 and total > 10
    assert _slow_lines(s) == []


def test_slow_query_flag_is_checked(slow_cli):
    r = slow_cli.run("serve", "--slow-query-ms", "soon", "--listen", "127.0.0.1:1", check=False)
    assert r.returncode != 0 and "--slow-query-ms" in r.stderr
