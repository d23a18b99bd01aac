"""The HTTP courier adapters (issue #14): Shiprocket, Delhivery, BlueDart and
DTDC, each spoken to in its own published request shapes at the base URL of
its courier config's settings - here a local fake of all four
(fake_couriers.py). Shipping books the parcel (AWB, charges, label and
tracking links stored); a refusal or a courier that does not answer leaves
the order unshipped with the courier's words (502 courier_error); polling
(couriers.track) maps each courier's scan codes, a failed delivery opening
an NDR case; reattempts reach the courier as it expects them; credentials
are written by the connect action only and never come back, in answers or in
the server's logs. Both engines."""
import json
import time

import pytest

import fake_couriers as fc
import helpers as h
from test_ndr_reattempt import settled
import stock_helpers as s
from test_commerce_orders import channel

API = "/api/v1"

CREDENTIALS = {"shiprocket": fc.SHIPROCKET, "delhivery": fc.DELHIVERY, "bluedart": fc.BLUEDART, "dtdc": fc.DTDC}
SETTINGS = {
    "shiprocket": {"pickup_location": "Pune-WH"},
    "delhivery": {"pickup_location": "PUNE-WH", "origin_pin": "411001"},
    "bluedart": {"customer_code": "099960", "origin_area": "PNQ", "rate": "72.00",
                 "label_page": "https://labels.shop.test/bd/"},
    "dtdc": {"rate": "55.25", "origin": {"name": "Shop", "phone": "9000000000", "address_line_1": "1 Depot Rd",
                                         "pincode": "411001", "city": "Pune", "state": "MH"}},
}
CHARGES = {"shiprocket": "61.50", "delhivery": "88.20", "bluedart": "72.00", "dtdc": "55.25"}
TYPES = list(CREDENTIALS)


@pytest.fixture(scope="module")
def fake():
    f = fc.FakeCouriers()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def tenant(new_tenant, cli):
    t = new_tenant()
    # the fake listens on loopback: this tenant's outgoing calls may go there
    cli.run("tenant", "set", t.slug, "--webhooks-allow-private", "yes")
    return t


@pytest.fixture
def f(fake):
    fake.reset()
    return fake


def courier(c, fake, kind, **extra):
    cfg = h.create(c, "courier_configs", {"courier_type_code": kind, "name": f"{kind} {h.uniq()}",
                                          "settings": {"base_url": fake.url, **SETTINGS[kind], **extra}})
    got = h.ok(s.act(c, "courier_configs", cfg["id"], "connect", {"credentials": CREDENTIALS[kind]}))
    assert "credentials" not in got
    return cfg


def confirmed(c, pincode="411045", cod=False):
    inv = s.inventory(c, on_hand=5)
    body = {"channel_id": channel(c)["id"], "external_order_id": h.uniq("EXT-"), "customer_name": "Asha " + h.uniq(),
            "shipping_address": {"name": "Asha Rao", "line1": "12 MG Road", "city": "Pune", "state": "MH",
                                 "pincode": pincode, "country": "IN", "phone": "9811122233"},
            "subtotal": "100.00", "total_amount": "100.00"}
    if cod:
        body["payment_method"] = "cod"
    o = h.create(c, "orders", body)
    h.create(c, "order_items", {"order_id": o["id"], "name": "Kurta", "sku": "K-1", "quantity": 2,
                                "unit_price": "50.00", "total_amount": "100.00", "product_id": inv["product_id"]})
    h.ok(s.act(c, "orders", o["id"], "confirm"))
    return o


def ship(c, o, cfg):
    return s.act(c, "orders", o["id"], "ship", {"courier_config_id": cfg["id"]})


def shipment(c, o):
    [sh] = h.list_all(c, "shipments", {"order_id": o["id"]})
    return sh


def no_secret_in(text):
    for secret in fc.SECRETS:
        assert secret not in text


