"""Gold shop (issue #16): metal rates in force at a time, the company
profile's rate columns following them, and pieces priced by weight."""
import helpers as h

API = "/api/v1"


def _rate(c, metal, purity, rate, at, source="manual"):
    return h.create(c, "metal_rates", {"metal": metal, "purity": purity, "rate_per_gram": rate,
                                       "effective_from": at, "source": source})


def _current(c, **params):
    return c.get(f"{API}/metal_rates/current", params=params)


def test_rate_in_force_at_a_time(new_tenant):
    t = new_tenant().owner
    _rate(t, "gold", 916, "6300.00", "2026-01-01T00:00:00Z")
    _rate(t, "gold", 916, "6400.00", "2026-02-01T00:00:00Z")
    _rate(t, "gold", 999, "6990.00", "2026-01-15T00:00:00Z")
    _rate(t, "gold", 916, "9999.00", "2999-01-01T00:00:00Z")  # announced, not yet in force
    assert h.ok(_current(t, metal="gold", purity=916))["rate_per_gram"] == "6400.00"
    r = h.ok(_current(t, metal="gold", purity="916", at="2026-01-20T10:00:00Z"))
    assert r["rate_per_gram"] == "6300.00" and r["metal"] == "gold" and r["purity"] == 916
    assert h.ok(_current(t, metal="GOLD", purity=916, at="2026-02-01T00:00:00Z"))["rate_per_gram"] == "6400.00"
    assert h.ok(_current(t, metal="gold", purity=916, at="2999-06-01T00:00:00+00:00"))["rate_per_gram"] == "9999.00"
    # before any rate, another purity, another metal: none in force
    h.expect_error(_current(t, metal="gold", purity=916, at="2025-12-31T23:59:59Z"), 404, "not_found")
    h.expect_error(_current(t, metal="gold", purity=750), 404, "not_found")
    h.expect_error(_current(t, metal="silver", purity=999), 404, "not_found")


def test_rate_query_is_checked(acme_owner, acme_agent):
    for params in ({"metal": "gold"}, {"purity": 916}, {"metal": "gold", "purity": "22K"},
                   {"metal": "gold", "purity": 1000}, {"metal": "gold", "purity": 916, "at": "yesterday"},
                   {"metal": "gold", "purity": 916, "colour": "red"}):
        h.expect_error(_current(acme_owner, **params), 400, "invalid_query")
    # an agent does not see the books
    h.expect_error(_current(acme_agent, metal="gold", purity=916), 403, "forbidden")


def test_rates_are_append_only_and_validated(acme_owner, acme_agent):
    r = _rate(acme_owner, "gold", 916, "6400.00", "2026-02-01T00:00:00Z")
    assert r["created_by"] == acme_owner.user["id"] and r["source"] == "manual"
    h.expect_error(acme_owner.patch(f"{API}/metal_rates/{r['id']}", json={"rate_per_gram": "1.00"}), 405,
                   "method_not_allowed")
    h.expect_error(acme_owner.delete(f"{API}/metal_rates/{r['id']}"), 405, "method_not_allowed")
    for body, field in (({"metal": "tin", "purity": 916, "rate_per_gram": "1.00"}, "metal"),
                        ({"metal": "gold", "purity": 1000, "rate_per_gram": "1.00"}, "purity"),
                        ({"metal": "gold", "purity": 916, "rate_per_gram": "0.00"}, "rate_per_gram"),
                        ({"metal": "gold", "purity": 916, "rate_per_gram": "1.001"}, "rate_per_gram"),
                        ({"metal": "gold", "purity": 916}, "rate_per_gram")):
        h.expect_error(acme_owner.post(f"{API}/metal_rates", json=body), 400, "validation_failed", field)
    h.expect_error(acme_agent.post(f"{API}/metal_rates", json={"metal": "gold", "purity": 916,
                                                               "rate_per_gram": "1.00"}), 403, "forbidden")
    # the record is the same through GET {id}: "current" is not taken for an id
    assert h.get(acme_owner, "metal_rates", r["id"])["rate_per_gram"] == "6400.00"


