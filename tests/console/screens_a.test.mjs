// Workflow screens, part A, on the demo's data in a real browser: the
// invoice builder (the gold shop's worked numbers, issue, old gold, payment)
// the NDR workbench (a case opened by a courier's failed-delivery scan) and
// dashboards (KPI targets, the three kinds of widget, the P&L chart) and the
// attached files of a record page (upload, list, preview, download).
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { launch, signedInPage, startServer } from "./harness.mjs";

const GOLD = { tenant: "goldline", email: "owner@goldline.test", password: "goldline-owner-pass" };
const ACME = { tenant: "acme", email: "owner@acme.test", password: "acme-owner-pass" };

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

// Another client's bearer session (the counter's till, a courier's system).
async function bearer(who) {
  const r = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(who),
  });
  assert.equal(r.status, 200);
  const { token } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}

test("invoice builder: the worked numbers of the gold shop, issue, old gold and a payment", async () => {
  const call = await bearer(GOLD);
  // the rate of the worked example in force now (the demo's newest 22K rate is 6,450.00)
  const rate = await call("POST", "/api/v1/metal_rates", { metal: "gold", purity: 916, rate_per_gram: "6400.00",
    effective_from: new Date(Date.now() - 60000).toISOString(), source: "console test" });
  assert.equal(rate.status, 201, JSON.stringify(rate.body));
  const p = await signedInPage(browser, server.url, GOLD);
  const { page } = p;
  // the screen is in the navigation under its area
  const nav = page.getByRole("navigation");
  await nav.getByRole("link", { name: "Invoice builder" }).click();
  await page.getByRole("heading", { name: "Invoice builder" }).waitFor();

  await page.getByLabel("Find a customer").fill("Meera");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("list", { name: "Customers found" }).getByRole("button", { name: "Meera Iyer" }).click();
  await page.getByRole("button", { name: "Start invoice" }).click();
  const head = page.locator("header.invoice-head");
  await head.locator("[data-status]").filter({ hasText: "draft" }).waitFor();

  // the piece and what the screen says of it before the line is written
  const piece = await page.getByLabel("Piece", { exact: true }).locator("option", { hasText: "GL-NK-22-001" }).getAttribute("value");
  await page.getByLabel("Piece", { exact: true }).selectOption(piece);
  const facts = page.getByLabel("The piece");
  await facts.locator("[data-rate]").filter({ hasText: "6,400.00 per gram" }).waitFor();
  assert.equal((await facts.locator("[data-net]").textContent()).trim(), "10.000 g");
  await page.getByLabel("Tax rate (%)").fill("3.00");
  await page.getByRole("button", { name: "Add line" }).click();

  // the line and the totals are the server's computed fields
  const line = page.getByRole("table", { name: "Lines" }).locator("tbody tr");
  await line.first().waitFor();
  assert.equal(await line.count(), 1);
  const cell = async (f) => (await line.first().locator(`[data-f="${f}"]`).textContent()).trim();
  assert.equal(await cell("net_weight"), "10.000");
  assert.equal(await cell("rate_per_gram"), "6,400.00");
  assert.equal(await cell("metal_value"), "64,000.00");
  assert.equal(await cell("making_charges"), "7,680.00");
  assert.equal(await cell("stone_charges"), "1,500.00");
  assert.ok((await cell("tax_amount")).startsWith("2,195.40"));
  assert.equal(await cell("line_total"), "75,375.40");
  const totals = page.getByLabel("Totals");
  const total = async (f) => (await totals.locator(`[data-total="${f}"]`).textContent()).replace(/\s*[A-Z]{3}$/, "").trim();
  await totals.locator('[data-total="total_amount"]').filter({ hasText: "75,375.40" }).waitFor();
  assert.equal(await total("subtotal"), "73,180.00");
  assert.equal(await total("tax_amount"), "2,195.40");
  assert.equal(await total("discount_amount"), "0.00");
  assert.equal(await total("amount_paid"), "0.00");
  // and the same as the API says of the invoice
  const number = (await head.getByRole("link").textContent()).trim();
  const inv = (await call("GET", `/api/v1/invoices?invoice_number=${number}`)).body.data[0];
  assert.equal(inv.total_amount, "75375.40");
  assert.equal(inv.tax_amount, "2195.40");
  await p.shot("20-invoice-builder-draft");

  // a bad discount is the API's validation error, under its field; nothing written
  await page.getByLabel("Piece", { exact: true }).selectOption(piece);
  await page.getByLabel("Discount", { exact: true }).fill("1.234");
  p.expect(400, "/api/v1/invoice_items");
  await page.getByRole("button", { name: "Add line" }).click();
  await page.locator("#inv-discount[aria-invalid=true]").waitFor();
  assert.equal(await line.count(), 1);
  await page.getByLabel("Discount", { exact: true }).fill("");
  await page.getByLabel("Piece", { exact: true }).selectOption("");

  // issue, then old gold (8.000 g of 916 less 2%: 7.181 g at the demo's 24K 7,010.00 = 50,338.81)
  await page.getByRole("button", { name: "Issue invoice" }).click();
  await head.locator("[data-status]").filter({ hasText: "issued" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Add line" }).count(), 0);
  await page.getByLabel("Gross weight (g)").fill("8.000");
  await page.getByLabel("Purity (‰)").fill("916");
  await page.getByLabel("Melting deduction (%)").fill("2.00");
  await page.getByRole("button", { name: "Take old gold" }).click();
  const taken = page.getByRole("table", { name: "Old gold taken" }).locator("tbody tr");
  await taken.first().waitFor();
  assert.equal((await taken.first().locator('[data-f="value"]').textContent()).trim(), "50,338.81");
  await totals.locator('[data-total="amount_paid"]').filter({ hasText: "50,338.81" }).waitFor();
  await head.locator("[data-status]").filter({ hasText: "partially paid" }).waitFor();

  // the rest in cash: 75,375.40 - 50,338.81 = 25,036.59; the invoice is paid
  await page.getByLabel("Amount", { exact: true }).fill("25,036.59");
  await page.getByLabel("Method").selectOption("cash");
  await page.getByRole("button", { name: "Take payment" }).click();
  await head.locator("[data-status]").filter({ hasText: "paid" }).filter({ hasNotText: "partially" }).waitFor();
  assert.equal(await total("amount_paid"), "75,375.40");
  const pays = page.getByRole("list", { name: "Payments received" }).getByRole("listitem");
  assert.equal(await pays.count(), 2);
  assert.equal(await page.getByRole("button", { name: "Take payment" }).count(), 0);
  const after = (await call("GET", `/api/v1/invoices/${inv.id}`)).body;
  assert.equal(after.status, "paid");
  assert.equal(after.amount_paid, "75375.40");
  await p.shot("21-invoice-builder-paid");
  clean(p);
  await p.context.close();
});

// An NDR case on acme as it happens: an order shipped through the demo's
// simulator courier, then the courier's signed webhook posts a failed scan.
async function ndrCase(call) {
  const [inv] = (await call("GET", "/api/v1/inventory?quantity_on_hand.gt=2&limit=1")).body.data;
  const [channel] = (await call("GET", "/api/v1/sales_channels?limit=1")).body.data;
  const [cfg] = (await call("GET", "/api/v1/courier_configs?courier_type_code=simulator&limit=1")).body.data;
  assert.ok(inv && channel && cfg, "the demo has stock, a channel and the simulator courier");
  const buyer = `Buyer ${randomUUID().slice(0, 8)}`;
  const o = await call("POST", "/api/v1/orders", { channel_id: channel.id, external_order_id: `EXT-${randomUUID()}`,
    customer_name: buyer, customer_phone: "9000000001",
    shipping_address: { name: buyer, line1: "1 Main St", city: "Pune", country: "IN" },
    subtotal: "10.00", total_amount: "10.00" });
  assert.equal(o.status, 201, JSON.stringify(o.body));
  const it = await call("POST", "/api/v1/order_items", { order_id: o.body.id, product_id: inv.product_id, name: "Line",
    sku: "T-1", quantity: 1, unit_price: "10.00", total_amount: "10.00" });
  assert.equal(it.status, 201, JSON.stringify(it.body));
  for (const [verb, body] of [["confirm", {}], ["ship", { courier_config_id: cfg.id }]]) {
    const r = await call("POST", `/api/v1/orders/${o.body.id}/${verb}`, body);
    assert.equal(r.status, 200, `${verb}: ${JSON.stringify(r.body)}`);
  }
  const [ship] = (await call("GET", `/api/v1/shipments?order_id=${o.body.id}`)).body.data;
  const hook = await call("POST", `/api/v1/courier_configs/${cfg.id}/webhook`, {});
  assert.equal(hook.status, 200, JSON.stringify(hook.body));
  const body = JSON.stringify({ awb: ship.awb_number, scans: [
    { code: "UD", at: new Date(Date.now() - 3 * 86400000).toISOString().slice(0, 19) + "Z", reason: "Customer not available at door" }] });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = "v1=" + createHmac("sha256", hook.body.webhook_secret).update(`${ts}.${body}`).digest("hex");
  const r = await fetch(`${server.url}${hook.body.webhook_url}`, { method: "POST", body, headers: {
    "Content-Type": "application/json", "Opsbase-Event": "tracking.scan", "Opsbase-Delivery": randomUUID(),
    "Opsbase-Timestamp": ts, "Opsbase-Signature": sig } });
  assert.equal(r.status, 200, await r.text());
  // the job couriers.inbound applies it: the case opens
  for (let i = 0; ; i++) {
    const [c] = (await call("GET", `/api/v1/ndr_records?shipment_id=${ship.id}`)).body.data;
    if (c) return c;
    assert.ok(i < 200, "the failed scan opened a case");
    await new Promise((ok) => setTimeout(ok, 100));
  }
}

test("NDR workbench: open cases by age, assign, contact, reattempt, remarks, resolve and RTO", async () => {
  const call = await bearer(ACME);
  const first = await ndrCase(call);
  const second = await ndrCase(call);
  assert.equal(first.status, "open");
  const p = await signedInPage(browser, server.url, ACME);
  const { page } = p;
  await page.getByRole("navigation").getByRole("link", { name: "NDR workbench" }).click();
  await page.getByRole("heading", { name: "NDR workbench" }).waitFor();
  const rows = page.getByRole("table", { name: "Cases" }).locator("tbody tr");
  await rows.first().waitFor();
  // oldest first, every open case the API lists
  const api = (await call("GET", "/api/v1/ndr_records?status.in=open,in_progress,reattempt_scheduled&sort=ndr_date&limit=100")).body.data;
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-case"))), api.map((c) => c.ndr_number));
  assert.equal((await rows.filter({ hasText: first.ndr_number }).locator("[data-age]").textContent()).trim(), "3 days");
  // filter: assigned to me (none yet)
  await page.getByLabel("Assigned to me").check();
  await page.getByText("No cases.").waitFor();
  await page.getByLabel("Assigned to me").uncheck();
  await rows.first().waitFor();

  await page.getByRole("button", { name: first.ndr_number }).click();
  const panel = page.getByRole("region", { name: new RegExp(`Case ${first.ndr_number}`) });
  const actions = panel.getByRole("group", { name: "Case actions" });
  await actions.getByRole("button", { name: "Assign to me" }).click();
  await panel.locator("[data-assigned]").filter({ hasText: "owner@acme.test" }).waitFor();
  // a call with its outcome: in progress, one action row
  await actions.getByText("Record contact").click();
  await actions.getByLabel("Contact by").selectOption("call");
  await actions.getByLabel("Call status").selectOption("connected");
  await actions.getByLabel("Outcome").selectOption("reschedule");
  await actions.getByLabel("Notes").fill("tomorrow after 10");
  await actions.getByRole("button", { name: "Save contact" }).click();
  await panel.locator("[data-status]").filter({ hasText: "in progress" }).waitFor();
  // reattempt on a date at a new address: through the courier's adapter
  const tomorrow = new Date(Date.now() + 86400000).toISOString().slice(0, 10);
  await actions.getByText("Reattempt", { exact: true }).click();
  await actions.getByLabel("Deliver on").fill(tomorrow);
  await actions.getByLabel("New address line").fill("12 Lake Road");
  await actions.getByLabel("City").fill("Pune");
  await actions.getByRole("button", { name: "Ask the courier" }).click();
  await panel.locator("[data-status]").filter({ hasText: "reattempt scheduled" }).waitFor();
  const taken = panel.getByRole("list", { name: "Actions taken" }).getByRole("listitem");
  await taken.nth(1).waitFor();
  assert.match(await taken.nth(0).textContent(), /call · connected · reschedule/);
  assert.match(await taken.nth(1).textContent(), new RegExp(`reattempt request.*on ${tomorrow}`));
  // remarks: appended, shown oldest first
  for (const text of ["buyer asked for an evening slot", "courier confirmed"]) {
    await panel.getByLabel("Add a remark").fill(text);
    await panel.getByRole("button", { name: "Add remark" }).click();
    await panel.getByRole("list", { name: "Remarks" }).getByText(text).waitFor();
  }
  const remarks = await panel.getByRole("list", { name: "Remarks" }).getByRole("listitem").allTextContents();
  assert.ok(remarks[0].startsWith("buyer asked") && remarks[1].startsWith("courier confirmed"), remarks.join("|"));
  await p.shot("22-ndr-workbench");
  // resolve as delivered: the case leaves the open list
  await actions.getByText("Resolve", { exact: true }).click();
  await actions.getByLabel("Resolution").selectOption("delivered");
  await actions.getByRole("button", { name: "Resolve case" }).click();
  await panel.locator("[data-status]").filter({ hasText: "resolved" }).waitFor();
  assert.equal(await panel.getByRole("group", { name: "Case actions" }).count(), 0);
  await rows.filter({ hasText: first.ndr_number }).waitFor({ state: "detached" });

  // the other case: return to origin in one click
  await page.getByRole("button", { name: second.ndr_number }).click();
  const other = page.getByRole("region", { name: new RegExp(`Case ${second.ndr_number}`) });
  await other.getByRole("button", { name: "Return to origin" }).click();
  await other.locator("[data-status]").filter({ hasText: "rto" }).waitFor();
  const [a, b] = await Promise.all([first, second].map(async (c) => (await call("GET", `/api/v1/ndr_records/${c.id}`)).body));
  assert.equal(a.status, "resolved");
  assert.equal(a.resolution, "delivered");
  assert.equal(b.status, "rto");
  const acts = (await call("GET", `/api/v1/ndr_actions?ndr_id=${first.id}&sort=created_at`)).body.data;
  assert.deepEqual(acts.map((x) => x.action_type), ["call", "reattempt_request"]);
  const rem = (await call("GET", `/api/v1/ndr_remarks?ndr_id=${first.id}`)).body.data;
  assert.equal(rem.length, 2);
  clean(p);
  await p.context.close();
});

test("dashboards: KPI targets with achievement, metric, chart and table widgets, the P&L chart", async () => {
  const call = await bearer(GOLD);
  // a sale today (a line by weight, issued) so that today's sales are not nothing
  const [cust] = (await call("GET", "/api/v1/customers?limit=1")).body.data;
  const inv = (await call("POST", "/api/v1/invoices", { customer_id: cust.id })).body;
  assert.equal((await call("POST", "/api/v1/invoice_items", { invoice_id: inv.id, description: "chain", metal_type: "gold",
    purity: "916", net_weight: "1.000" })).status, 201);
  assert.equal((await call("POST", `/api/v1/invoices/${inv.id}/issue`, {})).status, 200);
  const me = (await call("GET", "/api/v1/auth/me")).body;
  const day = new Date().toISOString().slice(0, 10);
  const target = await call("POST", "/api/v1/kpi_targets", { kpi_type: "financial", kpi_name: "daily_sales",
    target_period: "daily", target_value: "100000.00", period_start: day, period_end: day });
  assert.equal(target.status, 201, JSON.stringify(target.body));
  for (const cfg of [["chart", { kpi: "daily_sales", days: 7, title: "Sales this week" }], ["table", { title: "Targets now" }]]) {
    const w = await call("POST", "/api/v1/dashboard_widgets", { user_id: me.user.id, widget_type: cfg[0], widget_config: cfg[1],
      position_x: 0, position_y: cfg[0] === "chart" ? 2 : 4, width: 6, height: 3 });
    assert.equal(w.status, 201, JSON.stringify(w.body));
  }
  const p = await signedInPage(browser, server.url, GOLD);
  const { page } = p;
  await page.getByRole("navigation").getByRole("link", { name: "Dashboards" }).click();
  await page.getByRole("heading", { name: "Dashboards", level: 1 }).waitFor();
  // the target as the API lists it: figures and achievement
  const [t] = (await call("GET", `/api/v1/kpi_targets?id=${target.body.id}`)).body.data;
  assert.ok(Number(t.current_value) > 0, "today's sale counts");
  const card = page.getByRole("list", { name: "KPI targets" }).locator('[data-kpi="daily_sales"]').last();
  await card.waitFor();
  assert.equal((await card.locator('[data-f="current_value"]').textContent()).trim(), grouped(t.current_value));
  assert.equal((await card.locator('[data-f="achievement_rate"]').textContent()).trim(), `${t.achievement_rate}%`);
  // the three widgets, each with its data endpoint's figures
  const widgets = (await call("GET", `/api/v1/dashboard_widgets?user_id=${me.user.id}`)).body.data;
  const data = {};
  for (const w of widgets) data[w.widget_type] = (await call("GET", `/api/v1/dashboard_widgets/${w.id}/data`)).body;
  const metric = page.getByRole("region", { name: "Gold sold today (g)" });
  await metric.locator('[data-f="value"]').filter({ hasText: grouped(data.metric.value) }).waitFor();
  const chart = page.getByRole("region", { name: "Sales this week" });
  await chart.getByRole("img", { name: /Sales this week/ }).waitFor();
  assert.equal(data.chart.points.length, 7);
  const table = page.getByRole("table", { name: "Targets now figures" });
  await table.locator("tbody tr").first().waitFor();
  assert.equal(await table.locator("tbody tr").count(), data.table.rows.length);
  // the canvas was drawn on (not blank)
  const drawn = await chart.locator("canvas").evaluate((c) => {
    const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i]) return true;
    return false;
  });
  assert.ok(drawn, "the chart drew");
  await p.shot("23-dashboards");
  clean(p);
  await p.context.close();

  // the P&L on acme (its demo delivered an order): the chart and the report's exact figures
  const a = await signedInPage(browser, server.url, ACME);
  await a.page.goto("/#/w/dashboards");
  const pnl = a.page.getByRole("table", { name: "Profit and loss figures" });
  await pnl.locator("[data-totals]").waitFor();
  const from = new Date(Date.now() - 29 * 86400000).toISOString().slice(0, 10);
  const report = (await (await bearer(ACME))("GET", `/api/v1/reports/pnl?from=${from}&to=${day}&group=day`)).body;
  assert.ok(report.rows.length >= 1);
  assert.equal(await pnl.locator("tbody tr").count(), report.rows.length + 1);
  assert.equal((await pnl.locator('[data-totals] [data-f="profit"]').textContent()).trim(), grouped(report.totals.profit));
  await a.page.getByRole("img", { name: "Profit and loss chart" }).waitFor();
  await a.page.getByRole("heading", { name: "Profit and loss" }).scrollIntoViewIfNeeded();
  await a.shot("24-pnl-chart");
  clean(a);
  await a.context.close();
});

