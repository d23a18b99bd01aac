"""Export governance (issue #12): a day's limit per role, the export kinds a
role may take, and exports above the approval threshold: 202 with a pending
export_logs row and a one-time token, approve or reject by a permitted user
(declared events), the file written by the exports.produce job into the file
store, fetched once (a second fetch, or a racing one, is 410). Both engines."""
import csv
import datetime
import io
import threading
import time

import helpers as h

API = "/api/v1"


def _settings(t, **fields):
    s = h.list_all(t.owner, "security_settings")[0]
    return h.ok(t.owner.patch(f"{API}/security_settings/{s['id']}", json=fields))


def _analyst(cli, login, t):
    email = f"analyst@{t.slug}.test"
    cli.user_create(t.slug, email, "analyst")
    return login(t.slug, email)


def _customers(t, n, word):
    for i in range(n):
        h.create(t.owner, "customers", {"company_name": f"{word} {i:03d}", "email": f"c{i}@{word}.test"})


def _wait(pred, what):
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_day_limit_of_the_tenant_and_of_a_role(cli, login, new_tenant):
    t = new_tenant()
    analyst = _analyst(cli, login, t)
    _customers(t, 2, h.uniq("d"))
    _settings(t, max_exports_per_day=3)
    for _ in range(3):
        assert analyst.get(f"{API}/customers/export").status_code == 200
    e = h.expect_error(analyst.get(f"{API}/customers/export"), 403, "forbidden")
    assert "3 exports a day" in e["message"]
    assert e["fields"] == {"limit": "3", "used": "3"}
    # the role's custom_export_limit replaces the tenant's, up or down
    role = h.find_role_id(t.owner, "analyst")
    rs = h.create(t.owner, "role_security_settings", {"role_id": role, "custom_export_limit": 5})
    assert analyst.get(f"{API}/customers/export").status_code == 200
    h.ok(t.owner.patch(f"{API}/role_security_settings/{rs['id']}", json={"custom_export_limit": 1}))
    e = h.expect_error(analyst.get(f"{API}/customers/export"), 403, "forbidden")
    assert e["fields"] == {"limit": "1", "used": "4"}
    # the owner holds no such role: the tenant's limit of 3 applies, and counts per user
    for _ in range(3):
        assert t.owner.get(f"{API}/customers/export").status_code == 200
    h.expect_error(t.owner.get(f"{API}/customers/export"), 403, "forbidden")
    assert len(h.list_all(t.owner, "export_logs")) == 7


def test_allowed_exports_by_kind(cli, login, new_tenant):
    t = new_tenant()
    analyst = _analyst(cli, login, t)
    _customers(t, 1, h.uniq("k"))
    role = h.find_role_id(t.owner, "analyst")
    # an empty list (the default) restricts nothing
    rs = h.create(t.owner, "role_security_settings", {"role_id": role})
    assert analyst.get(f"{API}/customers/export").status_code == 200
    h.ok(t.owner.patch(f"{API}/role_security_settings/{rs['id']}", json={"allowed_exports": ["orders_csv"]}))
    e = h.expect_error(analyst.get(f"{API}/customers/export"), 403, "forbidden")
    assert 'kind "customers"' in e["message"]
    # orders: csv and json are orders_csv, a spreadsheet is orders_excel
    assert analyst.get(f"{API}/orders/export").status_code == 200
    assert analyst.get(f"{API}/orders/export", params={"format": "json"}).status_code == 200
    h.expect_error(analyst.get(f"{API}/orders/export", params={"format": "xlsx"}), 403, "forbidden")
    # a table with no kind is left to the export permission
    assert analyst.get(f"{API}/tickets/export").status_code == 200
    h.ok(t.owner.patch(f"{API}/role_security_settings/{rs['id']}",
                       json={"allowed_exports": ["customers", "orders_excel"]}))
    assert analyst.get(f"{API}/customers/export").status_code == 200
    assert analyst.get(f"{API}/orders/export", params={"format": "xlsx"}).status_code == 200
    h.expect_error(analyst.get(f"{API}/orders/export"), 403, "forbidden")
    # an unknown kind is refused by the declaration
    h.expect_error(t.owner.patch(f"{API}/role_security_settings/{rs['id']}", json={"allowed_exports": ["nope"]}),
                   400, "validation_failed")
    # refusals write no export_logs row
    assert len(h.list_all(t.owner, "export_logs")) == 6


