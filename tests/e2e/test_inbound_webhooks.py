"""Inbound webhooks (issue 11) and the channel order providers (issue 14):
connect returns the endpoint and its secret once; a provider's POST is
verified before anything is written (401 and one security_violations row
otherwise), stored raw once per delivery id (a replay changes nothing) and
applied by the job inbound.process to one unified order per (channel,
external_order_id): items mapped through channel_products or SKU, unknown
SKUs kept and flagged, cod or prepaid, addresses, exact totals. Shopify,
WooCommerce and the generic signed form. Both engines."""
import base64
import hashlib
import hmac
import json
import threading
import time

import httpx

import helpers as h
import stock_helpers as sh

API = "/api/v1"


def _wait(pred, what, timeout=h.WAIT_S):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def connect(c, channel_type="shopify", secret=None):
    ch = h.create(c, "sales_channels", {"channel_type_code": channel_type, "name": "Shop " + h.uniq()})
    body = {"credentials": {"access_token": "tok"}}
    if secret:
        body["webhook_secret"] = secret
    conn = h.ok(c.post(f"{API}/sales_channels/{ch['id']}/connect", json=body))
    return ch, conn


def b64sig(secret, body):
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_post(server, conn, payload, topic="orders/create", delivery=None, secret=None, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
               "X-Shopify-Webhook-Id": delivery or h.uniq("wh-"),
               "X-Shopify-Hmac-Sha256": b64sig(secret or conn["webhook_secret"], body)}
    return httpx.post(server.url + conn["webhook_url"], content=body, headers=headers, timeout=h.HTTP_TIMEOUT)


def shopify_order(oid, **over):
    o = {
        "id": oid, "name": f"#{oid % 100000}", "email": "Buyer@Example.test", "phone": "+919800000001",
        "created_at": "2026-12-01T10:00:00-05:00", "currency": "INR",
        "subtotal_price": "1099.98", "total_discounts": "100.00", "total_tax": "54.01",
        "total_shipping_price_set": {"shop_money": {"amount": "49.99", "currency_code": "INR"}},
        "total_price": "1103.98", "financial_status": "pending", "gateway": "Cash on Delivery (COD)",
        "shipping_address": {"first_name": "Asha", "last_name": "Rao", "name": "Asha Rao", "address1": "1 MG Road",
                             "address2": "Flat 2", "city": "Bengaluru", "province": "Karnataka", "zip": "560001",
                             "country_code": "IN", "phone": "+919800000001"},
        "line_items": [],
    }
    o.update(over)
    return o


def inbound(c, rid):
    return h.get(c, "inbound_webhooks", rid)


def processed(c, rid):
    return _wait(lambda: (lambda r: r if r["status"] != "received" else None)(inbound(c, rid)), "processing")


def order_of(c, channel_id, ext):
    rows = h.rows_where(c, "orders", channel_id=channel_id, external_order_id=str(ext))
    assert len(rows) <= 1
    return rows[0] if rows else None


def test_connect_returns_the_endpoint_and_secret_once(server, new_tenant):
    t = new_tenant()
    ch, conn = connect(t.owner)
    assert conn["webhook_url"] == f"/api/v1/hooks/shopify/{t.slug}/{ch['id']}"
    assert len(conn["webhook_secret"]) >= 40  # 32 random bytes
    again = h.get(t.owner, "sales_channels", ch["id"])
    assert "webhook_secret" not in again and again["webhook_url"] == conn["webhook_url"]
    # a secret the channel already has is kept; other channel types use the generic form
    ch2, conn2 = connect(t.owner, "amazon", secret="given-secret-123")
    assert conn2["webhook_secret"] == "given-secret-123"
    assert conn2["webhook_url"] == f"/api/v1/hooks/generic/{t.slug}/{ch2['id']}"