function grouped(s) {
  const [i, f] = String(s).split(".");
  return i.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (f !== undefined ? `.${f}` : "");
}

// A small PNG (a 2x2 picture) and a one-page PDF, made here.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP4z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==", "base64");
function pdf() {
  const objs = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>"];
  let out = "%PDF-1.4\n";
  const at = [];
  objs.forEach((o, i) => { at.push(out.length); out += `${i + 1} 0 obj ${o} endobj\n`; });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` + at.map((n) => `${String(n).padStart(10, "0")} 00000 n \n`).join("");
  out += `trailer << /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out);
}

test("attached files: upload to a customer's record, list, preview an image and a PDF, download", async () => {
  const call = await bearer(ACME);
  const cust = (await call("POST", "/api/v1/customers", { name: `Files ${randomUUID().slice(0, 8)}` })).body;
  const p = await signedInPage(browser, server.url, ACME);
  const { page } = p;
  await page.goto(`/#/t/customers/${cust.id}`);
  const panel = page.getByRole("region", { name: "Attached files" });
  await panel.getByText("No files yet.").waitFor();
  for (const [name, mimeType, buffer] of [["front.png", "image/png", PNG], ["contract.pdf", "application/pdf", pdf()]]) {
    await panel.getByLabel("Add a file").setInputFiles({ name, mimeType, buffer });
    await panel.getByRole("button", { name: "Upload" }).click();
    await panel.locator(`[data-file="${name}"]`).waitFor();
  }
  const rows = panel.getByRole("table", { name: "Files" }).locator("tbody tr");
  assert.deepEqual(await rows.evaluateAll((rs) => rs.map((r) => r.getAttribute("data-file"))), ["contract.pdf", "front.png"]);
  // the API holds them against this record, types read from the content
  const listed = (await call("GET", `/api/v1/files?record_table=customers&record_id=${cust.id}&sort=created_at`)).body.data;
  assert.deepEqual(listed.map((f) => [f.file_name, f.mime_type, f.file_size]),
    [["front.png", "image/png", PNG.length], ["contract.pdf", "application/pdf", pdf().length]]);
  // another record shows none of them
  const other = (await call("POST", "/api/v1/customers", { name: `Other ${randomUUID().slice(0, 8)}` })).body;
  assert.equal((await call("GET", `/api/v1/files?record_table=customers&record_id=${other.id}`)).body.data.length, 0);

  // preview: the picture drawn from the downloaded bytes
  await panel.getByRole("button", { name: "Preview front.png" }).click();
  const img = panel.getByRole("img", { name: "front.png" });
  await img.waitFor();
  await page.waitForFunction(() => document.querySelector("img.preview")?.naturalWidth === 2);
  await panel.scrollIntoViewIfNeeded();
  await p.shot("25-attached-files");
  // the PDF in a frame of its own bytes
  await panel.getByRole("button", { name: "Preview contract.pdf" }).click();
  const frame = panel.locator("iframe.preview");
  await frame.waitFor();
  assert.match(await frame.getAttribute("src"), /^blob:/);
  assert.equal(await frame.getAttribute("title"), "contract.pdf");
  // download: the same bytes under the file's name
  const [download] = await Promise.all([page.waitForEvent("download"),
    panel.getByRole("link", { name: "Download front.png" }).click()]);
  assert.equal(download.suggestedFilename(), "front.png");
  assert.deepEqual(readFileSync(await download.path()), PNG);
  clean(p);
  await p.context.close();
});