def _pending(client, **params):
    r = client.get(f"{API}/customers/export", params=params)
    assert r.status_code == 202, h.show(r)
    body = r.json()
    assert body["status"] == "pending_approval" and body["approval_required"] is True
    assert "token_hash" not in body and "file_key" not in body
    assert body["download_url"] == f"{API}/export_logs/{body['id']}/download?token={body['download_token']}"
    return body


def test_approval_then_one_download(cli, login, new_tenant):
    t = new_tenant()
    analyst = _analyst(cli, login, t)
    word = h.uniq("a")
    _customers(t, 4, word)
    _settings(t, require_approval_threshold=3)
    # at the threshold: no approval
    r = analyst.get(f"{API}/customers/export", params={"company_name.like": f"{word} 00[012]"})
    assert r.status_code == 200, h.show(r)
    p = _pending(analyst, **{"company_name.like": f"{word}*", "sort": "company_name",
                             "columns": "company_name,email"})
    assert p["row_count"] == 4 and p["user_id"] == analyst.user["id"]
    log = h.get(t.owner, "export_logs", p["id"])
    assert log["status"] == "pending_approval" and "download_token" not in log and "token_hash" not in log
    url, token = f"{API}/export_logs/{p['id']}/download", p["download_token"]
    # nothing to fetch before approval
    h.expect_error(analyst.get(url, params={"token": token}), 422, "invalid_transition")
    # the analyst cannot approve (not even their own); the owner can
    h.expect_error(analyst.post(f"{API}/export_logs/{p['id']}/approve", json={}), 403, "forbidden")
    ok = h.ok(t.owner.post(f"{API}/export_logs/{p['id']}/approve", json={}))
    assert ok["status"] == "approved" and ok["approved_by"] == t.owner.user["id"] and ok["approved_at"]
    h.expect_error(t.owner.post(f"{API}/export_logs/{p['id']}/approve", json={}), 422, "invalid_transition")
    h.expect_error(t.owner.post(f"{API}/export_logs/{p['id']}/reject", json={}), 422, "invalid_transition")
    done = _wait(lambda: (x := h.get(t.owner, "export_logs", p["id"]))["status"] == "completed" and x,
                 "the export's job")
    job = [j for j in h.list_all(t.owner, "jobs", {"kind": "exports.produce"})]
    assert len(job) == 1 and job[0]["status"] == "done"
    assert done["file_size_bytes"] > 0 and done["row_count"] == 4 and done["download_count"] == 0
    left = h.parse_ts(done["download_expires_at"]) - h.parse_ts(done["updated_at"] if "updated_at" in done
                                                               else done["approved_at"])
    assert 23.9 * 3600 < left.total_seconds() <= 24 * 3600 + 5
    # another user, or a wrong token: as if there were no such export
    h.expect_error(t.owner.get(url, params={"token": token}), 404, "not_found")
    h.expect_error(analyst.get(url, params={"token": "0" * 64}), 404, "not_found")
    h.expect_error(analyst.get(url), 400, "invalid_query")
    # the one download: the rows as the analyst sees them, with the watermark
    r = analyst.get(url, params={"token": token})
    assert r.status_code == 200, h.show(r)
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="customers.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][0].startswith(f"Exported by analyst@{t.slug}.test")
    assert rows[1] == ["company_name", "email"]
    assert [x[0] for x in rows[2:]] == [f"{word} {i:03d}" for i in range(4)]
    listed = {c["company_name"]: c["email"] for c in h.list_all(analyst, "customers", {"company_name.like": f"{word}*"})}
    assert all(listed[x[0]] == x[1] for x in rows[2:])  # masked as the analyst's list masks
    # a second fetch is 410 gone
    h.expect_error(analyst.get(url, params={"token": token}), 410, "gone")
    after = h.get(t.owner, "export_logs", p["id"])
    assert after["status"] == "downloaded" and after["download_count"] == 1