@pytest.mark.parametrize("kind", TYPES)
def test_ship_books_the_parcel_in_the_couriers_format(tenant, f, kind):
    c = tenant.owner
    cfg = courier(c, f, kind)
    o = confirmed(c, cod=kind in ("delhivery", "dtdc"))
    out = h.ok(ship(c, o, cfg))
    assert out["status"] == "shipped" and out["fulfillment_status"] == "fulfilled"
    sh = shipment(c, o)
    awb = sh["awb_number"]
    assert sh["status"] == "manifested" and sh["shipping_charges"] == CHARGES[kind]
    labels = {"shiprocket": f"{f.url}/sr-labels/8001.pdf", "delhivery": f"{f.url}/dl-slips/{awb}.pdf",
              "bluedart": f"https://labels.shop.test/bd/{awb}",
              "dtdc": f"{f.url}/api/customer/integration/consignment/shippinglabel/stream?reference_number={awb}"
                      "&label_code=SHIP_LABEL_4X6&label_format=pdf"}
    tracks = {"shiprocket": "https://shiprocket.co/tracking/", "delhivery": "https://www.delhivery.com/track/package/",
              "bluedart": "https://www.bluedart.com/web/guest/trackdartresult?trackFor=0&trackNo=",
              "dtdc": "https://www.dtdc.in/tracking.asp?cnno="}
    assert sh["label_url"] == labels[kind] and sh["tracking_url"] == tracks[kind] + awb
    num = sh["shipment_number"]
    if kind == "shiprocket":
        assert awb.startswith("SR") and sh["external_shipment_id"] == "8001"
        assert f.seen("/auth/login")[0].json() == fc.SHIPROCKET
        b = f.seen("/orders/create/adhoc")[0].json()
        assert b["order_id"] == num and b["pickup_location"] == "Pune-WH" and b["payment_method"] == "Prepaid"
        assert (b["billing_pincode"], b["billing_city"], b["billing_phone"]) == ("411045", "Pune", "9811122233")
        assert b["order_items"][0]["units"] == 2 and b["shipping_is_billing"] is True
        assert f.seen("/courier/assign/awb")[0].json() == {"shipment_id": 8001}
        assert f.seen("/generate/label")[0].json() == {"shipment_id": [8001]}
    elif kind == "delhivery":
        assert awb.startswith("DL")
        create = f.seen("/api/cmu/create.json")[0]
        assert create.headers["content-type"] == "application/x-www-form-urlencoded"
        form = create.form()
        assert form["format"] == "json"
        data = json.loads(form["data"])
        assert data["pickup_location"] == {"name": "PUNE-WH"}
        [sp] = data["shipments"]
        assert (sp["order"], sp["pin"], sp["payment_mode"], sp["cod_amount"], sp["quantity"]) == (
            num, "411045", "COD", "100.00", 2)
        fee = f.seen("/invoice/charges")[0].query
        assert (fee["d_pin"], fee["o_pin"], fee["pt"], fee["cgm"]) == ("411045", "411001", "COD", "500")
    elif kind == "bluedart":
        assert awb.startswith("BD")
        assert f.seen("/waybill/v1/GenerateWayBill")[0].headers["jwttoken"] == fc.BD_JWT
        b = f.seen("/waybill/v1/GenerateWayBill")[0].json()
        assert b["Profile"] == {"LoginID": "BDLOGIN", "LicenceKey": fc.BLUEDART["license_key"], "Api_type": "S"}
        assert b["Request"]["Consignee"]["ConsigneePincode"] == "411045"
        assert b["Request"]["Shipper"] == {"CustomerCode": "099960", "OriginArea": "PNQ"}
        assert (b["Request"]["Services"]["CreditReferenceNo"], b["Request"]["Services"]["PieceCount"],
                b["Request"]["Services"]["SubProductCode"]) == (num, 2, "P")
    else:
        assert awb.startswith("D")
        req = f.seen("/consignment/softdata")[0]
        assert req.headers["api-key"] == fc.DTDC["api_key"]
        [cn] = req.json()["consignments"]
        assert (cn["customer_code"], cn["customer_reference_number"], cn["num_pieces"], cn["cod_amount"]) == (
            "GL1099", num, 2, "100.00")
        assert cn["destination_details"]["pincode"] == "411045" and cn["origin_details"]["pincode"] == "411001"
    # the credentials are stored, and never shown
    got = c.get(f"{API}/courier_configs/{cfg['id']}")
    assert "credentials" not in h.ok(got)
    no_secret_in(got.text + out.__repr__())


REFUSE = {
    "shiprocket": ("/orders/create/adhoc", (422, {"message": "Pincode 999999 is not serviceable", "status_code": 422})),
    "delhivery": None, "bluedart": None, "dtdc": None,  # their refusals come in a 200 answer, by pincode
}
WORDS = {"shiprocket": "Pincode 999999 is not serviceable", "delhivery": "Pincode 999999 is not serviceable",
         "bluedart": "Consignee pincode not serviced", "dtdc": "Destination pincode is not serviceable"}


