"""Listing: filters, sort, limits, cursor pagination and q= search."""
import time

import pytest

import helpers as h

N = 25
TIERS = ["premium", "standard", "basic"]


@pytest.fixture(scope="module")
def rows(acme_owner):
    """25 customers sharing a unique code prefix, created 3 ms apart so
    created_at orders them strictly. Row i: code TAG-ii, payment_terms i+1,
    tier TIERS[i%3], credit_limit (i%3)*100, notes only when i % 5 == 0."""
    tag = h.uniq("LST").upper()
    out = []
    for i in range(N):
        body = {"customer_code": f"{tag}-{i:02d}", "company_name": f"List Co {i}",
                "payment_terms": i + 1, "customer_tier": TIERS[i % 3],
                "credit_limit": str((i % 3) * 100)}
        if i % 5 == 0:
            body["notes"] = "has notes"
        out.append(h.create(acme_owner, "customers", body))
        time.sleep(0.003)
    return tag, out


def _ids(rs):
    return [r["id"] for r in rs]


def _q(rows, **params):
    tag, _ = rows
    p = {"customer_code.like": f"{tag}-*", "sort": "created_at"}
    p.update({k: str(v) for k, v in params.items()})
    return p


def test_created_at_strictly_increasing(rows):
    _, rs = rows
    ts = [h.parse_ts(r["created_at"]) for r in rs]
    assert ts == sorted(ts) and len(set(ts)) == N


def test_list_shape(acme_owner, rows):
    body = h.page(acme_owner, "customers", _q(rows, limit=5))
    assert isinstance(body["data"], list) and len(body["data"]) == 5
    assert isinstance(body["next_cursor"], str) and body["next_cursor"]
    full = h.page(acme_owner, "customers", _q(rows, limit=200))
    assert len(full["data"]) == N and full["next_cursor"] is None


def test_filter_eq(acme_owner, rows):
    tag, rs = rows
    for params in ({"customer_code": f"{tag}-03"}, {"customer_code.eq": f"{tag}-03"}):
        got = h.list_all(acme_owner, "customers", params)
        assert _ids(got) == [rs[3]["id"]]
    got = h.list_all(acme_owner, "customers", _q(rows, customer_tier="premium"))
    assert _ids(got) == [r["id"] for i, r in enumerate(rs) if i % 3 == 0]


def test_filter_enum_value_any_case(acme_owner, rows):
    _, rs = rows
    got = h.list_all(acme_owner, "customers", _q(rows, customer_tier="PREMIUM"))
    assert _ids(got) == [r["id"] for i, r in enumerate(rs) if i % 3 == 0]


def test_filter_ne(acme_owner, rows):
    _, rs = rows
    got = h.list_all(acme_owner, "customers", _q(rows, **{"customer_tier.ne": "premium"}))
    assert _ids(got) == [r["id"] for i, r in enumerate(rs) if i % 3 != 0]


@pytest.mark.parametrize("op,value,expect", [
    ("gt", 20, lambda t: t > 20),
    ("gte", 20, lambda t: t >= 20),
    ("lt", 3, lambda t: t < 3),
    ("lte", 3, lambda t: t <= 3),
])
def test_filter_int_comparisons(acme_owner, rows, op, value, expect):
    _, rs = rows
    got = h.list_all(acme_owner, "customers", _q(rows, **{f"payment_terms.{op}": value}))
    assert _ids(got) == [r["id"] for r in rs if expect(r["payment_terms"])]


def test_filter_created_at_comparisons(acme_owner, rows):
    _, rs = rows
    pivot = rs[9]["created_at"]
    cases = {"gt": rs[10:], "gte": rs[9:], "lt": rs[:9], "lte": rs[:10]}
    for op, expect in cases.items():
        got = h.list_all(acme_owner, "customers", _q(rows, **{f"created_at.{op}": pivot}))
        assert _ids(got) == _ids(expect), op


def test_filter_in(acme_owner, rows):
    tag, rs = rows
    codes = f"{tag}-01,{tag}-07,{tag}-22,{tag}-99"
    got = h.list_all(acme_owner, "customers", _q(rows, **{"customer_code.in": codes}))
    assert _ids(got) == [rs[1]["id"], rs[7]["id"], rs[22]["id"]]


