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