def test_shopify_order_is_created_mapped_and_replays_change_nothing(server, new_tenant):
    t = new_tenant()
    c = t.owner
    ch, conn = connect(c)
    listed = sh.product(c)
    by_sku = sh.product(c, sku="TEE-" + h.uniq())
    h.create(c, "channel_products", {"product_id": listed["id"], "channel_id": ch["id"],
                                     "external_product_id": "7001", "external_variant_id": "8001"})
    oid = 450789469
    payload = shopify_order(oid, line_items=[
        {"id": 1, "product_id": 7001, "variant_id": 8001, "sku": "whatever", "title": "Listed", "quantity": 2,
         "price": "199.99", "total_discount": "0.00"},
        {"id": 2, "product_id": 7002, "variant_id": 8002, "sku": by_sku["sku"].lower(), "title": "Tee", "quantity": 1,
         "price": "600.00", "total_discount": "100.00"},
        {"id": 3, "product_id": 7003, "variant_id": None, "sku": "NOPE-1", "title": "Mystery", "quantity": 1,
         "price": "100.00", "total_discount": "0.00"},
    ])
    delivery = h.uniq("shop-")
    r = shopify_post(server, conn, payload, delivery=delivery)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["status"] == "received"
    row = processed(c, first["id"])
    assert row["status"] == "processed" and row["provider"] == "shopify" and row["topic"] == "orders/create"
    assert row["note"] == "1 item(s) not mapped to a product"
    assert json.loads(row["payload"]) == payload  # the raw body, kept
    o = order_of(c, ch["id"], oid)
    assert row["result_id"] == o["id"]
    assert o["status"] == "pending" and o["external_order_number"] == "#89469"
    assert o["payment_method"] == "cod" and o["payment_status"] == "cod"
    assert o["payment_gateway"] == "Cash on Delivery (COD)"
    assert (o["subtotal"], o["discount_amount"], o["tax_amount"], o["shipping_amount"], o["total_amount"]) == \
        ("1099.98", "100.00", "54.01", "49.99", "1103.98")
    assert o["order_date"] == "2026-12-01T15:00:00.000Z"
    assert o["customer_name"] == "Asha Rao" and o["customer_email"] == "buyer@example.test"
    assert o["shipping_address"] == {"name": "Asha Rao", "phone": "+919800000001", "line1": "1 MG Road",
                                     "line2": "Flat 2", "city": "Bengaluru", "state": "Karnataka",
                                     "postal_code": "560001", "country": "IN"}
    items = {i["name"]: i for i in h.rows_where(c, "order_items", order_id=o["id"])}
    assert set(items) == {"Listed", "Tee", "Mystery"}
    assert items["Listed"]["product_id"] == listed["id"] and items["Listed"]["total_amount"] == "399.98"
    assert items["Tee"]["product_id"] == by_sku["id"] and items["Tee"]["total_amount"] == "500.00"
    assert items["Tee"]["discount_amount"] == "100.00"
    assert items["Mystery"]["product_id"] is None and items["Mystery"]["metadata"] == {"unmapped": True}
    assert items["Mystery"]["sku"] == "NOPE-1" and items["Mystery"]["external_product_id"] == "7003"

    # the provider retries the same delivery: answered, nothing new
    r2 = shopify_post(server, conn, payload, delivery=delivery)
    assert r2.status_code == 200 and r2.json() == {"id": first["id"], "status": "duplicate"}
    time.sleep(1.5)
    assert len(h.rows_where(c, "inbound_webhooks", delivery_id=delivery)) == 1
    assert h.get(c, "orders", o["id"]) == o
    assert len(h.rows_where(c, "order_items", order_id=o["id"])) == 3
    assert len(h.rows_where(c, "orders", channel_id=ch["id"])) == 1