test("attached files: a record that is missing or out of the uploader's sight takes no file", async () => {
  const call = await bearer(ACME);
  const res = await fetch(`${server.url}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tenant: "acme", email: "agent1@acme.test", password: "agent-pass-123" }) });
  const agent = (await res.json()).token;
  const up = async (token, fields) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append("file", new Blob([PNG], { type: "image/png" }), "x.png");
    const r = await fetch(`${server.url}/api/v1/files`, { method: "POST", body: form, headers: { Authorization: `Bearer ${token}` } });
    return { status: r.status, body: await r.json() };
  };
  const cust = (await call("POST", "/api/v1/customers", { name: `Scope ${randomUUID().slice(0, 8)}` })).body;
  const token = (await (await fetch(`${server.url}/api/v1/auth/login`, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ACME) })).json()).token;
  // a record that does not exist, an unknown table, half a pair: refused, nothing stored
  assert.equal((await up(token, { record_table: "customers", record_id: randomUUID() })).status, 404);
  const bad = await up(token, { record_table: "no_such_table", record_id: cust.id });
  assert.equal(bad.status, 400);
  assert.ok(bad.body.error.fields.record_table);
  assert.equal((await up(token, { record_id: cust.id })).status, 400);
  // the agent may upload files but not see orders: an order is as absent to it as a missing one
  const [order] = (await call("GET", "/api/v1/orders?limit=1")).body.data;
  const viaAgent = await up(agent, { record_table: "orders", record_id: order.id });
  assert.equal(viaAgent.status, 404, JSON.stringify(viaAgent));
  assert.equal((await up(agent, { record_table: "customers", record_id: cust.id })).status, 201);
  assert.equal((await call("GET", `/api/v1/files?record_table=customers&record_id=${cust.id}`)).body.data.length, 1);
  assert.equal((await call("GET", `/api/v1/files?record_table=orders`)).body.data.length, 0);
});
