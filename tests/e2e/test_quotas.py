"""Plan quotas declared on tables (ob_resource.quota): creations per calendar
month are bounded by the tenant's plan, counted in the creating transaction, so
racing creates cannot pass the limit and deleting gives no slot back. Both
engines."""
import concurrent.futures
import json
import subprocess
import uuid

import helpers as h
from test_model_commerce import mk_channel, order_body

API = "/api/v1"


def test_orders_per_month_race_to_the_plans_limit(cli, login, server):
    slug = "quota-" + uuid.uuid4().hex[:8]
    cli.tenant_create(slug, plan="free")  # the free plan: 100 orders a month
    owner = login(slug, f"owner@{slug}.test", h.OWNER_PASSWORD)
    channel = mk_channel(owner)["id"]
    for _ in range(90):
        h.create(owner, "orders", order_body(channel))

    def one(_):
        with h.ApiClient(base_url=server.url, timeout=h.HTTP_TIMEOUT,
                         headers={"Authorization": f"Bearer {owner.token}"}) as c:
            return c.post(f"{API}/orders", json=order_body(channel))

    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        results = list(ex.map(one, range(20)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(201) == 10 and codes.count(403) == 10, codes
    refused = [r for r in results if r.status_code == 403][0]
    h.expect_error(refused, 403, "plan_limit_reached")
    assert "100 orders a month" in refused.json()["error"]["message"]
    orders = h.list_all(owner, "orders")
    assert len(orders) == 100

    # deleting an order gives no slot back
    assert owner.delete(f"{API}/orders/{orders[0]['id']}").status_code in (200, 405)
    h.expect_error(owner.post(f"{API}/orders", json=order_body(channel)), 403, "plan_limit_reached")


def test_quotas_are_declared(opsbase_bin):
    schema = json.loads(subprocess.check_output([str(opsbase_bin), "schema", "--json"], text=True))
    quotas = {t["name"]: t["quota"] for t in schema["tables"] if t.get("quota")}
    assert quotas == {"tickets": {"limit": "tickets_per_month", "period": "month"},
                      "orders": {"limit": "orders_per_month", "period": "month"}}
