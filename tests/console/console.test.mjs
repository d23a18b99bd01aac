// The console in a real browser: sign in, create a customer and a ticket,
// walk the ticket through start -> resolve -> close, see validation errors
// and a concurrent change, list with search, filter and pages, sign out.
// Every test ends by asserting the page saw no error it did not provoke.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AGENT, launch, openPage, OWNER, signedInPage, signIn, startServer } from "./harness.mjs";

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

test("sign-in: a wrong password is refused, the right one opens the console by area", async () => {
  const p = await openPage(browser, server.url);
  const { page } = p;
  p.expect(401, "/api/v1/console/session");
  await page.goto("/");
  await page.getByLabel("Organisation").fill("acme");
  await page.getByLabel("E-mail").fill(OWNER.email);
  await page.getByLabel("Password").fill("wrong-password");
  await p.shot("01-sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: /invalid|credentials|password/i }).waitFor();
  await page.getByLabel("Password").fill(OWNER.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: /Welcome/ }).waitFor();
  // the owner sees every area
  for (const area of ["Support", "CRM", "Finance", "Security", "Settings"])
    await page.getByRole("navigation", { name: "Areas" }).getByRole("heading", { name: area }).waitFor();
  // the session is in an HttpOnly cookie that scripts cannot read
  const cookies = await p.context.cookies();
  const c = cookies.find((x) => x.name === "ob_console");
  assert.ok(c && c.httpOnly && c.sameSite === "Strict");
  assert.equal(await page.evaluate(() => document.cookie), "");
  await p.shot("02-home");
  // a reload keeps the session
  await page.reload();
  await page.getByRole("heading", { name: /Welcome/ }).waitFor();
  clean(p);
  await p.context.close();
});

test("an agent sees only the areas of its permissions", async () => {
  const p = await signedInPage(browser, server.url, AGENT);
  const nav = p.page.getByRole("navigation", { name: "Areas" });
  await nav.getByRole("link", { name: "Tickets", exact: true }).waitFor();
  await nav.getByRole("link", { name: "Customers", exact: true }).waitFor();
  // no finance, orders or settings permission: those areas are not shown at all
  for (const area of ["Finance", "Orders and fulfilment", "Settings"])
    assert.equal(await nav.getByRole("heading", { name: area }).count(), 0, area);
  assert.equal(await nav.getByRole("link", { name: "Invoices", exact: true }).count(), 0);
  // customers.view without customers.create: no New button
  await nav.getByRole("link", { name: "Customers", exact: true }).click();
  await p.page.getByRole("heading", { name: "Customers" }).waitFor();
  assert.equal(await p.page.getByRole("link", { name: /^New / }).count(), 0);
  clean(p);
  await p.context.close();
});

test("customer: a validation error shows on its field, then the customer is created", async () => {
  const p = await signedInPage(browser, server.url);
  const { page } = p;
  await page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Customers", exact: true }).click();
  await page.getByRole("link", { name: /^New customer/ }).click();
  p.expect(400, "/api/v1/customers");
  await page.getByLabel("Company name").fill("Initech Browser Ltd");
  await page.getByLabel("Email", { exact: true }).fill("it@initech-browser.test");
  // three decimals where the column's scale is two: the API names the field
  await page.getByLabel("Credit limit").fill("12500.505");
  await page.getByRole("button", { name: "Create" }).click();
  const err = page.locator(".field.invalid").getByRole("alert");
  await err.waitFor();
  assert.equal(await page.locator(".field.invalid label").textContent(), "Credit limit");
  assert.match(await err.textContent(), /decimal|digits|scale/i);
  assert.equal(await page.getByLabel("Credit limit").getAttribute("aria-invalid"), "true");
  await p.shot("03-validation-error");
  await page.getByLabel("Credit limit").fill("12500.50");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("heading", { name: /Initech Browser Ltd/ }).waitFor();
  // the decimal comes back exact
  assert.equal(await page.getByLabel("Credit limit").inputValue(), "12500.50");
  await p.shot("04-customer-record");
  clean(p);
  await p.context.close();
});