@pytest.mark.parametrize("kind", TYPES)
def test_a_refusal_leaves_the_order_unshipped(tenant, f, kind):
    c = tenant.owner
    cfg = courier(c, f, kind)
    o = confirmed(c, pincode="999999")
    if REFUSE[kind]:
        f.refuse[REFUSE[kind][0]] = REFUSE[kind][1]
    before = h.get(c, "orders", o["id"])
    e = h.expect_error(ship(c, o, cfg), 502, "courier_error")
    assert WORDS[kind] in e["message"] and kind in e["message"]
    no_secret_in(json.dumps(e))
    assert h.get(c, "orders", o["id"]) == before
    assert h.list_all(c, "shipments", {"order_id": o["id"]}) == []


def test_wrong_credentials_are_the_couriers_refusal(tenant, f):
    c = tenant.owner
    cfg = courier(c, f, "shiprocket")
    h.ok(s.act(c, "courier_configs", cfg["id"], "connect",
               {"credentials": {"email": "api@shop.test", "password": "wrong-pass-1"}}))
    o = confirmed(c)
    e = h.expect_error(ship(c, o, cfg), 502, "courier_error")
    assert "Invalid email and password combination" in e["message"] and "wrong-pass-1" not in e["message"]
    # missing keys name the key, not a value
    h.ok(s.act(c, "courier_configs", cfg["id"], "connect", {"credentials": {"email": "api@shop.test"}}))
    e = h.expect_error(ship(c, o, cfg), 502, "courier_error")
    assert '"password"' in e["message"]
    assert h.get(c, "orders", o["id"])["status"] == "confirmed"


def test_connect_input_is_checked(tenant, f, acme_owner, acme_viewer, globex_owner):
    c = tenant.owner
    cfg = courier(c, f, "dtdc")
    url = f"{API}/courier_configs/{cfg['id']}/connect"
    h.expect_error(c.post(url, json={}), 400, "validation_failed", "credentials")
    h.expect_error(c.post(url, json={"credentials": "key"}), 400, "validation_failed", "credentials")
    h.expect_error(c.post(url, json={"credentials": {}}), 400, "validation_failed", "credentials")
    h.expect_error(c.post(url, json={"credentials": {"api_key": "k"}, "x": 1}), 400, "unknown_field")
    h.expect_error(globex_owner.post(url, json={"credentials": {"api_key": "k"}}), 404, "not_found")
    # the columns themselves are the server's: only connect writes them
    r = c.patch(f"{API}/courier_configs/{cfg['id']}", json={"credentials": {"api_key": "k"}})
    assert r.status_code == 400, r.text
    # a viewer of the tenant may not connect
    acme_cfg = h.create(acme_owner, "courier_configs", {"courier_type_code": "dtdc", "name": "x " + h.uniq()})
    h.expect_error(s.act(acme_viewer, "courier_configs", acme_cfg["id"], "connect",
                         {"credentials": {"api_key": "k"}}), 403, "forbidden")


def test_a_courier_that_does_not_answer_in_time(tenant, f):
    c = tenant.owner
    cfg = courier(c, f, "delhivery", timeout_ms=400)
    o = confirmed(c)
    f.delay = 1.5
    t0 = time.monotonic()
    e = h.expect_error(ship(c, o, cfg), 502, "courier_error")
    assert time.monotonic() - t0 < 1.4 and "did not answer" in e["message"]
    f.delay = 0
    assert h.get(c, "orders", o["id"])["status"] == "confirmed"
    assert h.list_all(c, "shipments", {"order_id": o["id"]}) == []
    # nothing listens there at all
    gone = courier(c, f, "dtdc", base_url="http://127.0.0.1:9")
    e = h.expect_error(ship(c, o, gone), 502, "courier_error")
    assert "did not answer" in e["message"]
    # the tenant that does not allow private addresses is not sent there
    assert h.list_all(c, "shipments", {"order_id": o["id"]}) == []


def test_private_addresses_need_the_tenants_leave(acme_owner, fake):
    c = acme_owner
    cfg = courier(c, fake, "shiprocket")
    o = confirmed(c)
    e = h.expect_error(ship(c, o, cfg), 502, "courier_error")
    assert "private" in e["message"]
    assert h.get(c, "orders", o["id"])["status"] == "confirmed"