def test_company_settings_show_the_current_rates(new_tenant):
    t = new_tenant().owner
    cs = h.list_all(t, "company_settings")[0]
    assert cs["gold_rate_22k_per_gram"] is None
    _rate(t, "gold", 916, "6400.00", "2026-01-01T00:00:00Z", source="ibja")
    _rate(t, "gold", 999, "6990.00", "2026-01-01T00:00:00Z")
    _rate(t, "gold", 750, "5240.00", "2026-01-01T00:00:00Z")
    _rate(t, "silver", 999, "82.50", "2026-01-01T00:00:00Z", source="feed")
    _rate(t, "gold", 916, "9999.00", "2999-01-01T00:00:00Z")
    cs = h.get(t, "company_settings", cs["id"])
    assert (cs["gold_rate_24k_per_gram"], cs["gold_rate_22k_per_gram"], cs["gold_rate_18k_per_gram"],
            cs["silver_rate_per_gram"]) == ("6990.00", "6400.00", "5240.00", "82.50")
    assert cs["gold_rate_source"] == "manual" and cs["gold_rate_updated_at"]
    # server-set: typed rates are refused
    for field in ("gold_rate_22k_per_gram", "gold_rate_source"):
        h.expect_error(t.patch(f"{API}/company_settings/{cs['id']}", json={field: "1"}), 400, "readonly_field",
                       field)


# --- pieces ---------------------------------------------------------------

def _piece(c, **fields):
    body = {"sku": h.uniq("P-"), "name": "22K bangle", "metal": "gold", "purity": 916}
    body.update(fields)
    return c.post(f"{API}/products", json=body)


def test_piece_net_weight_is_gross_less_stones(acme_owner):
    p = h.ok(_piece(acme_owner, gross_weight="10.5", stone_weight="0.25", huid=h.uniq("")[-6:].upper().rjust(6, "A"),
                    making_charge_type="percent", making_charge_value="12.00", wastage_percent="2.50",
                    stone_charges="1500.00"), 201)
    assert (p["gross_weight"], p["stone_weight"], p["net_weight"]) == ("10.500", "0.250", "10.250")
    assert p["making_charge_type"] == "percent" and p["making_charge_value"] == "12.00"
    assert p["wastage_percent"] == "2.50" and p["purity"] == 916 and p["metal"] == "gold"
    p = h.ok(acme_owner.patch(f"{API}/products/{p['id']}", json={"stone_weight": "1.000"}))
    assert p["net_weight"] == "9.500"
    p = h.ok(acme_owner.patch(f"{API}/products/{p['id']}", json={"gross_weight": "12.345"}))
    assert p["net_weight"] == "11.345"
    h.expect_error(acme_owner.patch(f"{API}/products/{p['id']}", json={"net_weight": "1"}), 400, "readonly_field",
                   "net_weight")
    # no stones: the net is the gross
    assert h.ok(_piece(acme_owner, gross_weight="8"), 201)["net_weight"] == "8.000"
    # not a piece: no weights
    assert h.ok(_piece(acme_owner), 201)["net_weight"] is None


def test_piece_weights_are_checked(acme_owner):
    sku = h.uniq("P-")
    for fields, field in (({"gross_weight": "1.000", "stone_weight": "1.001"}, "stone_weight"),
                          ({"stone_weight": "1.000"}, "stone_weight"),
                          ({"gross_weight": "1.0001"}, "gross_weight"),
                          ({"gross_weight": "-1"}, "gross_weight"),
                          ({"purity": 0}, "purity"),
                          ({"metal": "tin"}, "metal"),
                          ({"making_charge_type": "per_piece"}, "making_charge_type"),
                          ({"wastage_percent": "100.01"}, "wastage_percent")):
        h.expect_error(_piece(acme_owner, sku=sku, **fields), 400, "validation_failed", field)
    assert h.rows_where(acme_owner, "products", sku=sku) == []


def test_huid_is_six_characters_unique_in_the_tenant(acme_owner, globex_owner):
    huid = h.uniq("")[-6:].upper().rjust(6, "H")
    for bad in ("ABC12", "ABC1234", "abc123", "AB-123"):
        h.expect_error(_piece(acme_owner, huid=bad), 400, "validation_failed", "huid")
    first = h.ok(_piece(acme_owner, huid=huid), 201)
    h.expect_error(_piece(acme_owner, huid=huid), 409, "conflict")
    # another tenant has its own hallmarks
    h.ok(_piece(globex_owner, huid=huid), 201)
    # a deleted piece frees its HUID
    assert acme_owner.delete(f"{API}/products/{first['id']}").status_code in (200, 204)
    h.ok(_piece(acme_owner, huid=huid), 201)