def test_shopify_update_and_cancel_apply_while_pending(server, new_tenant):
    t = new_tenant()
    c = t.owner
    ch, conn = connect(c)
    line = {"id": 1, "product_id": 1, "sku": "A-1", "title": "A", "quantity": 1, "price": "10.00"}
    oid = 1001
    r = shopify_post(server, conn, shopify_order(oid, line_items=[line], total_price="10.00", subtotal_price="10.00",
                                                 gateway="razorpay", financial_status="paid"))
    processed(c, r.json()["id"])
    o = order_of(c, ch["id"], oid)
    assert (o["payment_method"], o["payment_status"]) == ("prepaid", "paid")
    # an update while pending: header and lines follow the channel
    r = shopify_post(server, conn, shopify_order(oid, line_items=[dict(line, quantity=3)], total_price="30.00",
                                                 subtotal_price="30.00", gateway="razorpay", financial_status="paid"),
                     topic="orders/updated")
    assert processed(c, r.json()["id"])["status"] == "processed"
    o2 = h.get(c, "orders", o["id"])
    assert o2["total_amount"] == "30.00" and o2["order_number"] == o["order_number"]
    (item,) = h.rows_where(c, "order_items", order_id=o["id"])
    assert item["quantity"] == 3 and item["total_amount"] == "30.00"
    # a topic the provider does not apply is stored and ignored
    r = shopify_post(server, conn, {"id": 5}, topic="products/create")
    row = processed(c, r.json()["id"])
    assert row["status"] == "ignored" and "products/create" in row["note"]
    # cancelled while pending: the order's cancel event
    r = shopify_post(server, conn, shopify_order(oid, cancelled_at="2026-12-02T00:00:00Z"), topic="orders/cancelled")
    assert processed(c, r.json()["id"])["status"] == "processed"
    assert h.get(c, "orders", o["id"])["status"] == "cancelled"
    # once it has moved on here, the channel's changes are not applied
    r = shopify_post(server, conn, shopify_order(oid, total_price="99.00"), topic="orders/updated")
    row = processed(c, r.json()["id"])
    assert row["status"] == "ignored" and row["note"].startswith("the order is cancelled")
    assert h.get(c, "orders", o["id"])["total_amount"] == "30.00"


def test_bad_signatures_and_wrong_endpoints_write_nothing(server, new_tenant):
    t = new_tenant()
    c = t.owner
    ch, conn = connect(c)
    before = len(h.list_all(c, "security_violations"))
    payload = shopify_order(77, line_items=[])
    # signed with another secret, or not signed, or the body changed after signing
    h.expect_error(shopify_post(server, conn, payload, secret="not-the-secret"), 401, "invalid_signature")
    body = json.dumps(payload).encode()
    r = httpx.post(server.url + conn["webhook_url"], content=body, timeout=h.HTTP_TIMEOUT,
                   headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "x1"})
    h.expect_error(r, 401, "invalid_signature")
    r = httpx.post(server.url + conn["webhook_url"], content=body + b" ", timeout=h.HTTP_TIMEOUT,
                   headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "x2",
                            "X-Shopify-Hmac-Sha256": b64sig(conn["webhook_secret"], body)})
    h.expect_error(r, 401, "invalid_signature")
    v = h.list_all(c, "security_violations")
    assert len(v) == before + 3
    assert v[0]["violation_type"] == "invalid_webhook_signature" and ch["id"] in v[0]["description"]
    assert h.list_all(c, "inbound_webhooks") == [] and h.list_all(c, "orders") == []
    # signed, but without the delivery id
    r = httpx.post(server.url + conn["webhook_url"], content=body, timeout=h.HTTP_TIMEOUT,
                   headers={"X-Shopify-Topic": "orders/create",
                            "X-Shopify-Hmac-Sha256": b64sig(conn["webhook_secret"], body)})
    h.expect_error(r, 400, "bad_request")
    # another tenant's channel, an unknown tenant or channel, the wrong provider: 404
    other = new_tenant()
    och, oconn = connect(other.owner)
    for path in (f"/api/v1/hooks/shopify/{t.slug}/{och['id']}", f"/api/v1/hooks/shopify/nosuch/{ch['id']}",
                 f"/api/v1/hooks/shopify/{t.slug}/{h.MISSING_ID}", f"/api/v1/hooks/shopify/{t.slug}/not-an-id",
                 f"/api/v1/hooks/woocommerce/{t.slug}/{ch['id']}"):
        r = httpx.post(server.url + path, content=body, timeout=h.HTTP_TIMEOUT,
                       headers={"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "x3",
                                "X-Shopify-Hmac-Sha256": b64sig(oconn["webhook_secret"], body),
                                "X-WC-Webhook-Signature": b64sig(conn["webhook_secret"], body),
                                "X-WC-Webhook-Delivery-ID": "x3", "X-WC-Webhook-Topic": "order.created"})
        h.expect_error(r, 404, "not_found")
    # a disconnected channel takes no webhooks
    h.ok(c.post(f"{API}/sales_channels/{ch['id']}/disconnect", json={}))
    h.expect_error(shopify_post(server, conn, payload), 404, "not_found")
    assert h.list_all(c, "inbound_webhooks") == [] and h.list_all(other.owner, "inbound_webhooks") == []
    # the log is written by the server only
    h.expect_error(c.post(f"{API}/inbound_webhooks", json={}), 405, "method_not_allowed")


