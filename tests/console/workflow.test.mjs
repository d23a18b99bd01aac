// Workflow screens on the demo's data, in a real browser: the shipment
// timeline (a delivered air-cargo shipment's milestones in time order, the
// latest marked, and its flight with the capacity booked).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launch, signedInPage, startServer } from "./harness.mjs";

const SKY = { tenant: "skycargo", email: "owner@skycargo.test", password: "skycargo-owner-pass" };

let server, browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

function clean(p) {
  assert.deepEqual(p.problems(), [], "the page saw errors");
}

test("shipment timeline: milestones in time order, the latest marked, the flight's capacity", async () => {
  const p = await signedInPage(browser, server.url, SKY);
  const { page } = p;
  // the demo's delivered shipment and what the API says of it (cookie-authenticated reads)
  const { ship, events, flight } = await page.evaluate(async () => {
    const get = async (u) => (await fetch(u, { headers: { Accept: "application/json" } })).json();
    const ship = (await get("/api/v1/shipments?status=delivered&limit=5")).data[0];
    const events = (await get(`/api/v1/tracking_events?shipment_id=${ship.id}&sort=event_datetime&limit=200`)).data;
    const flight = await get(`/api/v1/flight_schedules/${ship.flight_schedule_id}`);
    return { ship, events, flight };
  });
  assert.ok(events.length >= 6, "the demo's delivered shipment has its milestones");
  await page.goto(`/#/t/shipments/${ship.id}`);
  const timeline = page.getByRole("region", { name: "Shipment timeline" });
  const items = timeline.getByRole("list", { name: "Milestones" }).getByRole("listitem");
  await items.first().waitFor();
  assert.equal(await items.count(), events.length);
  const codes = await items.locator(".code").allTextContents();
  assert.deepEqual(codes, events.map((e) => e.event_code));
  // the air-cargo story of the demo, in order, ending delivered
  const story = ["RCS", "DEP", "ARR", "RCF", "NFD", "DLV"];
  assert.deepEqual(codes.filter((c) => story.includes(c)), story);
  assert.equal(await items.last().getAttribute("aria-current"), "step");
  await items.last().getByText("Delivered").waitFor();
  // booked on its flight: the flight's numbers as the API gives them
  const card = timeline.getByLabel("Booked flight");
  await card.getByRole("link", { name: flight.flight_number }).waitFor();
  const capacity = await card.locator("[data-capacity]").textContent();
  assert.ok(capacity.includes(`${flight.booked_kg} of ${flight.capacity_kg} kg booked`), capacity);
  assert.ok(flight.booked_kg > 0 && flight.capacity_kg > 0);
  await timeline.scrollIntoViewIfNeeded();
  await p.shot("18-shipment-timeline");
  clean(p);
  await p.context.close();
});

test("queue board: today's tokens by status, a token issued elsewhere appears live, call next and serve", async () => {
  const p = await signedInPage(browser, server.url, SKY);
  const { page } = p;
  const { centre, open } = await page.evaluate(async () => {
    const get = async (u) => (await fetch(u, { headers: { Accept: "application/json" } })).json();
    const centre = (await get("/api/v1/service_centers?code=BOM-T2")).data[0];
    const open = (await get(`/api/v1/queue_numbers?service_center_id=${centre.id}&status.in=waiting,called,serving&limit=100`)).data;
    return { centre, open };
  });
  await page.goto(`/#/t/service_centers/${centre.id}`);
  const board = page.getByRole("region", { name: "Queue board" });
  await board.getByRole("status").filter({ hasText: "Live" }).waitFor();
  const column = (name) => board.getByRole("region", { name, exact: true }).getByRole("listitem");
  const count = (status) => open.filter((t) => t.status === status).length;
  await column("Waiting").first().waitFor();
  assert.equal(await column("Waiting").count(), count("waiting"));
  assert.equal(await column("Called").count(), count("called"));
  assert.ok(count("waiting") >= 1 && count("called") >= 1, "the demo's queue has waiting and called tokens");

  // a token issued at the counter (another client, bearer token): the board shows it without a reload
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(SKY),
  });
  const { token } = await login.json();
  const issued = await fetch(`${server.url}/api/v1/service_centers/${centre.id}/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ customer_id: open[0].customer_id }),
  });
  assert.equal(issued.status, 200);
  const fresh = await issued.json();
  await column("Waiting").filter({ hasText: fresh.queue_number }).waitFor();
  assert.equal(await column("Waiting").count(), count("waiting") + 1);

  // call next: one waiting token moves to Called (the centre's order decides which)
  const wasCalled = new Set(open.filter((t) => t.status === "called").map((t) => t.queue_number));
  await board.getByRole("button", { name: "Call next" }).click();
  const called = column("Called");
  for (let i = 0; (await called.count()) !== count("called") + 1; i++) {
    assert.ok(i < 100, "a token was called");
    await page.waitForTimeout(100);
  }
  assert.equal(await column("Waiting").count(), count("waiting"));
  const numbers = (await called.locator(".number").allTextContents()).map((x) => x.trim());
  const next = numbers.find((n) => !wasCalled.has(n));
  assert.ok(next, numbers.join(","));
  // serve it: it moves to Serving
  await board.getByRole("button", { name: `serve ${next}` }).click();
  await column("Serving").filter({ hasText: next }).waitFor();
  assert.equal(await column("Called").filter({ hasText: next }).count(), 0);
  await board.scrollIntoViewIfNeeded();
  await p.shot("19-queue-board");
  clean(p);
  await p.context.close();
});