def test_filter_like_is_case_insensitive(acme_owner, rows):
    tag, rs = rows
    got = h.list_all(acme_owner, "customers",
                     {"customer_code.like": f"{tag.lower()}-1*", "sort": "created_at"})
    assert _ids(got) == _ids(rs[10:20])
    got = h.list_all(acme_owner, "customers", _q(rows, **{"company_name.like": "*co 2*"}))
    assert _ids(got) == [rs[2]["id"]] + _ids(rs[20:25])


def test_filter_null(acme_owner, rows):
    _, rs = rows
    with_notes = [r["id"] for i, r in enumerate(rs) if i % 5 == 0]
    got = h.list_all(acme_owner, "customers", _q(rows, **{"notes.null": "false"}))
    assert _ids(got) == with_notes
    got = h.list_all(acme_owner, "customers", _q(rows, **{"notes.null": "true"}))
    assert _ids(got) == [r["id"] for r in rs if r["id"] not in with_notes]


def test_filters_combine(acme_owner, rows):
    _, rs = rows
    got = h.list_all(acme_owner, "customers",
                     _q(rows, customer_tier="standard", **{"payment_terms.lte": 10}))
    assert _ids(got) == [r["id"] for i, r in enumerate(rs) if i % 3 == 1 and i + 1 <= 10]


def test_sort_asc_desc(acme_owner, rows):
    _, rs = rows
    asc = h.list_all(acme_owner, "customers", _q(rows, sort="created_at"))
    desc = h.list_all(acme_owner, "customers", _q(rows, sort="-created_at"))
    assert _ids(asc) == _ids(rs)
    assert _ids(desc) == list(reversed(_ids(rs)))


def test_sort_by_two_keys(acme_owner, rows):
    _, rs = rows
    got = h.list_all(acme_owner, "customers", _q(rows, sort="credit_limit,-created_at"))
    expect = sorted(rs, key=lambda r: (float(r["credit_limit"]), -rs.index(r)))
    assert _ids(got) == _ids(expect)
    got = h.list_all(acme_owner, "customers", _q(rows, sort="-credit_limit,customer_code"))
    expect = sorted(rs, key=lambda r: (-float(r["credit_limit"]), r["customer_code"]))
    assert _ids(got) == _ids(expect)


def test_sort_by_text_field(acme_owner, rows):
    _, rs = rows
    assert _ids(h.list_all(acme_owner, "customers", _q(rows, sort="customer_code"))) == _ids(rs)
    assert _ids(h.list_all(acme_owner, "customers", _q(rows, sort="-customer_code"))) == \
        list(reversed(_ids(rs)))


def test_sort_on_unsortable_field(acme_owner, rows):
    # customer_tier is filterable but not declared sortable.
    h.expect_error(acme_owner.get("/api/v1/customers", params=_q(rows, sort="customer_tier")),
                   400, "invalid_query")


@pytest.mark.parametrize("sort", ["no_such_field", "-no_such_field", "created_at,bogus", "created_at,"])
def test_sort_unknown_field(acme_owner, rows, sort):
    h.expect_error(acme_owner.get("/api/v1/customers", params=_q(rows, sort=sort)),
                   400, "invalid_query")


@pytest.mark.parametrize("limit", ["0", "201", "abc", "-1", "1.5", "99999999999999999999"])
def test_limit_out_of_bounds(acme_owner, rows, limit):
    h.expect_error(acme_owner.get("/api/v1/customers", params=_q(rows, limit=limit)),
                   400, "invalid_query")


def test_limit_bounds_accepted(acme_owner, rows):
    assert len(h.page(acme_owner, "customers", _q(rows, limit=1))["data"]) == 1
    assert len(h.page(acme_owner, "customers", _q(rows, limit=200))["data"]) == N