def test_racing_copies_of_one_delivery_store_one(server, new_tenant):
    t = new_tenant()
    c = t.owner
    ch, conn = connect(c)
    payload = shopify_order(4242, line_items=[{"id": 1, "sku": "Z", "title": "Z", "quantity": 1, "price": "5.00"}],
                            total_price="5.00", subtotal_price="5.00")
    delivery = h.uniq("race-")
    out = []
    start = threading.Barrier(6)

    def send():
        start.wait()
        out.append(shopify_post(server, conn, payload, delivery=delivery))

    th = [threading.Thread(target=send) for _ in range(6)]
    [x.start() for x in th]
    [x.join() for x in th]
    assert all(r.status_code == 200 for r in out), [r.text for r in out]
    assert len({r.json()["id"] for r in out}) == 1
    assert sorted(r.json()["status"] for r in out).count("received") == 1
    processed(c, out[0].json()["id"])
    assert len(h.rows_where(c, "orders", channel_id=ch["id"])) == 1
    assert len(h.rows_where(c, "inbound_webhooks", delivery_id=delivery)) == 1


def test_woocommerce_order(server, new_tenant):
    t = new_tenant()
    c = t.owner
    ch, conn = connect(c, "woocommerce")
    assert conn["webhook_url"] == f"/api/v1/hooks/woocommerce/{t.slug}/{ch['id']}"
    p = sh.product(c)
    payload = {
        "id": 727, "number": "727", "status": "processing", "currency": "INR",
        "date_created_gmt": "2026-12-03T08:30:00", "discount_total": "0.00", "shipping_total": "40.00",
        "total": "340.00", "total_tax": "0.00", "payment_method": "cod",
        "billing": {"first_name": "Ravi", "last_name": "K", "address_1": "2 Park St", "city": "Kolkata",
                    "state": "WB", "postcode": "700016", "country": "IN", "email": "ravi@example.test",
                    "phone": "+919800000002"},
        "shipping": {"first_name": "", "last_name": "", "address_1": "", "city": "", "state": "", "postcode": "",
                     "country": ""},
        "line_items": [{"id": 1, "name": "Mug", "product_id": 55, "variation_id": 0, "quantity": 3,
                        "subtotal": "300.00", "total": "300.00", "sku": p["sku"], "price": 100}],
    }
    body = json.dumps(payload).encode()
    r = httpx.post(server.url + conn["webhook_url"], content=body, timeout=h.HTTP_TIMEOUT,
                   headers={"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Delivery-ID": "d-1",
                            "X-WC-Webhook-Signature": b64sig(conn["webhook_secret"], body)})
    assert r.status_code == 200, r.text
    assert processed(c, r.json()["id"])["status"] == "processed"
    o = order_of(c, ch["id"], 727)
    assert (o["payment_method"], o["payment_status"], o["total_amount"], o["subtotal"], o["shipping_amount"]) == \
        ("cod", "cod", "340.00", "300.00", "40.00")
    assert o["order_date"] == "2026-12-03T08:30:00.000Z" and o["customer_name"] == "Ravi K"
    assert o["shipping_address"]["line1"] == "2 Park St" and o["shipping_address"]["postal_code"] == "700016"
    (item,) = h.rows_where(c, "order_items", order_id=o["id"])
    assert item["product_id"] == p["id"] and item["unit_price"] == "100.00" and item["quantity"] == 3
    h.expect_error(httpx.post(server.url + conn["webhook_url"], content=body, timeout=h.HTTP_TIMEOUT,
                              headers={"X-WC-Webhook-Topic": "order.created", "X-WC-Webhook-Delivery-ID": "d-2",
                                       "X-WC-Webhook-Signature": b64sig("wrong", body)}), 401, "invalid_signature")


