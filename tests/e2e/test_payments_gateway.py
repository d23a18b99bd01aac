"""Payments (issue #15): capture and refund through payment_transactions, a
bounded ledger over the payment's captured and refunded amounts (refunded
never above captured: 422 refund_exceeds_capture, racing requests included),
Idempotency-Key honoured, payment_status following the ledger."""
import concurrent.futures

import helpers as h

API = "/api/v1"


def new_payment(c, amount="100.00", **fields):
    body = {"customer_id": h.create_customer(c)["id"], "amount": amount, "currency": "INR"}
    body.update(fields)
    return h.create(c, "payments", body)


def act(c, p, verb, amount, key=None):
    headers = {"Idempotency-Key": key} if key else None
    return c.post(f"{API}/payments/{p['id']}/{verb}", json={"amount": amount}, headers=headers)


def txns(c, p):
    return sorted((t["transaction_type"], t["amount"]) for t in h.rows_where(c, "payment_transactions",
                                                                              payment_id=p["id"]))


def test_capture_then_refund(acme_owner):
    p = new_payment(acme_owner)
    assert p["payment_status"] == "pending" and p["captured_amount"] == "0.00"
    p = h.ok(act(acme_owner, p, "capture", "40.00"))
    assert (p["payment_status"], p["captured_amount"], p["payment_gateway"]) == ("processing", "40.00", "simulator")
    p = h.ok(act(acme_owner, p, "capture", "60.00"))
    assert p["payment_status"] == "completed" and p["captured_amount"] == "100.00"
    h.expect_error(act(acme_owner, p, "capture", "0.01"), 422, "capture_exceeds_amount")
    p = h.ok(act(acme_owner, p, "refund", "30.00"))
    assert p["payment_status"] == "completed" and p["refunded_amount"] == "30.00"
    h.expect_error(act(acme_owner, p, "refund", "70.01"), 422, "refund_exceeds_capture")
    p = h.ok(act(acme_owner, p, "refund", "70.00"))
    assert p["payment_status"] == "refunded" and p["refunded_amount"] == "100.00"
    assert txns(acme_owner, p) == [("capture", "40.00"), ("capture", "60.00"), ("refund", "30.00"),
                                   ("refund", "70.00")]
    for t in h.rows_where(acme_owner, "payment_transactions", payment_id=p["id"]):
        assert t["status"] == "succeeded" and t["gateway_transaction_id"].startswith("sim_")
    h.expect_error(act(acme_owner, p, "capture", "1.00"), 422, "invalid_transition")


def test_refund_before_capture_and_bad_input(acme_owner, acme_viewer, globex_owner):
    p = new_payment(acme_owner)
    h.expect_error(act(acme_owner, p, "refund", "0.01"), 422, "refund_exceeds_capture")
    for amount in ("0", "-1.00", "1.001", "x"):
        h.expect_error(act(acme_owner, p, "capture", amount), 400, "validation_failed", "amount")
    h.expect_error(acme_owner.post(f"{API}/payments/{p['id']}/capture", json={}), 400, "validation_failed", "amount")
    h.expect_error(acme_viewer.post(f"{API}/payments/{p['id']}/capture", json={"amount": "1.00"}), 403, "forbidden")
    h.expect_error(act(globex_owner, p, "capture", "1.00"), 404, "not_found")
    assert txns(acme_owner, p) == [] and h.get(acme_owner, "payments", p["id"])["captured_amount"] == "0.00"
    # by hand, the ledger's bound holds too
    h.expect_error(acme_owner.post(f"{API}/payment_transactions", json={"payment_id": p["id"],
                                                                         "transaction_type": "refund",
                                                                         "amount": "1.00"}),
                   422, "refund_exceeds_capture")


def test_idempotency_key_makes_one_transaction(acme_owner):
    p = new_payment(acme_owner)
    key = h.uniq("cap-")
    first = act(acme_owner, p, "capture", "25.00", key=key)
    again = act(acme_owner, p, "capture", "25.00", key=key)
    assert h.ok(first)["captured_amount"] == "25.00" and h.ok(again) == h.ok(first)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert txns(acme_owner, p) == [("capture", "25.00")]
    # the same key for another request is a conflict
    h.expect_error(act(acme_owner, p, "capture", "26.00", key=key), 409, "idempotency_conflict")
    assert h.get(acme_owner, "payments", p["id"])["captured_amount"] == "25.00"


def test_racing_refunds_for_the_last_capture(acme_owner):
    p = new_payment(acme_owner)
    h.ok(act(acme_owner, p, "capture", "100.00"))
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: act(acme_owner, p, "refund", "60.00"), range(4)))
    assert sorted(r.status_code for r in results) == [200, 422, 422, 422], [h.show(r) for r in results]
    h.expect_error(next(r for r in results if r.status_code == 422), 422, "refund_exceeds_capture")
    assert h.get(acme_owner, "payments", p["id"])["refunded_amount"] == "60.00"
    assert txns(acme_owner, p) == [("capture", "100.00"), ("refund", "60.00")]


def test_a_captured_payment_pays_its_invoice(new_tenant):
    t = new_tenant().owner
    cust = h.create_customer(t)
    inv = h.create(t, "invoices", {"customer_id": cust["id"]})
    h.create(t, "invoice_items", {"invoice_id": inv["id"], "description": "repair", "unit_price": "100.00"})
    h.ok(t.post(f"{API}/invoices/{inv['id']}/issue"))
    p = h.create(t, "payments", {"customer_id": cust["id"], "invoice_id": inv["id"], "amount": "100.00"})
    h.ok(act(t, p, "capture", "100.00"))
    inv = h.get(t, "invoices", inv["id"])
    assert inv["status"] == "paid" and inv["amount_paid"] == "100.00"
