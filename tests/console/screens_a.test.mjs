// Workflow screens, part A, on the demo's data in a real browser: the
// invoice builder (the gold shop's worked numbers, issue, old gold, payment).
import assert from "node:assert/strict";
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