@pytest.mark.parametrize("sort", ["created_at", "-created_at", "credit_limit,created_at", "-customer_code"])
def test_cursor_pagination_visits_each_row_once(acme_owner, rows, sort):
    _, rs = rows
    expect = h.list_all(acme_owner, "customers", _q(rows, sort=sort))
    assert len(expect) == N
    seen = []
    sizes = []
    params = _q(rows, sort=sort, limit=7)
    for _ in range(10):
        body = h.page(acme_owner, "customers", params)
        seen.extend(body["data"])
        sizes.append(len(body["data"]))
        if not body["next_cursor"]:
            break
        params["cursor"] = body["next_cursor"]
    assert sizes == [7, 7, 7, 4]
    assert _ids(seen) == _ids(expect)
    assert len(set(_ids(seen))) == N


def test_cursor_survives_inserts(acme_owner, rows):
    """Rows added after the first page neither shift nor repeat what follows."""
    tag, rs = rows
    params = _q(rows, limit=10)
    first = h.page(acme_owner, "customers", params)
    # A new row that sorts last (newest); it may appear at the end, nowhere else.
    extra = h.create_customer(acme_owner, customer_code=f"{tag}-X{h.uniq()}")
    try:
        params["cursor"] = first["next_cursor"]
        rest = h.list_all(acme_owner, "customers", params, limit=10)
        ids = _ids(first["data"]) + _ids(rest)
        assert ids[:N] == _ids(rs)
        assert ids[N:] == [extra["id"]]
    finally:
        h.ok(acme_owner.delete(f"/api/v1/customers/{extra['id']}"))


@pytest.mark.parametrize("cursor", ["garbage", "AAAA", "!!!", "eyJ4Ijoie30="])
def test_garbage_cursor(acme_owner, rows, cursor):
    h.expect_error(acme_owner.get("/api/v1/customers", params=_q(rows, cursor=cursor)),
                   400, "invalid_query")


@pytest.mark.parametrize("params", [
    {"no_such_field": "1"},
    {"no_such_field.eq": "1"},
    {"customer_code.regex": "x"},
    {"customer_code.": "x"},
    {"payment_terms.gt": "abc"},
    {"created_at.gt": "yesterday"},
    {"notes.null": "maybe"},
])
def test_unknown_filter_field_or_operator(acme_owner, params):
    h.expect_error(acme_owner.get("/api/v1/customers", params=params), 400, "invalid_query")


def test_secret_columns_not_filterable(acme_owner):
    h.expect_error(acme_owner.get("/api/v1/users", params={"password_hash.like": "*"}),
                   400, "invalid_query")


def test_q_search_documents(acme_owner):
    w1, w2 = h.word(), h.word()
    d1 = h.create_document(acme_owner, title=f"How to reset {w1}",
                           content="Steps for the reset procedure")
    d2 = h.create_document(acme_owner, title="Shipping delays",
                           content=f"When the flight is late the {w2} is rebooked")
    h.create_document(acme_owner, title="Unrelated", content="Nothing to see")
    assert _ids(h.list_all(acme_owner, "documents", {"q": w1})) == [d1["id"]]
    assert _ids(h.list_all(acme_owner, "documents", {"q": w2})) == [d2["id"]]
    assert _ids(h.list_all(acme_owner, "documents", {"q": w1.upper()})) == [d1["id"]]
    assert h.list_all(acme_owner, "documents", {"q": h.word()}) == []


def test_q_search_tickets(acme_owner):
    cust = h.create_customer(acme_owner)
    w = h.word()
    t = h.create_ticket(acme_owner, cust["id"], title=f"Printer {w} jammed")
    h.create_ticket(acme_owner, cust["id"], title="Another problem")
    assert _ids(h.list_all(acme_owner, "tickets", {"q": w})) == [t["id"]]
    got = h.list_all(acme_owner, "tickets", {"q": w, "status": "open"})
    assert _ids(got) == [t["id"]]


def test_default_limit_is_50(acme_owner):
    w = h.word()
    made = [h.create_document(acme_owner, title=f"Bulk {w} {i}") for i in range(51)]
    body = h.page(acme_owner, "documents", {"title.like": f"bulk {w} *"})
    assert len(body["data"]) == 50 and body["next_cursor"]
    assert len(h.rows_where(acme_owner, "documents", **{"title.like": f"bulk {w} *"})) == len(made)