def test_reject_and_racing_downloads(cli, login, new_tenant):
    t = new_tenant()
    analyst = _analyst(cli, login, t)
    _customers(t, 3, h.uniq("r"))
    _settings(t, require_approval_threshold=1)
    p = _pending(analyst)
    h.ok(t.owner.post(f"{API}/export_logs/{p['id']}/reject", json={}))
    got = h.get(t.owner, "export_logs", p["id"])
    assert got["status"] == "rejected" and got["approved_by"] == t.owner.user["id"]
    h.expect_error(t.owner.post(f"{API}/export_logs/{p['id']}/approve", json={}), 422, "invalid_transition")
    h.expect_error(analyst.get(f"{API}/export_logs/{p['id']}/download", params={"token": p["download_token"]}),
                   422, "invalid_transition")
    # an event takes no fields; the log stays read-only otherwise
    h.expect_error(t.owner.post(f"{API}/export_logs/{p['id']}/approve", json={"status": "completed"}), 400,
                   "unknown_field")
    h.expect_error(t.owner.patch(f"{API}/export_logs/{p['id']}", json={"status": "completed"}), 405,
                   "method_not_allowed")

    q = _pending(analyst, format="xlsx")
    h.ok(t.owner.post(f"{API}/export_logs/{q['id']}/approve", json={}))
    _wait(lambda: h.get(t.owner, "export_logs", q["id"])["status"] == "completed", "the export's job")
    url = f"{API}/export_logs/{q['id']}/download"
    results = []
    barrier = threading.Barrier(2)

    def fetch():
        barrier.wait()
        r = analyst.get(url, params={"token": q["download_token"]})
        results.append((r.status_code, r.content[:2]))

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(s for s, _ in results) == [200, 410], results
    assert [c for s, c in results if s == 200] == [b"PK"]  # the workbook (a zip)
    assert h.get(t.owner, "export_logs", q["id"])["download_count"] == 1


def test_threshold_null_never_asks(cli, login, new_tenant):
    t = new_tenant()
    _customers(t, 3, h.uniq("n"))
    _settings(t, require_approval_threshold=None)
    r = t.owner.get(f"{API}/customers/export", params={"format": "json"})
    assert r.status_code == 200 and len(r.json()) == 3
    _settings(t, require_approval_threshold=0)
    p = _pending(t.owner)
    assert p["row_count"] == 3


def test_link_expires(server, cli, login, new_tenant):
    t = new_tenant()
    _customers(t, 2, h.uniq("e"))
    _settings(t, require_approval_threshold=1, export_link_expiry_hours=2)
    p = _pending(t.owner)
    h.ok(t.owner.post(f"{API}/export_logs/{p['id']}/approve", json={}))
    done = _wait(lambda: (x := h.get(t.owner, "export_logs", p["id"]))["status"] == "completed" and x,
                 "the export's job")
    # the link lives the tenant's hours from when the job wrote the file: after the
    # approval, before this test saw it completed (a busy worker may start it late)
    seen = datetime.datetime.now(datetime.timezone.utc)
    expires = h.parse_ts(done["download_expires_at"])
    assert (expires - h.parse_ts(done["approved_at"])).total_seconds() >= 2 * 3600 - 1, done
    assert (expires - seen).total_seconds() <= 2 * 3600 + 1, done
    # the clock moved past the link's life (the row's time set back, as no test can wait hours)
    h.tenant_sql(server, t.slug,
               f"UPDATE export_logs SET download_expires_at = '2020-01-01T00:00:00.000Z' WHERE id = '{p['id']}'")
    url = f"{API}/export_logs/{p['id']}/download"
    e = h.expect_error(t.owner.get(url, params={"token": p["download_token"]}), 410, "gone")
    assert "expired" in e["message"]
    got = h.get(t.owner, "export_logs", p["id"])
    assert got["status"] == "expired" and got["download_count"] == 0
    h.expect_error(t.owner.get(url, params={"token": p["download_token"]}), 410, "gone")
