"""IATA ONE Record of air-cargo shipments (issue #15, seed 000): GET
/api/v1/one-record/logistics-objects/{id} answers the shipment as JSON-LD in
the ONE Record cargo ontology (Shipment with its Waybill, pieces, gross
weight, departure and arrival locations, LogisticsEvents); POST
.../logistics-events takes a LogisticsEvent in as a tracking_events
milestone through that table's create (Cargo-iQ codes, dedupe by @id,
status follows the latest event). Customer scope and tenancy as for
shipments. Both engines."""
import cargo_helpers as cg
import helpers as h

API = "/api/v1"
OR = f"{API}/one-record/logistics-objects"
CARGO = "https://onerecord.iata.org/ns/cargo#"
LD = {"Content-Type": "application/ld+json"}


def _portal(cli, login, owner, tenant, customer_id):
    email = h.uniq("portal") + f"@{tenant}.test"
    cli.user_create(tenant, email, "customer")
    uid = h.user_id_by_email(owner, email)
    h.ok(owner.patch(f"{API}/users/{uid}", json={"customer_id": customer_id}))
    return login(tenant, email)


def _event(code, at, loc="LHR", **f):
    body = {"@context": {"@vocab": CARGO}, "@type": "cargo:LogisticsEvent",
            "eventCode": {"@type": "cargo:CodeListElement", "code": code}, "eventDate": at,
            "eventLocation": {"@type": "cargo:Location", "locationCodes": [{"code": loc}]}}
    body.update(f)
    return body