def test_generic_signed_form(server, new_tenant):
    t = new_tenant()
    c = t.owner
    ch, conn = connect(c, "flipkart")
    payload = {"order": {"external_order_id": "FK-1", "customer_name": "Meera", "currency": "INR",
                         "shipping_address": {"line1": "3 Lake Rd", "city": "Pune"}, "subtotal": "250.50",
                         "total_amount": "250.50", "payment_method": "prepaid", "payment_status": "paid",
                         "items": [{"sku": "UNKNOWN-9", "name": "Lamp", "quantity": 1, "unit_price": "250.50"}]}}
    body = json.dumps(payload).encode()

    def post(ts, secret=None, delivery="g-1"):
        sig = "v1=" + hmac.new((secret or conn["webhook_secret"]).encode(), f"{ts}.".encode() + body,
                               hashlib.sha256).hexdigest()
        return httpx.post(server.url + conn["webhook_url"], content=body, timeout=h.HTTP_TIMEOUT,
                          headers={"Opsbase-Event": "order.created", "Opsbase-Delivery": delivery,
                                   "Opsbase-Timestamp": str(ts), "Opsbase-Signature": sig})

    # a stale timestamp cannot be replayed under a new delivery id
    h.expect_error(post(int(time.time()) - 3600), 401, "invalid_signature")
    h.expect_error(post(int(time.time()), secret="nope"), 401, "invalid_signature")
    r = post(int(time.time()))
    assert r.status_code == 200, r.text
    assert processed(c, r.json()["id"])["status"] == "processed"
    o = order_of(c, ch["id"], "FK-1")
    assert (o["total_amount"], o["payment_method"], o["payment_status"]) == ("250.50", "prepaid", "paid")
    (item,) = h.rows_where(c, "order_items", order_id=o["id"])
    assert item["product_id"] is None and item["metadata"] == {"unmapped": True}
    # a payload the table refuses fails its job (retried, visible), and writes no order
    bad = json.dumps({"order": {"external_order_id": "FK-2", "customer_name": "X", "subtotal": "1.001",
                                "total_amount": "1.00", "shipping_address": {}}}).encode()
    ts = str(int(time.time()))
    sig = "v1=" + hmac.new(conn["webhook_secret"].encode(), f"{ts}.".encode() + bad, hashlib.sha256).hexdigest()
    r = httpx.post(server.url + conn["webhook_url"], content=bad, timeout=h.HTTP_TIMEOUT,
                   headers={"Opsbase-Event": "order.created", "Opsbase-Delivery": "g-2", "Opsbase-Timestamp": ts,
                            "Opsbase-Signature": sig})
    assert r.status_code == 200
    job = _wait(lambda: [j for j in h.list_all(c, "jobs", {"kind": "inbound.process"})
                         if j["attempts"] >= 1 and j["last_error"]
                         and h.as_obj(j["payload"]).get("inbound_id") == r.json()["id"]], "a failed attempt")
    assert "subtotal" in job[0]["last_error"]
    assert inbound(c, r.json()["id"])["status"] == "received" and order_of(c, ch["id"], "FK-2") is None
