// Workflow screens of support, inventory and security on the demo's acme
// tenant, in a real browser: the ticket inbox (queues, SLA clocks, reply,
// internal note, knowledge-base suggestions, events, CSAT), stock by
// warehouse with its ledger, receiving a purchase order, and an export
// through its approval.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { AGENT, OWNER, launch, signedInPage, startServer } from "./harness.mjs";

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

// What the API says, read with the page's own cookie session.
function getter(page) {
  return (url) =>
    page.evaluate(async (u) => {
      const r = await fetch(u, { headers: { Accept: "application/json" } });
      return { status: r.status, body: await r.json() };
    }, url);
}

async function until(fn, what) {
  for (let i = 0; ; i++) {
    if (await fn()) return;
    assert.ok(i < 100, what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("ticket inbox: my queue, unassigned and all; SLA clocks; reply, internal note, suggestions, resolve and CSAT", async () => {
  const p = await signedInPage(browser, server.url, AGENT);
  const { page } = p;
  const get = getter(page);
  // the page's clock is the test's: the SLA clocks are later moved past their due times
  await page.clock.install();
  await page.reload();
  await page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Ticket inbox" }).click();
  await page.getByRole("heading", { name: "Ticket inbox" }).waitFor();
  const me = (await get("/api/v1/auth/me")).body.user.id;
  const active = "status.in=open,in_progress,waiting_customer,waiting_internal";
  const mine = (await get(`/api/v1/tickets?${active}&assigned_agent_id=${me}&sort=sla_due_date&limit=100`)).body.data;
  assert.ok(mine.length >= 1, "the demo assigns the agent a ticket");
  const rows = page.getByRole("table", { name: "Tickets" }).locator("tbody tr[data-ticket]");
  await rows.first().waitFor();
  assert.deepEqual(await rows.evaluateAll((r) => r.map((x) => x.dataset.ticket)), mine.map((t) => t.ticket_number));
  // every clock runs: due in ... while unanswered
  const ticket = mine.find((t) => !t.first_response_at);
  const row = page.locator(`tr[data-ticket="${ticket.ticket_number}"]`);
  assert.match(await row.locator('[data-sla="First response"]').textContent(), /due in \d+ min/);
  assert.match(await row.locator('[data-sla="Resolution"]').textContent(), /due in/);

  // the ticket, its suggestions as the API ranks them
  await row.getByRole("button").click();
  const panel = page.locator("section.panel");
  await panel.getByRole("heading", { name: new RegExp(ticket.ticket_number) }).waitFor();
  const kb = (await get(`/api/v1/tickets/${ticket.id}/suggestions?limit=5`)).body.documents;
  const kbBox = panel.getByRole("region", { name: "Knowledge base suggestions" });
  if (kb.length) {
    await kbBox.getByRole("list", { name: "Suggested articles" }).waitFor();
    assert.deepEqual(await kbBox.getByRole("listitem").getByRole("link").allTextContents(), kb.map((d) => d.title));
  } else {
    await kbBox.getByText("No matching article.").waitFor();
  }

  // a reply to the customer answers the first-response clock; an internal note is marked so
  const thread = panel.getByRole("list", { name: "Conversation" }).getByRole("listitem");
  const before = await thread.count();
  await panel.getByLabel("Reply to the customer").fill("Thanks, we are looking at the double charge now.");
  await panel.getByRole("button", { name: "Send reply" }).click();
  await thread.filter({ hasText: "we are looking at the double charge" }).waitFor();
  await panel.locator('.slas [data-sla="First response"]').filter({ hasText: "met" }).waitFor();
  await panel.getByLabel("Internal note").check();
  await panel.getByLabel("Internal note (not shown to the customer)").fill("Payments team confirms a duplicate capture.");
  await panel.getByRole("button", { name: "Add note" }).click();
  const note = thread.filter({ hasText: "duplicate capture" });
  await note.waitFor();
  assert.match(await note.textContent(), /Internal note/);
  assert.equal(await thread.count(), before + 2);
  const msgs = (await get(`/api/v1/ticket_messages?ticket_id=${ticket.id}&sort=created_at&limit=100`)).body.data;
  assert.deepEqual(msgs.slice(-2).map((m) => m.is_internal), [false, true]);
  assert.ok((await get(`/api/v1/tickets/${ticket.id}`)).body.first_response_at, "the reply stamped first_response_at");

  // its events: start, then resolve with its notes
  await panel.getByRole("button", { name: "start", exact: true }).click();
  await panel.locator("[data-status]").filter({ hasText: "in progress" }).waitFor();
  await panel.getByRole("button", { name: "resolve", exact: true }).click();
  await panel.getByLabel("Resolution notes").fill("Refunded the duplicate capture.");
  await panel.getByRole("button", { name: "Confirm resolve" }).click();
  await panel.locator("[data-status]").filter({ hasText: "resolved" }).waitFor();
  // resolved: it leaves my queue; the customer's rating is recorded and shown
  await rows.filter({ hasText: ticket.ticket_number }).waitFor({ state: "detached" });
  await panel.getByLabel("Customer's rating").selectOption("4");
  await panel.getByLabel("Comment").fill("Sorted within the hour");
  await panel.getByRole("button", { name: "Record rating" }).click();
  const csat = panel.getByLabel("Customer satisfaction");
  await csat.waitFor();
  assert.match(await csat.textContent(), /4\/5.*Sorted within the hour/);
  const rated = (await get(`/api/v1/tickets/${ticket.id}`)).body;
  assert.equal(rated.status, "resolved");
  assert.equal(rated.customer_satisfaction, 4);
  assert.equal(rated.resolution_notes, "Refunded the duplicate capture.");

  // five hours on: the clocks of what is still unanswered read breached
  await page.clock.fastForward("05:00:00");
  const open = (await get(`/api/v1/tickets?${active}&assigned_agent_id=${me}&limit=100`)).body.data;
  const unanswered = open.filter((t) => !t.first_response_at);
  assert.ok(unanswered.length >= 1, "another of the agent's tickets is unanswered");
  for (const t of unanswered)
    await page.locator(`tr[data-ticket="${t.ticket_number}"] [data-sla="First response"]`).filter({ hasText: /breached \d+ h/ }).waitFor();
  await p.shot("30-ticket-inbox");

  // the other queues hold what the API lists for them
  for (const [tab, q] of [["Unassigned", "&assigned_agent_id.null=true"], ["All open", ""]]) {
    const want = (await get(`/api/v1/tickets?${active}${q}&sort=sla_due_date&limit=100`)).body.data;
    await page.getByRole("tab", { name: tab }).click();
    const numbers = () => rows.evaluateAll((r) => r.map((x) => x.dataset.ticket));
    const want_ = JSON.stringify(want.map((t) => t.ticket_number));
    await until(async () => (await page.getByRole("tab", { name: tab }).getAttribute("aria-selected")) === "true" &&
      JSON.stringify(await numbers()) === want_, `${tab}: ${want_}`);
    if (!want.length) await page.getByText("No tickets here.").waitFor();
  }
  clean(p);
  await p.context.close();
});

test("stock by warehouse: on hand, reserved and available as the API has them; a product's ledger in time order", async () => {
  const p = await signedInPage(browser, server.url, OWNER);
  const { page } = p;
  const get = getter(page);
  await page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Stock by warehouse" }).click();
  await page.getByRole("heading", { name: "Inventory by warehouse" }).waitFor();
  const all = (await get("/api/v1/inventory?limit=200")).body.data;
  const rows = page.getByRole("table", { name: "Stock levels" }).locator("tbody tr[data-inventory]");
  await until(async () => (await rows.count()) === all.length, `every stock row (${all.length})`);
  // one warehouse: its rows only, each with the balances the ledger left
  const wh = (await get("/api/v1/warehouses?code=BOM1")).body.data[0];
  await page.getByLabel("Warehouse").selectOption(wh.id);
  const mine = all.filter((r) => r.warehouse_id === wh.id);
  await until(async () => JSON.stringify(await rows.evaluateAll((r) => r.map((x) => x.dataset.inventory))) ===
    JSON.stringify(mine.map((r) => r.id)), "the warehouse's rows");
  const prod = (await get("/api/v1/products?sku=BOTTLE-750")).body.data[0];
  const stock = mine.find((r) => r.product_id === prod.id);
  const row = page.locator(`tr[data-inventory="${stock.id}"]`);
  const cell = async (c) => Number(await row.locator(`[data-col="${c}"]`).textContent());
  assert.equal(await cell("on_hand"), stock.quantity_on_hand);
  assert.equal(await cell("reserved"), stock.quantity_reserved);
  assert.equal(await cell("available"), stock.quantity_available);
  assert.equal(stock.quantity_on_hand, 38, "the demo's opening 40 less the sale of 2");
  await row.getByRole("button", { name: prod.name }).click();
  const ledger = page.getByRole("region", { name: /Ledger: / });
  const entries = ledger.getByRole("table", { name: "Ledger entries" }).locator("tbody tr");
  const want = (await get(`/api/v1/inventory_transactions?inventory_id=${stock.id}&sort=created_at&limit=200`)).body.data;
  await until(async () => (await entries.count()) === want.length, "every ledger entry");
  assert.deepEqual(await entries.evaluateAll((r) => r.map((x) => x.dataset.entry)), want.map((e) => e.transaction_type));
  assert.deepEqual((await entries.locator('[data-col="quantity"]').allTextContents()).map(Number), want.map((e) => e.quantity));
  // the balance after the last entry is the row's
  assert.equal(Number(await entries.last().locator('[data-col="on_hand_after"]').textContent()), stock.quantity_on_hand);
  await p.shot("31-stock-ledger");
  clean(p);
  await p.context.close();
});

test("purchase-order receiving on acme: submit, approve, receive part then the rest, stock moves; an over-receipt is refused", async () => {
  const p = await signedInPage(browser, server.url, OWNER);
  const { page } = p;
  const get = getter(page);
  const po = (await get("/api/v1/purchase_orders?status=draft&limit=1")).body.data[0];
  const wh = (await get(`/api/v1/warehouses/${po.warehouse_id}`)).body;
  const item = (await get(`/api/v1/purchase_order_items?purchase_order_id=${po.id}`)).body.data[0];
  const prod = (await get(`/api/v1/products/${item.product_id}`)).body;
  const onHand = async () =>
    (await get(`/api/v1/inventory?warehouse_id=${wh.id}&product_id=${prod.id}`)).body.data[0].quantity_on_hand;
  const start = await onHand();
  await page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Receive purchase orders" }).click();
  await page.locator(`tr[data-po="${po.po_number}"]`).getByRole("button", { name: po.po_number }).click();
  const panel = page.locator("section.panel");
  const status = panel.locator("[data-status]");
  await status.filter({ hasText: "draft" }).waitFor();
  await panel.getByRole("button", { name: "submit", exact: true }).click();
  await status.filter({ hasText: "submitted" }).waitFor();
  await panel.getByRole("button", { name: "approve", exact: true }).click();
  await status.filter({ hasText: "approved" }).waitFor();
  // approved: each line takes a quantity, the goods go into the order's warehouse
  const line = panel.locator(`tr[data-line="${prod.name}"]`);
  const col = async (c) => (await line.locator(`[data-col="${c}"]`).textContent()).trim();
  const qty = panel.getByLabel(`Receive now: ${prod.name}`);
  assert.equal(await qty.inputValue(), String(item.quantity_ordered));
  assert.equal(await panel.getByLabel("Into warehouse").inputValue(), wh.id);
  assert.equal(await col("on_hand"), String(start));
  await qty.fill("60");
  await panel.getByRole("button", { name: "Receive", exact: true }).click();
  await panel.getByRole("status").filter({ hasText: "Received 60 units; the order is partially received." }).waitFor();
  await status.filter({ hasText: "partially received" }).waitFor();
  assert.equal(await col("received"), "60");
  assert.equal(await col("remaining"), String(item.quantity_ordered - 60));
  await until(async () => (await col("on_hand")) === String(start + 60), "the stock moved by 60");
  assert.equal(await onHand(), start + 60);
  await p.shot("32-po-receiving");
  // more than is still to come: the API refuses it, nothing moves
  p.expect(422, "/receive");
  await qty.fill(String(item.quantity_ordered - 60 + 5));
  await panel.getByRole("button", { name: "Receive", exact: true }).click();
  await panel.getByRole("alert").waitFor();
  assert.equal(await onHand(), start + 60);
  assert.equal(await col("received"), "60");
  // the rest: received in full
  await qty.fill(String(item.quantity_ordered - 60));
  await panel.getByRole("button", { name: "Receive", exact: true }).click();
  await status.filter({ hasText: /^received$/ }).waitFor();
  await until(async () => (await col("on_hand")) === String(start + item.quantity_ordered), "the stock moved by the rest");
  assert.equal(await col("remaining"), "0");
  assert.equal(await panel.getByLabel(`Receive now: ${prod.name}`).count(), 0, "nothing left to receive");
  const after = (await get(`/api/v1/purchase_orders/${po.id}`)).body;
  assert.equal(after.status, "received");
  const stock = (await get(`/api/v1/inventory?warehouse_id=${wh.id}&product_id=${prod.id}`)).body.data[0];
  assert.equal(stock.quantity_on_hand, start + item.quantity_ordered);
  const entries = (await get(`/api/v1/inventory_transactions?inventory_id=${stock.id}&transaction_type=purchase&sort=created_at&limit=200`)).body.data;
  assert.deepEqual(entries.slice(-2).map((e) => e.quantity), [60, item.quantity_ordered - 60]);
  clean(p);
  await p.context.close();
});

test("exports with approval: an analyst asks, the owner approves one and rejects another, the job's progress, one download", async () => {
  // the tenant asks for approval above one row (through the API, as an administrator would)
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(OWNER),
  });
  const bearer = { Authorization: `Bearer ${(await login.json()).token}`, "Content-Type": "application/json" };
  const settings = await (await fetch(`${server.url}/api/v1/security_settings?scope=tenant`, { headers: bearer })).json();
  const patched = await fetch(`${server.url}/api/v1/security_settings/${settings.data[0].id}`, {
    method: "PATCH", headers: bearer, body: JSON.stringify({ require_approval_threshold: 1 }),
  });
  assert.equal(patched.status, 200);
  const ANALYST = { tenant: "acme", email: "analyst@acme.test", password: "analyst-pass-123" };
  server.cli("user", "create", "--tenant", "acme", "--email", ANALYST.email, "--role", "analyst", "--password", ANALYST.password);

  const a = await signedInPage(browser, server.url, ANALYST);
  const get = getter(a.page);
  await a.page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Exports", exact: true }).click();
  const form = a.page.getByRole("form", { name: "Request an export" });
  const ask = async (table, format) => {
    await form.getByLabel("Table").selectOption(table);
    await form.getByLabel("Format").selectOption(format);
    await form.getByRole("button", { name: "Request export" }).click();
    await a.page.getByRole("status").filter({ hasText: "waiting for approval" }).waitFor();
  };
  await ask("customers", "csv");
  await ask("tickets", "json");
  const mine = (await get("/api/v1/export_logs?sort=-created_at&limit=2")).body.data;
  const [tick, cust] = mine;
  assert.deepEqual([cust.export_type, cust.status, tick.export_type, tick.status],
    ["customers", "pending_approval", "tickets", "pending_approval"]);
  const myRow = (x) => a.page.getByRole("table", { name: "My exports" }).locator(`tr[data-export="${x.id}"]`);
  await myRow(cust).getByText("waiting for an approver").waitFor();

  // the owner: both wait, named by their requester
  const o = await signedInPage(browser, server.url, OWNER);
  await o.page.goto("/#/w/exports");
  const waiting = o.page.getByRole("table", { name: "Exports awaiting approval" });
  await waiting.locator(`tr[data-export="${tick.id}"]`).waitFor();
  assert.match(await waiting.locator(`tr[data-export="${cust.id}"]`).textContent(), /analyst@acme\.test.*Customers \(csv\)/);
  await o.shot("33-exports-approval");
  await waiting.locator(`tr[data-export="${tick.id}"]`).getByRole("button", { name: "Reject" }).click();
  await waiting.locator(`tr[data-export="${tick.id}"]`).waitFor({ state: "detached" });
  // the worker is kept busy a few seconds, so the approved export's job waits in the queue where its progress shows
  server.cli("job", "enqueue", "--tenant", "acme", "--kind", "system.sleep", "--payload", '{"ms":5000}');
  await waiting.locator(`tr[data-export="${cust.id}"]`).getByRole("button", { name: "Approve" }).click();
  await o.page.getByText("Nothing waits.").waitFor();
  const decided = (await getter(o.page)(`/api/v1/export_logs/${tick.id}`)).body;
  assert.equal(decided.status, "rejected");

  // the analyst's page follows: the job's progress, then the download; the rejected one says so
  const progress = myRow(cust).getByRole("group", { name: "Writing Customers" });
  await progress.getByRole("status").filter({ hasText: /Queued|Running/ }).waitFor();
  assert.equal(await progress.locator("progress").count(), 1);
  await a.shot("34-exports-progress");
  await myRow(tick).locator('[data-col="status"]').filter({ hasText: "rejected" }).waitFor();
  const button = myRow(cust).getByRole("button", { name: "Download" });
  await button.waitFor();
  const done = (await get(`/api/v1/export_logs/${cust.id}`)).body;
  assert.equal(done.status, "completed");
  const file = a.page.waitForEvent("download");
  await button.click();
  const d = await file;
  const text = readFileSync(await d.path(), "utf8");
  const lines = text.trim().split(/\r?\n/);
  // the tenant's watermark names the requester, then the header and every row
  assert.match(lines[0], /^Exported by analyst@acme\.test/);
  assert.match(lines[1], /company_name/);
  assert.equal(lines.length, done.row_count + 2, "the watermark, a header and every row");
  await myRow(cust).locator('[data-col="status"]').filter({ hasText: "downloaded" }).waitFor();
  assert.equal(await myRow(cust).getByRole("button", { name: "Download" }).count(), 0, "one download per token");
  await a.shot("35-exports-downloaded");
  clean(a);
  clean(o);
  await a.context.close();
  await o.context.close();
});

test("generic fields: times in the tenant's zone, a JSON column as key/value rows with a raw toggle, areas the plan leaves out hidden", async () => {
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(OWNER),
  });
  const bearer = { Authorization: `Bearer ${(await login.json()).token}`, "Content-Type": "application/json" };
  const company = (await (await fetch(`${server.url}/api/v1/company_settings`, { headers: bearer })).json()).data[0];
  const zoned = await fetch(`${server.url}/api/v1/company_settings/${company.id}`, {
    method: "PATCH", headers: bearer, body: JSON.stringify({ timezone: "Asia/Kolkata" }),
  });
  assert.equal(zoned.status, 200);

  const p = await signedInPage(browser, server.url, OWNER);
  const { page } = p;
  const get = getter(page);
  const me = (await get("/api/v1/auth/me")).body;
  assert.equal(me.tenant.timezone, "Asia/Kolkata");
  await page.getByText("times in Asia/Kolkata").waitFor();
  // a ticket's creation time as Kolkata's wall clock reads it (UTC+05:30), not UTC's
  const ticket = (await get("/api/v1/tickets?limit=1")).body.data[0];
  await page.goto(`/#/t/tickets/${ticket.id}`);
  const shown = (await page.locator('[data-field="created_at"]').textContent()).trim();
  const expect = (tz) => page.evaluate(([v, z]) => new Date(v).toLocaleString(undefined, { timeZone: z, year: "numeric",
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }), [ticket.created_at, tz]);
  assert.equal(shown, await expect("Asia/Kolkata"));
  assert.notEqual(shown, await expect("UTC"));

  // a JSON column: key/value rows; a value that reads as JSON is sent as JSON, text as text
  await page.goto(`/#/t/company_settings/${company.id}`);
  const rows = page.getByRole("group", { name: "Settings entries" });
  await rows.waitFor();
  const before = Object.keys(company.settings || {}).length;
  assert.equal(await rows.getByRole("textbox", { name: /Settings key/ }).count(), before);
  await rows.getByRole("button", { name: "Add entry" }).click();
  await rows.getByLabel(`Settings key ${before + 1}`).fill("console_note");
  await rows.getByLabel(`Settings value ${before + 1}`).fill("Counted weekly");
  await rows.getByRole("button", { name: "Add entry" }).click();
  await rows.getByLabel(`Settings key ${before + 2}`).fill("over_receipt_tolerance_percent");
  await rows.getByLabel(`Settings value ${before + 2}`).fill("5");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText("Saved.").waitFor();
  const saved = (await get(`/api/v1/company_settings/${company.id}`)).body.settings;
  assert.equal(saved.console_note, "Counted weekly");
  assert.equal(saved.over_receipt_tolerance_percent, 5);
  // the raw toggle shows the same object as text
  await page.locator(".type-json").filter({ has: rows }).getByLabel("Raw JSON").check();
  const raw = JSON.parse(await page.locator("textarea#f-settings, textarea[name=settings]").first().inputValue());
  assert.deepEqual(raw, saved);
  await p.shot("36-json-fields");
  clean(p);
  await p.context.close();

  // globex is on the starter plan: no NDR, couriers, finance or analytics in its console
  const GLOBEX = { tenant: "globex", email: "owner@globex.test", password: "globex-owner-pass" };
  const g = await signedInPage(browser, server.url, GLOBEX);
  const gm = (await getter(g.page)("/api/v1/auth/me")).body;
  assert.ok(gm.modules_not_in_plan.includes("ndr") && !gm.features.includes("ndr_management"), JSON.stringify(gm.features));
  const nav = g.page.getByRole("navigation", { name: "Areas" });
  await nav.getByRole("link", { name: "Tickets", exact: true }).waitFor();
  for (const hidden of ["Ndr records", "Courier configs", "Kpi targets"])
    assert.equal(await nav.getByRole("link", { name: hidden, exact: true }).count(), 0, hidden);
  assert.equal(await nav.getByRole("heading", { name: "Finance" }).count(), 0);
  await g.page.goto("/#/t/ndr_records");
  await g.page.getByText("There is no table “ndr_records” you may see.").waitFor();
  clean(g);
  await g.context.close();
});