def _ld(c, sid):
    """The logistics object: 200 application/ld+json, parsed."""
    r = c.get(f"{OR}/{sid}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    return r.json()


KGM = "https://onerecord.iata.org/ns/code-lists/MeasurementUnitCode#KGM"

# Facts from the published ONE Record data model (IATA-1R-DM-Ontology.ttl of
# the 2025-07 standard, unchanged in 2026-07) for every property the portal
# writes: whether it is an object property (value: a node or {"@id": iri})
# or a datatype property (value: a literal), its range, and its domain.
OBJECT, DATA = "object", "datatype"
MODEL = {
    "waybill": (OBJECT, "Waybill", "Shipment"),
    "pieces": (OBJECT, "Piece", "Shipment"),
    "totalGrossWeight": (OBJECT, "Value", None),
    "events": (OBJECT, "LogisticsEvent", None),  # domain LogisticsObject
    "waybillType": (OBJECT, "WaybillType", "Waybill"),
    "waybillPrefix": (DATA, "string", "Waybill"),
    "waybillNumber": (DATA, "string", "Waybill"),
    "departureLocation": (OBJECT, "Location", None),
    "arrivalLocation": (OBJECT, "Location", None),
    "locationCodes": (OBJECT, "CodeListElement", "Location"),
    "code": (DATA, "string", "CodeListElement"),
    "numericalValue": (DATA, "double", "Value"),
    "unit": (OBJECT, "MeasurementUnitCode", "Value"),
    "eventCode": (OBJECT, "CodeListElement", "LogisticsEvent"),
    "eventName": (DATA, "string", "LogisticsEvent"),
    "eventDate": (DATA, "dateTime", "LogisticsEvent"),
    "eventTimeType": (OBJECT, "EventTimeType", "LogisticsEvent"),
    "eventLocation": (OBJECT, "Location", "LogisticsEvent"),
}


def _conforms(node, where="Shipment"):
    """Every property is the model's, used on its domain, with a value of
    its kind: nodes typed as the range (or an IRI) for object properties,
    literals (typed as the range when typed) for datatype properties."""
    assert isinstance(node, dict)
    for key, value in node.items():
        if key.startswith("@"):
            continue
        assert key in MODEL, f"{where}.{key} is not a property the portal checked against the model"
        kind, rng, domain = MODEL[key]
        if domain:
            assert where == domain, f"{key} used on {where}, its domain is {domain}"
        for v in value if isinstance(value, list) else [value]:
            if kind == OBJECT:
                assert isinstance(v, dict), f"{key}: an object property needs a node or an IRI, got {v!r}"
                if set(v) == {"@id"}:
                    continue
                assert v.get("@type") == f"cargo:{rng}", f"{key}: a {rng} node, got {v.get('@type')}"
                _conforms(v, rng)
            else:
                if isinstance(v, dict):
                    assert set(v) == {"@type", "@value"} and v["@type"] == f"xsd:{rng}", (key, v)
                else:
                    assert isinstance(v, (str, int, float)) and not isinstance(v, bool), (key, v)
                    assert (rng == "string") == isinstance(v, str), (key, rng, v)


def _post(c, sid, body, **kw):
    import json
    return c.post(f"{OR}/{sid}/logistics-events", content=json.dumps(body), headers=LD, **kw)


def test_shipment_as_json_ld(new_tenant):
    c = new_tenant().owner
    s = h.ok(cg.shipment(c, awb_number=cg.awb("160", 1234567)), 201)
    h.ok(cg.event(c, s["id"], "DEP", "2030-01-01T10:00:00.000Z", event_location="DXB"), 201)
    r = c.get(f"{OR}/{s['id']}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/ld+json")
    doc = r.json()
    assert doc["@context"]["cargo"] == CARGO and doc["@context"]["@vocab"] == CARGO
    assert doc["@id"].endswith(f"/api/v1/one-record/logistics-objects/{s['id']}")
    assert doc["@id"].startswith("http")
    assert doc["@type"] == "cargo:Shipment"
    wb = doc["waybill"]
    assert wb["@type"] == "cargo:Waybill"
    assert (wb["waybillPrefix"], wb["waybillNumber"]) == ("160", "12345675")
    assert wb["departureLocation"]["locationCodes"] == [{"@type": "cargo:CodeListElement", "code": "DXB"}]
    assert wb["arrivalLocation"]["locationCodes"][0]["code"] == "LHR"
    # three pieces: the model's Shipment.pieces, as embedded Piece objects
    assert [p["@type"] for p in doc["pieces"]] == ["cargo:Piece"] * 3
    assert [p["@id"] for p in doc["pieces"]] == [f"{doc['@id']}#piece-{k}" for k in (1, 2, 3)]
    assert wb["waybillType"] == {"@id": "cargo:MASTER"}
    w = doc["totalGrossWeight"]
    assert w["unit"] == {"@id": KGM} and w["@type"] == "cargo:Value"
    # the exact decimal, as the JSON number 120.500
    assert '"numericalValue":120.500' in r.text.replace(" ", "")
    evs = doc["events"]
    assert [e["eventCode"]["code"] for e in evs] == ["BKD", "DEP"]
    assert all(e["@type"] == "cargo:LogisticsEvent" for e in evs)
    dep = evs[1]
    assert dep["eventDate"] == {"@type": "xsd:dateTime", "@value": "2030-01-01T10:00:00.000Z"}
    assert dep["eventTimeType"] == {"@id": "cargo:ACTUAL"}
    assert doc["@context"]["xsd"] == "http://www.w3.org/2001/XMLSchema#"
    _conforms(doc)
    assert dep["eventLocation"]["locationCodes"][0]["code"] == "DXB"
    assert dep["@id"].startswith(doc["@id"] + "/logistics-events/")


def test_not_found_cases(new_tenant):
    t = new_tenant()
    c = t.owner
    s = h.ok(cg.shipment(c, awb_number=cg.awb("160", 11)), 201)
    # not air cargo
    wa = h.create(c, "warehouses", {"name": "A " + h.uniq()})
    wb = h.create(c, "warehouses", {"name": "B " + h.uniq()})
    tr = h.create(c, "shipments", {"origin_warehouse_id": wa["id"], "destination_warehouse_id": wb["id"]})
    h.expect_error(c.get(f"{OR}/{tr['id']}"), 404, "not_found")
    h.expect_error(_post(c, tr["id"], _event("DEP", "2030-01-01T10:00:00.000Z")), 404, "not_found")
    # unknown id, another tenant's
    h.expect_error(c.get(f"{OR}/00000000-0000-0000-0000-000000000000"), 404, "not_found")
    other = new_tenant().owner
    h.expect_error(other.get(f"{OR}/{s['id']}"), 404, "not_found")
    h.expect_error(_post(other, s["id"], _event("DEP", "2030-01-01T10:00:00.000Z")), 404, "not_found")
    assert len(cg.events(c, s["id"])) == 1


def test_portal_user_sees_only_their_customers(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    mine = h.create_customer(c)["id"]
    s = h.ok(cg.shipment(c, customer_id=mine, awb_number=cg.awb("160", 21)), 201)
    theirs = h.ok(cg.shipment(c, awb_number=cg.awb("160", 22)), 201)
    portal = _portal(cli, login, c, t.slug, mine)
    doc = _ld(portal, s["id"])
    assert doc["waybill"]["waybillNumber"] == "00000210"
    h.expect_error(portal.get(f"{OR}/{theirs['id']}"), 404, "not_found")
    # a portal user does not post carrier events (no shipments.create)
    h.expect_error(_post(portal, s["id"], _event("DEP", "2030-01-01T10:00:00.000Z")), 403, "forbidden")
    assert len(cg.events(c, s["id"])) == 1


def test_event_intake_is_a_milestone(new_tenant):
    c = new_tenant().owner
    s = h.ok(cg.shipment(c, awb_number=cg.awb("160", 31)), 201)
    r = _post(c, s["id"], _event("dep", "2030-01-01T10:00:00.000Z", "DXB",
                                 **{"@id": "https://partner.example/events/1", "eventName": "departed EK1"}))
    assert r.status_code == 201, r.text
    ev = r.json()
    assert r.headers["location"] == f"/api/v1/tracking_events/{ev['id']}"
    assert (ev["event_code"], ev["milestone_code"], ev["milestone_flag"]) == ("DEP", "dep", True)
    assert ev["event_location"] == "DXB" and ev["event_datetime"] == "2030-01-01T10:00:00.000Z"
    assert ev["external_event_id"] == "https://partner.example/events/1"
    assert ev["event_description"] == "departed EK1"
    assert h.get(c, "shipments", s["id"])["status"] == "departed"
    # the same @id again: 200 with the stored event, nothing new
    again = _post(c, s["id"], _event("DEP", "2030-01-01T10:00:00.000Z", "DXB",
                                     **{"@id": "https://partner.example/events/1"}))
    assert again.status_code == 200 and again.json()["id"] == ev["id"]
    # plain JSON and a plain code string are taken too; an earlier event does not move the status back
    h.ok(c.post(f"{OR}/{s['id']}/logistics-events",
                json={"eventCode": "RCS", "eventDate": "2030-01-01T06:00:00.000Z", "eventLocation": "DXB"}), 201)
    assert h.get(c, "shipments", s["id"])["status"] == "departed"
    h.ok(_post(c, s["id"], _event("ARR", "2030-01-01T18:00:00.000Z")), 201)
    assert h.get(c, "shipments", s["id"])["status"] == "arrived"
    codes = [e["eventCode"]["code"] for e in _ld(c, s["id"])["events"]]
    assert codes == ["BKD", "RCS", "DEP", "ARR"]


def test_bad_events_write_nothing(new_tenant, cli, login):
    t = new_tenant()
    c = t.owner
    s = h.ok(cg.shipment(c, awb_number=cg.awb("160", 41)), 201)
    h.expect_error(_post(c, s["id"], _event("XYZ", "2030-01-01T10:00:00.000Z")), 400, "validation_failed",
                   "event_code")
    body = _event("DEP", "2030-01-01T10:00:00.000Z")
    del body["eventCode"]
    h.expect_error(_post(c, s["id"], body), 400, "validation_failed", "eventCode")
    h.expect_error(_post(c, s["id"], _event("DEP", "not a time")), 400, "validation_failed", "event_datetime")
    h.expect_error(_post(c, s["id"], _event(7, "2030-01-01T10:00:00.000Z") | {"eventCode": 7}), 400,
                   "validation_failed", "event_code")
    h.expect_error(_post(c, s["id"], _event("DEP", "2030-01-01T10:00:00.000Z", **{"@type": "cargo:Piece"})), 400, "bad_request")
    r = c.post(f"{OR}/{s['id']}/logistics-events", content="{not json", headers=LD)
    assert r.status_code == 400 and r.json()["error"]
    r = c.post(f"{OR}/{s['id']}/logistics-events", content="x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    email = f"viewer@{t.slug}.test"
    cli.user_create(t.slug, email, "viewer")
    viewer = login(t.slug, email)
    assert _ld(viewer, s["id"])["@type"] == "cargo:Shipment"
    h.expect_error(_post(viewer, s["id"], _event("DEP", "2030-01-01T10:00:00.000Z")), 403, "forbidden")
    assert [e["event_code"] for e in cg.events(c, s["id"])] == ["BKD"]
    assert h.get(c, "shipments", s["id"])["status"] == "created"
