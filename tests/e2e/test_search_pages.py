"""q= search in the default order (issue #20): results come most recently added
first, page by page through next_cursor, with filters and the caller's row
scope still applied; an explicit sort= keeps its exact order. Rows here are
created one after another, so "most recently added first" is also newest
created_at first, on both engines."""
import time

import helpers as h


def _ids(rows):
    return [r["id"] for r in rows]


def _made(n, make):
    out = []
    for i in range(n):
        out.append(make(i))
        time.sleep(0.003)
    return out


def test_search_pages_newest_first(acme_owner):
    w = h.word()
    docs = _made(7, lambda i: h.create_document(acme_owner, title=f"Guide {w} part {i}"))
    h.create_document(acme_owner, title="Guide without the word")
    want = _ids(reversed(docs))
    # two rows a page: four pages, each continuing where the last stopped
    pages, params = [], {"q": w, "limit": "2"}
    for _ in range(10):
        body = h.page(acme_owner, "documents", params)
        pages.append(_ids(body["data"]))
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert pages == [want[0:2], want[2:4], want[4:6], want[6:7]]
    assert _ids(h.list_all(acme_owner, "documents", {"q": w}, limit=3)) == want
    # an explicit sort is honoured exactly, oldest first too
    assert _ids(h.list_all(acme_owner, "documents", {"q": w, "sort": "-created_at"}, limit=2)) == want
    assert _ids(h.list_all(acme_owner, "documents", {"q": w, "sort": "created_at"}, limit=2)) == want[::-1]


def test_search_cursor_survives_its_row_being_deleted(acme_owner):
    w = h.word()
    docs = _made(5, lambda i: h.create_document(acme_owner, title=f"Manual {w} {i}"))
    want = _ids(reversed(docs))
    body = h.page(acme_owner, "documents", {"q": w, "limit": "2"})
    assert _ids(body["data"]) == want[:2] and body["next_cursor"]
    # the row the cursor names is gone: the next page still starts after it
    h.ok(acme_owner.delete(f"/api/v1/documents/{want[1]}"))
    rest = h.page(acme_owner, "documents", {"q": w, "limit": "10", "cursor": body["next_cursor"]})
    assert _ids(rest["data"]) == want[2:] and rest["next_cursor"] is None


def test_search_with_filters_and_soft_deletes(acme_owner):
    w = h.word()
    tiers = ["premium", "basic"]
    custs = _made(8, lambda i: h.create_customer(acme_owner, company_name=f"{w} Trading {i}",
                                                 customer_tier=tiers[i % 2]))
    premium = [c["id"] for c in reversed(custs) if c["customer_tier"] == "premium"]
    assert _ids(h.list_all(acme_owner, "customers", {"q": w, "customer_tier": "premium"}, limit=1)) == premium
    # a soft-deleted customer is not found any more
    h.ok(acme_owner.delete(f"/api/v1/customers/{premium[1]}"))
    got = _ids(h.list_all(acme_owner, "customers", {"q": w, "customer_tier": "premium"}, limit=2))
    assert got == [premium[0]] + premium[2:]
    assert len(h.list_all(acme_owner, "customers", {"q": w}, limit=3)) == 7
    # filters that exclude every match give an empty page, not an error
    assert h.list_all(acme_owner, "customers", {"q": w, "customer_tier": "standard"}) == []


def test_search_scope_customer_sees_only_own_rows(cli, login, acme_owner):
    w = h.word()
    mine, other = h.create_customer(acme_owner), h.create_customer(acme_owner)
    tickets = _made(6, lambda i: h.create_ticket(acme_owner, (mine if i % 2 else other)["id"],
                                                 title=f"Printer {w} jam {i}"))
    email = h.uniq("portal") + "@acme.test"
    cli.user_create("acme", email, "customer")
    uid = h.user_id_by_email(acme_owner, email)
    h.ok(acme_owner.patch(f"/api/v1/users/{uid}", json={"customer_id": mine["id"]}))
    portal = login("acme", email)
    own = [t["id"] for t in reversed(tickets) if t["customer_id"] == mine["id"]]
    assert _ids(h.list_all(portal, "tickets", {"q": w}, limit=1)) == own
    assert _ids(h.list_all(acme_owner, "tickets", {"q": w}, limit=4)) == _ids(reversed(tickets))
    # a filter naming the other customer's rows finds nothing for the portal user
    assert h.list_all(portal, "tickets", {"q": w, "customer_id": other["id"]}) == []


def test_search_window_on_a_large_table_matches_the_plain_search(server, new_tenant):
    """PostgreSQL: on a table of at least 50,000 rows (the planner's estimate)
    a newest-first q= reads the matches among the newest rows first and falls
    back to the plain search when they do not fill the page (list.c
    pg_window). Its pages are compared, cursor by cursor, with an explicit
    sort=-created_at, which always takes the plain path: the same rows in the
    same order, with a filter, with ties on created_at (id breaks them), and
    for words too rare to fill a page from the window. SQLite walks its FTS5
    index instead (the tests above)."""
    if not server.db_url:
        import pytest
        pytest.skip("the window is PostgreSQL's search path")
    t = new_tenant()
    c = t.owner
    w, rare, every = h.word(), h.word(), h.word()
    # 52,000 rows, two per second of created_at (ties), newest g = 1; w in one
    # row of 100 (520 rows), rare in 3 old rows, every in every row, 52
    # suspended rows (about 10 in the window: a filter that falls back)
    h.tenant_sql(server, t.slug, f"""
        INSERT INTO customers (id, created_at, updated_at, version, customer_code, company_name, notes, status)
        SELECT gen_random_uuid()::text, now() - ((g / 2) || ' seconds')::interval, now(), 1, 'BULK-' || g,
               CASE WHEN g % 100 = 0 THEN 'Acme {w} ' || g ELSE 'Other ' || g END,
               CASE WHEN g IN (9001, 30007, 51999) THEN '{rare} note' ELSE 'plain {every} note' END,
               CASE WHEN g % 997 = 0 THEN 'suspended' WHEN g % 3 = 0 THEN 'inactive' ELSE 'active' END
        FROM generate_series(1, 52000) g;
        ANALYZE customers;""")
    newest = h.create_customer(c, company_name=f"Newest {w}", notes=f"{rare} {every}")
    cases = [({"q": w}, 521), ({"q": w, "status": "active"}, None), ({"q": rare}, 4), ({"q": f"{every} {rare}"}, 1),
             ({"q": every, "status": "suspended"}, 52), ({"q": "absentword"}, 0)]
    for params, count in cases:
        for limit in (50, 7):
            got = h.list_all(c, "customers", params, limit=limit, max_pages=1000)
            want = h.list_all(c, "customers", dict(params, sort="-created_at"), limit=limit, max_pages=1000)
            assert _ids(got) == _ids(want), (params, limit)
            if count is not None:
                assert len(got) == count, (params, limit, len(got))
    first = h.page(c, "customers", {"q": w, "limit": "3"})
    assert first["data"][0]["id"] == newest["id"] and first["next_cursor"]