def run_track(server, slug, c, shipment_id):
    args = ["job", "enqueue", "--tenant", slug, "--kind", "couriers.track",
            "--payload", json.dumps({"shipment_id": shipment_id})]
    if server.db_url:
        args += ["--db", server.db_url]
    server.cli.run(*args)
    deadline = time.monotonic() + h.WAIT_S
    while time.monotonic() < deadline:
        jobs = c.get(f"{API}/jobs", params={"kind": "couriers.track", "limit": 200}).json()["data"]
        mine = [j for j in jobs if shipment_id in json.dumps(j.get("payload"))]
        if mine and all(j["status"] in ("done", "dead") for j in mine):
            return mine
        time.sleep(0.05)
    raise AssertionError("the tracking job did not finish")


# each courier's scans as it sends them: manifested .. out for delivery, then a failed delivery
def scans_of(kind):
    if kind == "shiprocket":
        a = lambda lab, at, **k: {"date": at, "sr-status-label": lab, "location": "Pune", "activity": k.get("why", lab)}
        return [a("MANIFEST GENERATED", "2026-12-01 09:00:00"), a("PICKED UP", "2026-12-01 15:30:00"),
                a("IN TRANSIT", "2026-12-02 08:00:00"), a("OUT FOR DELIVERY", "2026-12-03 09:15:00"),
                a("UNDELIVERED", "2026-12-03 19:00:00", why="Customer not available")]
    if kind == "delhivery":
        d = lambda t, sc, at, why="": {"ScanDetail": {"ScanType": t, "Scan": sc, "ScanDateTime": at,
                                                      "ScannedLocation": "Pune_Hub", "Instructions": why}}
        return [d("UD", "Manifested", "2026-12-01T09:00:00.123"), d("UD", "In Transit", "2026-12-01T15:30:00"),
                d("UD", "In Transit", "2026-12-02T08:00:00"), d("UD", "Dispatched", "2026-12-03T09:15:00"),
                d("UD", "Pending", "2026-12-03T19:00:00", "Customer not available")]
    if kind == "bluedart":
        b = lambda t, date, tm, sc: {"ScanDetail": {"ScanType": t, "ScanDate": date, "ScanTime": tm, "Scan": sc,
                                                    "ScannedLocation": "PUNE"}}
        return [b("PU", "01-Dec-2026", "15:30", "SHIPMENT PICKED UP"), b("IT", "02-Dec-2026", "08:00", "IN TRANSIT"),
                b("OD", "03-Dec-2026", "09:15", "OUT FOR DELIVERY"), b("UD", "03-Dec-2026", "19:00",
                                                                       "CONSIGNEE NOT AVAILABLE")]
    t = lambda code, date, tm, why="": {"strCode": code, "strAction": code, "strActionDate": date,
                                        "strActionTime": tm, "strOrigin": "PUNE", "sTrRemarks": why}
    return [t("BKD", "01122026", "0900"), t("PCUP", "01122026", "1530"), t("OBMN", "02122026", "0800"),
            t("OUTDLV", "03122026", "0915"), t("NONDLV", "03122026", "1900", "Customer not available")]


STATUSES = {
    "shiprocket": ["manifested", "picked", "in_transit", "out_for_delivery", "ndr"],
    "delhivery": ["manifested", "in_transit", "in_transit", "out_for_delivery", "ndr"],
    "bluedart": ["picked", "in_transit", "out_for_delivery", "ndr"],
    "dtdc": ["created", "picked", "in_transit", "out_for_delivery", "ndr"],
}


