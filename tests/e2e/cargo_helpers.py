"""Builders shared by the air-cargo portal tests (test_cargo_*.py, issue #15)."""
import itertools
import string

import helpers as h

API = "/api/v1"

# Two-letter airline codes, distinct for the first 676 airlines of a test
# process: a random pair collided now and then within one tenant (409).
_CODES = (a + b for a, b in itertools.cycle(itertools.product(string.ascii_uppercase, repeat=2)))


def awb(prefix, serial):
    """A valid AWB: the check digit is the 7-digit serial mod 7."""
    return f"{prefix}-{serial:07d}{serial % 7}"


def airline(c, prefix=None, **f):
    body = {"iata_code": next(_CODES), "airline_name": "Air " + h.uniq()}
    if prefix:
        body["awb_prefix"] = prefix
    body.update(f)
    return h.create(c, "airlines", body)


def shipment(c, customer_id=None, **f):
    body = {"customer_id": customer_id or h.create_customer(c)["id"], "shipment_type": "air_cargo",
            "origin_airport": "DXB", "destination_airport": "LHR", "weight_kg": "120.500", "pieces": 3}
    body.update(f)
    return c.post(f"{API}/shipments", json=body)


def event(c, shipment_id, code, at, **f):
    body = {"shipment_id": shipment_id, "event_code": code, "event_datetime": at}
    body.update(f)
    return c.post(f"{API}/tracking_events", json=body)


def events(c, shipment_id):
    return h.list_all(c, "tracking_events", {"shipment_id": shipment_id})


def flight(c, capacity_kg=1000, **f):
    body = {"airline_id": f.pop("airline_id", None) or airline(c)["id"], "flight_number": h.uniq("EK")[:8],
            "origin_airport": "DXB", "destination_airport": "LHR", "flight_date": "2030-01-01",
            "capacity_kg": capacity_kg}
    body.update(f)
    return h.create(c, "flight_schedules", body)


def book(c, shipment_id, flight_id):
    return c.post(f"{API}/shipments/{shipment_id}/book", json={"flight_schedule_id": flight_id})


def cancel_booking(c, shipment_id):
    return c.post(f"{API}/shipments/{shipment_id}/cancel_booking", json={})