test("ticket: created for a customer, then start, resolve and close", async () => {
  const p = await signedInPage(browser, server.url);
  const { page } = p;
  await page.goto("/#/t/tickets/new");
  await page.getByRole("heading", { name: "New ticket" }).waitFor();
  await page.getByRole("searchbox", { name: "Search Customers" }).fill("Initech");
  const pick = page.getByLabel("Customer id");
  await pick.locator("option", { hasText: "Initech Browser Ltd" }).waitFor({ state: "attached" });
  await pick.selectOption({ label: (await pick.locator("option", { hasText: "Initech Browser Ltd" }).textContent()).trim() });
  await page.getByLabel("Title").fill("Printer on fire");
  await page.getByLabel("Description").fill("It is on fire, again.");
  await page.getByLabel("Priority", { exact: true }).selectOption("high");
  await page.getByRole("button", { name: "Create" }).click();
  await page.getByRole("heading", { name: /TKT-\d+/ }).waitFor();
  const badge = page.locator(".badge");
  assert.equal((await badge.textContent()).trim(), "open");
  await p.shot("05-ticket-open");
  // an action with its declared input: assign to Bram
  await page.locator(".actions summary", { hasText: "Assign" }).click();
  const agent = page.getByLabel("Agent id");
  const bram = agent.locator("option", { hasText: "Bram Agent" });
  await bram.waitFor({ state: "attached" });
  const bramId = await bram.getAttribute("value");
  await agent.selectOption(bramId);
  await page.locator(".actions form").getByRole("button", { name: "Assign" }).click();
  await page.locator(`[data-field="assigned_agent_id"] a[href$="${bramId}"]`).waitFor();
  // only the events allowed from "open" are offered
  const events = page.getByRole("group", { name: "Status changes" });
  assert.equal(await events.getByRole("button", { name: "Close" }).count(), 0);
  await events.getByRole("button", { name: "Start" }).click();
  await page.locator(".badge", { hasText: "in progress" }).waitFor();
  await events.getByRole("button", { name: "Resolve" }).click();
  await events.getByLabel("Resolution notes").fill("Replaced the fuser unit.");
  await events.getByRole("button", { name: "Confirm resolve" }).click();
  await page.locator(".badge", { hasText: "resolved" }).waitFor();
  await events.getByRole("button", { name: "Close" }).click();
  await page.locator(".badge", { hasText: "closed" }).waitFor();
  const form = page.getByRole("form", { name: "Record" });
  assert.equal(await form.getByLabel("Resolution notes").inputValue(), "Replaced the fuser unit.");
  // the server stamped the times of the steps
  assert.notEqual((await form.locator('[data-field="closed_at"]').textContent()).trim(), "");
  // the history names every step
  const history = page.getByRole("region", { name: "History" });
  for (const action of ["close", "resolve", "start", "create"])
    await history.getByText(action, { exact: true }).first().waitFor();
  await p.shot("06-ticket-closed");
  clean(p);
  await p.context.close();
});

