"""Air waybills of air-cargo shipments (issue #15, seed 000): PPP-SSSSSSSC with
the serial mod 7 as check digit, normalized to the dashed form (so the
undashed spelling of a stored AWB is a 409 duplicate), a wrong check digit or
shape 400 on awb_number, a prefix no airline of the tenant holds 422 once
airlines name prefixes; a shipment created with an AWB gets its first BKD
milestone. Courier AWBs are the courier's and are not checked. Both engines."""
import cargo_helpers as cg
import helpers as h

API = "/api/v1"

# (as typed, stored form or None when refused with 400)
CHECK_DIGIT_TABLE = [
    ("160-12345675", "160-12345675"),   # 1234567 mod 7 = 5
    ("16012345675", "160-12345675"),
    ("160 1234 5675", "160-12345675"),
    ("176-00000000", "176-00000000"),   # 0 mod 7 = 0
    ("176-99999992", "176-99999992"),   # 9999999 mod 7 = 2
    ("020-00000066", "020-00000066"),   # 6 mod 7 = 6
    ("020-00000070", "020-00000070"),   # 7 mod 7 = 0
    ("160-12345670", None),             # wrong check digit
    ("160-12345677", None),             # 7 is never a check digit
    ("160-1234567", None),              # too short
    ("160-123456755", None),            # too long
    ("16A-12345675", None),             # not digits
]


def test_check_digit_table(new_tenant):
    c = new_tenant().owner
    cust = h.create_customer(c)["id"]
    stored_ids = []
    for typed, stored in CHECK_DIGIT_TABLE:
        r = cg.shipment(c, customer_id=cust, awb_number=typed)
        if stored is None:
            h.expect_error(r, 400, "validation_failed", "awb_number")
        elif stored in stored_ids:
            h.expect_error(r, 409, "conflict")
        else:
            assert h.ok(r, 201)["awb_number"] == stored, typed
            stored_ids.append(stored)
    # refused ones wrote nothing: one shipment and one BKD per stored AWB
    assert sorted(s["awb_number"] for s in h.list_all(c, "shipments")) == sorted(stored_ids)
    assert len(h.list_all(c, "tracking_events")) == len(stored_ids)


def test_same_awb_spelt_two_ways_is_a_duplicate_and_bkd_is_written(new_tenant):
    c = new_tenant().owner
    first = h.ok(cg.shipment(c, awb_number="16012345675", origin_airport="DXB"), 201)
    assert first["awb_number"] == "160-12345675" and first["status"] == "created"
    h.expect_error(cg.shipment(c, awb_number="160-12345675"), 409, "conflict")
    h.expect_error(cg.shipment(c, awb_number="160 1234 5675"), 409, "conflict")
    assert len(h.list_all(c, "shipments")) == 1
    evs = cg.events(c, first["id"])
    assert [(e["event_code"], e["milestone_code"], e["milestone_flag"]) for e in evs] == [("BKD", "bkd", True)]
    assert evs[0]["event_location"] == "DXB" and "160-12345675" in evs[0]["event_description"]
    # without an AWB no milestone is written
    bare = h.ok(cg.shipment(c), 201)
    assert cg.events(c, bare["id"]) == []
    # a PATCH is checked and normalized the same way
    h.expect_error(c.patch(f"{API}/shipments/{bare['id']}", json={"awb_number": "160-12345670"}), 400,
                   "validation_failed", "awb_number")
    up = h.ok(c.patch(f"{API}/shipments/{bare['id']}", json={"awb_number": "176 0000000 0"}))
    assert up["awb_number"] == "176-00000000"
    h.expect_error(c.patch(f"{API}/shipments/{bare['id']}", json={"awb_number": "16012345675"}), 409, "conflict")


def test_prefix_must_belong_to_an_airline_once_prefixes_are_set(new_tenant):
    c = new_tenant().owner
    # no airline has a prefix yet: any well-formed AWB goes
    h.ok(cg.shipment(c, awb_number=cg.awb("999", 1)), 201)
    cg.airline(c)  # an airline without a prefix changes nothing
    h.ok(cg.shipment(c, awb_number=cg.awb("999", 2)), 201)
    cg.airline(c, prefix="176")
    e = h.expect_error(cg.shipment(c, awb_number=cg.awb("999", 3)), 422, "unprocessable", "awb_number")
    assert "999" in e["message"]
    assert h.ok(cg.shipment(c, awb_number=cg.awb("176", 3)), 201)["awb_number"] == "176-00000033"
    h.expect_error(c.post(f"{API}/airlines", json={"iata_code": "ZZ", "airline_name": "Bad", "awb_prefix": "17A"}),
                   400, "validation_failed", "awb_prefix")
    # the prefixes are the tenant's own
    other = new_tenant().owner
    h.ok(cg.shipment(other, awb_number=cg.awb("999", 4)), 201)


def test_awbs_of_other_shipment_types_are_not_checked(new_tenant):
    c = new_tenant().owner
    # the AWB check applies to shipment_type air_cargo only: a transfer's tracking number is free text
    wa = h.create(c, "warehouses", {"name": "A " + h.uniq()})
    wb = h.create(c, "warehouses", {"name": "B " + h.uniq()})
    s = h.create(c, "shipments", {"origin_warehouse_id": wa["id"], "destination_warehouse_id": wb["id"],
                                  "awb_number": "DLV-XYZ-1"})
    assert s["shipment_type"] == "transfer" and s["awb_number"] == "DLV-XYZ-1"
    assert cg.events(c, s["id"]) == []


def test_customer_of_another_tenant_and_viewer(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    s = h.ok(cg.shipment(c, awb_number=cg.awb("160", 7)), 201)
    other = new_tenant().owner
    h.expect_error(other.get(f"{API}/shipments/{s['id']}"), 404, "not_found")
    h.expect_error(cg.event(other, s["id"], "DEP", "2030-01-01T00:00:00.000Z"), 422, "unprocessable", "shipment_id")
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    h.expect_error(cg.shipment(viewer, customer_id=h.create_customer(c)["id"], awb_number=cg.awb("160", 8)),
                   403, "forbidden")