@pytest.mark.parametrize("kind", TYPES)
def test_polling_maps_the_couriers_scans_and_a_failure_opens_an_ndr_case(server, tenant, f, kind):
    c = tenant.owner
    cfg = courier(c, f, kind)
    o = confirmed(c)
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    f.scans[sh["awb_number"]] = scans_of(kind)
    [job] = run_track(server, tenant.slug, c, sh["id"])
    assert job["status"] == "done"
    ev = h.list_all(c, "tracking_events", {"shipment_id": sh["id"], "sort": "event_datetime"})
    assert [e["status"] for e in ev] == STATUSES[kind]
    assert all(e["source_system"] == kind for e in ev)
    # India time, stored in UTC: 19:00 IST is 13:30Z
    assert ev[-1]["event_datetime"].startswith("2026-12-03T13:30:00")
    now = h.get(c, "shipments", sh["id"])
    assert now["status"] == "out_for_delivery"
    [case] = h.list_all(c, "ndr_records", {"shipment_id": sh["id"]})
    assert case["status"] == "open" and case["attempt_count"] == 1
    # the next poll adds nothing; a delivery scan delivers the order
    deliver = {"shiprocket": {"date": "2026-12-04 11:00:00", "sr-status-label": "DELIVERED"},
               "delhivery": {"ScanDetail": {"ScanType": "DL", "Scan": "Delivered",
                                            "ScanDateTime": "2026-12-04T11:00:00"}},
               "bluedart": {"ScanDetail": {"ScanType": "DL", "ScanDate": "04-Dec-2026", "ScanTime": "11:00"}},
               "dtdc": {"strCode": "DLV", "strActionDate": "04122026", "strActionTime": "1100"}}
    run_track(server, tenant.slug, c, sh["id"])
    assert len(h.list_all(c, "tracking_events", {"shipment_id": sh["id"]})) == len(ev)
    f.scans[sh["awb_number"]] = scans_of(kind) + [deliver[kind]]
    run_track(server, tenant.slug, c, sh["id"])
    assert h.get(c, "shipments", sh["id"])["status"] == "delivered"
    assert h.get(c, "orders", o["id"])["status"] == "delivered"


def failed_case(server, tenant, f, kind):
    c = tenant.owner
    cfg = courier(c, f, kind)
    o = confirmed(c)
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    f.scans[sh["awb_number"]] = scans_of(kind)
    run_track(server, tenant.slug, c, sh["id"])
    [case] = h.list_all(c, "ndr_records", {"shipment_id": sh["id"]})
    return sh, case


def test_reattempt_reaches_the_courier_as_it_expects(server, tenant, f):
    # the reattempt action records the request; the job ndr.reattempt puts it to the
    # courier after the transaction (test_ndr_reattempt.py), so each is awaited
    c = tenant.owner
    sh, case = failed_case(server, tenant, f, "shiprocket")
    h.ok(s.act(c, "ndr_records", case["id"], "reattempt",
               {"date": "2026-12-05", "new_address": "14 MG Road, Pune", "new_phone": "9822200011"}))
    assert [r["request_status"] for r in settled(c, case)] == ["sent"]
    [req] = f.seen(f"/v1/external/ndr/{sh['awb_number']}/action")
    b = req.json()
    assert b["action"] == "re-attempt" and b["deferred_date"] == "2026-12-05"
    assert (b["address1"], b["phone"]) == ("14 MG Road, Pune", "9822200011")
    assert req.headers["authorization"] == f"Bearer {fc.SR_TOKEN}"

    sh, case = failed_case(server, tenant, f, "delhivery")
    h.ok(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "2026-12-05", "new_phone": "9822200011"}))
    assert [r["request_status"] for r in settled(c, case)] == ["sent"]
    assert f.seen("/api/p/edit")[0].json() == {"waybill": sh["awb_number"], "phone": "9822200011"}
    assert f.seen("/api/p/update")[0].json() == {"data": [{"waybill": sh["awb_number"], "act": "RE-ATTEMPT"}]}

    # BlueDart takes no reattempt by API: the request fails with its reason, asked no further
    sh, case = failed_case(server, tenant, f, "bluedart")
    h.ok(s.act(c, "ndr_records", case["id"], "reattempt", {"date": "2026-12-05"}))
    [r] = settled(c, case)
    assert r["request_status"] == "failed" and "customer service" in r["request_error"], r


def test_credentials_never_reach_the_logs(server, tenant, f):
    # every test above has run its calls: the server's output holds none of the secrets
    c = tenant.owner
    cfg = courier(c, f, "bluedart")
    o = confirmed(c)
    h.ok(ship(c, o, cfg))
    audit = c.get(f"{API}/audit_logs", params={"resource_id": cfg["id"], "limit": 50})
    no_secret_in(audit.text)
    for path in (server.stderr_path, str(server.stderr_path).replace("stderr", "stdout")):
        try:
            with open(path, encoding="utf-8", errors="replace") as fh:
                no_secret_in(fh.read())
        except FileNotFoundError:
            pass