test("a stale edit is refused with what changed meanwhile (412)", async () => {
  const p = await signedInPage(browser, server.url);
  const { page } = p;
  await page.goto("/#/t/customers");
  await page.getByRole("link", { name: /^Open / }).first().click();
  await page.getByLabel("Industry").waitFor();
  // someone else changes the record through the API meanwhile
  const url = page.url();
  const id = decodeURIComponent(url.slice(url.lastIndexOf("/") + 1));
  const login = await (await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(OWNER),
  })).json();
  const r = await fetch(`${server.url}/api/v1/customers/${id}`, {
    method: "PATCH",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${login.token}` },
    body: JSON.stringify({ industry: "Aerospace" }),
  });
  assert.equal(r.status, 200);
  p.expect(412, `/api/v1/customers/${id}`);
  await page.getByLabel("Industry").fill("Retail");
  await page.getByRole("button", { name: "Save" }).click();
  const banner = page.getByRole("alert").filter({ hasText: "changed this record" });
  await banner.waitFor();
  assert.match(await banner.textContent(), /Industry: .*→ “Aerospace”/);
  await p.shot("07-conflict");
  await page.getByRole("button", { name: "Load the current version" }).click();
  assert.equal(await page.getByLabel("Industry").inputValue(), "Aerospace");
  await page.getByLabel("Industry").fill("Retail");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  clean(p);
  await p.context.close();
});

test("list: search, filter, sort and cursor pages", async () => {
  const p = await signedInPage(browser, server.url);
  const { page } = p;
  await page.goto("/#/t/tickets");
  await page.getByRole("heading", { name: "Tickets" }).waitFor();
  const rows = page.locator("tbody tr");
  await rows.first().waitFor();
  const all = await rows.count();
  assert.ok(all >= 2, `demo tickets listed (${all})`);
  // full-text search
  await page.getByRole("searchbox", { name: "Search Tickets" }).fill("fire");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("listitem").filter({ hasText: "search: “fire”" }).waitFor();
  await page.locator("tbody tr", { hasText: "Printer on fire" }).waitFor();
  assert.equal(await rows.count(), 1);
  await page.getByRole("button", { name: "Remove search" }).click();
  // a filter on status
  await page.getByText("Filter", { exact: true }).click();
  await page.getByLabel("Field").selectOption("status");
  await page.getByLabel("Value").selectOption("closed");
  await page.getByRole("button", { name: "Add filter" }).click();
  await page.getByRole("list", { name: "Active filters" }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
  await page.locator("tbody tr", { hasText: "closed" }).waitFor();
  await p.shot("08-ticket-list-filtered");
  await page.getByRole("button", { name: /Remove filter on status/ }).click();
  // sort by a sortable column, both ways
  await page.getByRole("button", { name: /^Created at/ }).click();
  await page.locator('th[aria-sort="ascending"]').waitFor();
  const firstAsc = await rows.first().textContent();
  await page.getByRole("button", { name: /^Created at/ }).click();
  await page.locator('th[aria-sort="descending"]').waitFor();
  await page.waitForFunction((t) => document.querySelector("tbody tr")?.textContent !== t, firstAsc);
  // cursor pages: 12 more customers, 10 a page
  const login = await (await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(OWNER),
  })).json();
  for (let i = 0; i < 12; i++) {
    const r = await fetch(`${server.url}/api/v1/customers`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${login.token}` },
      body: JSON.stringify({ company_name: `Paged ${String(i).padStart(2, "0")}` }),
    });
    assert.equal(r.status, 201);
  }
  await page.goto("/#/t/customers");
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await page.getByLabel("Rows per page").selectOption("10");
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 10);
  const pageOne = await page.locator("tbody").textContent();
  await page.getByRole("button", { name: "Next" }).click();
  await page.getByText("Page 2", { exact: true }).waitFor();
  await page.waitForFunction((t) => document.querySelector("tbody")?.textContent !== t, pageOne);
  const pageTwo = await page.locator("tbody tr").allTextContents();
  assert.ok(pageTwo.length >= 4, `the rest on page 2 (${pageTwo.length})`);
  for (const r of pageTwo) assert.ok(!pageOne.includes(r), "no row on both pages");
  await p.shot("09-customer-list-page-2");
  await page.getByRole("button", { name: "Previous" }).click();
  await page.getByText("Page 1", { exact: true }).waitFor();
  await page.waitForFunction((t) => document.querySelector("tbody")?.textContent === t, pageOne);
  clean(p);
  await p.context.close();
});

test("phone width: the menu folds and the record page fits", async () => {
  const p = await signedInPage(browser, server.url, OWNER, { width: 390, height: 844 });
  const { page } = p;
  await page.goto("/#/t/customers");
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no sideways scrolling of the page (${width}px)`);
  assert.equal(await page.getByRole("link", { name: "Tickets", exact: true }).isVisible(), false);
  await page.getByText("Menu", { exact: true }).click();
  await page.getByRole("link", { name: "Tickets", exact: true }).waitFor();
  await p.shot("10-phone-menu");
  clean(p);
  await p.context.close();
});

test("keyboard: sign in and reach a table without a mouse", async () => {
  const p = await openPage(browser, server.url);
  const { page } = p;
  await page.goto("/");
  await page.getByLabel("Organisation").focus();
  await page.keyboard.type("acme");
  await page.keyboard.press("Tab");
  await page.keyboard.type(OWNER.email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(OWNER.password);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /Welcome/ }).waitFor();
  const nav = page.getByRole("navigation", { name: "Areas" });
  await nav.getByRole("link", { name: "Tickets", exact: true }).focus();
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Tickets", exact: true }).waitFor();
  // the new page has the focus
  assert.equal(await page.evaluate(() => document.activeElement?.id), "main");
  clean(p);
  await p.context.close();
});

test("sign out ends the session: the API refuses the old cookie", async () => {
  const p = await openPage(browser, server.url);
  const { page } = p;
  await signIn(p);
  const before = (await p.context.cookies()).find((x) => x.name === "ob_console");
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal((await p.context.cookies()).find((x) => x.name === "ob_console"), undefined);
  const r = await fetch(`${server.url}/api/v1/auth/me`, { headers: { Cookie: `ob_console=${before.value}` } });
  assert.equal(r.status, 401);
  clean(p);
  await p.context.close();
});
