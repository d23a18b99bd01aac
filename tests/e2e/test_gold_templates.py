"""Gold shop (issue #16): category templates declare the custom attributes
products of their category carry in `attributes`; a missing required one or
a value of the wrong type or outside the options is 400 naming it, and the
template's own definitions are checked when it is written."""
import pytest

import helpers as h

API = "/api/v1"

DEFS = [{"name": "hallmark", "type": "enum", "options": ["BIS", "none"], "required": True},
        {"name": "length_cm", "type": "number", "required": True},
        {"name": "links", "type": "integer"},
        {"name": "adjustable", "type": "boolean"},
        {"name": "designer", "type": "text"},
        {"name": "launched", "type": "date"}]


@pytest.fixture(scope="module")
def shop(new_tenant):
    return new_tenant().owner


@pytest.fixture(scope="module")
def chains(shop):
    cat = h.create_category(shop, name="22K chains " + h.uniq(), category_type="product")
    h.create(shop, "category_templates", {"category_id": cat["id"], "name": "chain", "attributes": DEFS})
    return cat


def product(c, cat, attributes, status=201):
    return c.post(f"{API}/products", json={"sku": h.uniq("CH-"), "name": "22K chain", "category_id": cat["id"],
                                           "attributes": attributes})


def test_a_product_that_fits_its_template(shop, chains):
    p = h.ok(product(shop, chains, {"hallmark": "BIS", "length_cm": 45.5, "links": 120, "adjustable": False,
                                    "designer": "Asha", "launched": "2026-02-28", "colour": "yellow"}), 201)
    assert h.as_obj(p["attributes"])["hallmark"] == "BIS"
    # a change is checked too
    h.expect_error(shop.patch(f"{API}/products/{p['id']}", json={"attributes": {"hallmark": "BIS"}}), 400,
                   "validation_failed", "attributes.length_cm")
    h.ok(shop.patch(f"{API}/products/{p['id']}", json={"attributes": {"hallmark": "none", "length_cm": 40}}))
    assert h.as_obj(h.get(shop, "products", p["id"])["attributes"]) == {"hallmark": "none", "length_cm": 40}


@pytest.mark.parametrize("attrs,field", [
    ({"length_cm": 45}, "attributes.hallmark"),                       # required, missing
    ({"hallmark": None, "length_cm": 45}, "attributes.hallmark"),     # required, null
    ({"hallmark": "gold", "length_cm": 45}, "attributes.hallmark"),   # not an option
    ({"hallmark": 1, "length_cm": 45}, "attributes.hallmark"),        # not text
    ({"hallmark": "BIS", "length_cm": "45"}, "attributes.length_cm"),  # text for a number
    ({"hallmark": "BIS", "length_cm": 45, "links": 1.5}, "attributes.links"),
    ({"hallmark": "BIS", "length_cm": 45, "adjustable": "yes"}, "attributes.adjustable"),
    ({"hallmark": "BIS", "length_cm": 45, "designer": 7}, "attributes.designer"),
    ({"hallmark": "BIS", "length_cm": 45, "launched": "2026-02-30"}, "attributes.launched"),
    ({}, "attributes.length_cm"),
])
def test_attributes_that_do_not_fit_are_400(shop, chains, attrs, field):
    before = len(h.rows_where(shop, "products", category_id=chains["id"]))
    h.expect_error(product(shop, chains, attrs), 400, "validation_failed", field)
    assert len(h.rows_where(shop, "products", category_id=chains["id"])) == before


def test_every_wrong_attribute_is_named(shop, chains):
    e = h.expect_error(product(shop, chains, {"hallmark": "x", "links": "many"}), 400, "validation_failed")
    assert {"attributes.hallmark", "attributes.length_cm", "attributes.links"} <= h.error_fields(e)


def test_inactive_templates_and_other_categories_do_not_apply(shop):
    cat = h.create_category(shop, name="rings " + h.uniq(), category_type="product")
    t = h.create(shop, "category_templates", {"category_id": cat["id"], "name": "ring",
                                              "attributes": [{"name": "size", "type": "integer", "required": True}]})
    h.expect_error(product(shop, cat, {}), 400, "validation_failed", "attributes.size")
    h.ok(product(shop, cat, {"size": 14}), 201)
    h.ok(shop.patch(f"{API}/category_templates/{t['id']}", json={"is_active": False}))
    h.ok(product(shop, cat, {}), 201)
    # no category: nothing to check
    h.ok(shop.post(f"{API}/products", json={"sku": h.uniq("X-"), "name": "loose stone", "attributes": {}}), 201)


@pytest.mark.parametrize("defs,field", [
    ({"name": "x", "type": "text"}, "attributes"),
    ([{"type": "text"}], "attributes[0]"),
    ([{"name": "a", "type": "colour"}], "attributes[0]"),
    ([{"name": "a", "type": "enum"}], "attributes[0]"),
    ([{"name": "a", "type": "enum", "options": [1, 2]}], "attributes[0]"),
    ([{"name": "a", "type": "text", "required": "yes"}], "attributes[0]"),
    ([{"name": "a", "type": "text"}, {"name": "a", "type": "number"}], "attributes[1]"),
])
def test_template_definitions_are_checked(shop, defs, field):
    cat = h.create_category(shop, name="bangles " + h.uniq(), category_type="product")
    h.expect_error(shop.post(f"{API}/category_templates", json={"category_id": cat["id"], "name": "b",
                                                                 "attributes": defs}),
                   400, "validation_failed", field)
    assert h.rows_where(shop, "category_templates", category_id=cat["id"]) == []


def test_viewer_and_other_tenant(shop, chains, acme_viewer, acme_owner):
    h.expect_error(acme_viewer.post(f"{API}/category_templates", json={"category_id": chains["id"], "name": "v",
                                                                        "attributes": []}), 403, "forbidden")
    t = h.rows_where(shop, "category_templates", category_id=chains["id"])[0]
    h.expect_error(acme_owner.get(f"{API}/category_templates/{t['id']}"), 404, "not_found")