@pytest.mark.parametrize("kind", TYPES)
def test_cancel_tells_the_courier_first(tenant, f, kind):
    c = tenant.owner
    cfg = courier(c, f, kind)
    o = confirmed(c)
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    awb = sh["awb_number"]
    got = h.ok(s.act(c, "shipments", sh["id"], "courier_cancel"))
    assert got["status"] == "cancelled"
    if kind == "shiprocket":
        assert f.seen("/orders/cancel/shipment/awbs")[0].json() == {"awbs": [awb]}
    elif kind == "delhivery":
        assert f.seen("/api/p/edit")[0].json() == {"waybill": awb, "cancellation": "true"}
    elif kind == "bluedart":
        b = f.seen("/waybill/v1/CancelWaybill")[0].json()
        assert b["Request"] == {"AWBNo": awb} and b["Profile"]["LoginID"] == "BDLOGIN"
    else:
        assert f.seen("/consignment/cancel")[0].json() == {"AWBNo": [awb], "customerCode": "GL1099"}
    # cancelled is final for the courier: a second cancel is the wrong state, and nothing is asked
    before = len(f.requests)
    h.expect_error(s.act(c, "shipments", sh["id"], "courier_cancel"), 422, "invalid_transition")
    assert len(f.requests) == before


def test_cancel_refused_or_out_of_reach_writes_nothing(tenant, f, acme_viewer, globex_owner):
    c = tenant.owner
    cfg = courier(c, f, "dtdc")
    o = confirmed(c)
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    f.refuse["/consignment/cancel"] = (200, {"status": "OK", "success": False,
                                             "failures": [{"message": "Consignment already picked up"}]})
    e = h.expect_error(s.act(c, "shipments", sh["id"], "courier_cancel"), 502, "courier_error")
    assert "Consignment already picked up" in e["message"]
    assert h.get(c, "shipments", sh["id"]) == sh
    h.expect_error(s.act(globex_owner, "shipments", sh["id"], "courier_cancel"), 404, "not_found")
    # not a courier shipment: wrong state, nothing called
    other = h.create(c, "shipments", {"shipment_type": "inbound", "destination_warehouse_id":
                                      s.inventory(c)["warehouse_id"]})
    h.expect_error(s.act(c, "shipments", other["id"], "courier_cancel"), 422, "invalid_transition")


def test_pickup_is_asked_of_the_courier(tenant, f):
    c = tenant.owner
    cfg = courier(c, f, "shiprocket")
    o = confirmed(c)
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    h.expect_error(s.act(c, "shipments", sh["id"], "courier_pickup", {}), 400, "validation_failed", "date")
    h.ok(s.act(c, "shipments", sh["id"], "courier_pickup", {"date": "2026-12-07"}))
    assert f.seen("/courier/generate/pickup")[0].json() == {"shipment_id": [8001]}
    cfg = courier(c, f, "delhivery")
    o = confirmed(c)
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    h.ok(s.act(c, "shipments", sh["id"], "courier_pickup", {"date": "2026-12-07"}))
    b = f.seen("/fm/request/new/")[0].json()
    assert (b["pickup_date"], b["pickup_location"], b["expected_package_count"]) == ("2026-12-07", "PUNE-WH", 1)


def test_two_racing_to_ship_one_order_book_one_parcel(tenant, f):
    c = tenant.owner
    cfg = courier(c, f, "dtdc")
    o = confirmed(c)
    from concurrent.futures import ThreadPoolExecutor
    f.delay = 0.2  # both requests are in flight while the courier answers
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: ship(c, o, cfg), range(2)))
    f.delay = 0
    codes = sorted(r.status_code for r in answers)
    assert codes[0] == 200 and codes[1] in (409, 422), [r.text for r in answers]
    sh = shipment(c, o)
    assert sh["awb_number"]
    # the loser was turned away before it reached the courier: one booking there
    assert len(f.seen("/consignment/softdata")) == 1


def test_once_the_awb_is_booked_a_missing_label_or_price_does_not_undo_it(tenant, f):
    c = tenant.owner
    cfg = courier(c, f, "delhivery")
    o = confirmed(c)
    f.refuse["/invoice/charges"] = (500, {"message": "rate service down"})
    f.refuse["/packing_slip"] = (503, {"message": "slip service down"})
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    assert sh["awb_number"].startswith("DL") and sh["shipping_charges"] == "0.00" and sh["label_url"] is None
    cfg = courier(c, f, "shiprocket")
    o = confirmed(c)
    f.refuse["/generate/label"] = (500, {"message": "label service down"})
    h.ok(ship(c, o, cfg))
    sh = shipment(c, o)
    assert sh["awb_number"].startswith("SR") and sh["shipping_charges"] == "61.50" and sh["label_url"] is None
