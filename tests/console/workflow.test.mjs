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
