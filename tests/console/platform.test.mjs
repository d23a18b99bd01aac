// The super admins' console in a real browser (#/platform): the first
// sign-in enrols a TOTP factor from its QR code, the tenants are listed and
// one is suspended and resumed, the platform audit shows it, the platform's
// cookie opens nothing in the tenants' console, and the next sign-in asks
// for a code (a wrong one first). Its own server: it suspends a tenant.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { launch, nowStep, openPage, startServer, totp } from "./harness.mjs";

const ADMIN = { email: "root@platform.test", password: "Platform-pass-123!" };

let server, browser;
before(async () => {
  server = await startServer();
  server.cli("admin", "create-super-admin", "--email", ADMIN.email, "--password", ADMIN.password, "--name", "Pat Platform");
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

function clean(p) {
  assert.deepEqual(p.problems(), [], "the page saw errors");
}

async function password(page) {
  await page.getByLabel("E-mail").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Continue" }).click();
}

test("platform: enrol and sign in, suspend and resume a tenant, read the audit, sign out", async () => {
  const p = await openPage(browser, server.url);
  const { page } = p;
  await page.goto("/#/platform");
  await page.getByRole("heading", { name: "opsbase platform" }).waitFor();
  await password(page);
  // the first sign-in enrols: the secret as a QR code and as text
  const qr = page.getByRole("img", { name: "QR code for your authenticator app" });
  await qr.waitFor();
  assert.ok((await qr.evaluate((i) => i.naturalWidth)) > 100);
  const secret = (await page.locator("[data-secret]").textContent()).trim();
  await p.shot("15-platform-enrol");
  const enrolled = nowStep();
  await page.getByLabel("Authentication code").fill(totp(secret, enrolled));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  const cookies = await p.context.cookies();
  const c = cookies.find((x) => x.name === "ob_console_platform");
  assert.ok(c && c.httpOnly && c.sameSite === "Strict" && c.path === "/api/v1");
  assert.equal(cookies.filter((x) => x.name === "ob_console").length, 0);

  // the demo's tenants, each with its status; globex is suspended, then resumed
  const row = (slug) => page.getByRole("row").filter({ has: page.getByRole("cell", { name: slug, exact: true }) });
  for (const slug of ["acme", "globex", "skycargo", "goldline"]) await row(slug).waitFor();
  const globex = row("globex");
  await globex.getByRole("button", { name: /^Suspend / }).click();
  await globex.getByText("suspended", { exact: true }).waitFor();
  // the server holds it: a reload shows it still suspended
  await page.reload();
  await row("globex").getByText("suspended", { exact: true }).waitFor();
  await p.shot("16-platform-tenants");
  await row("globex").getByRole("button", { name: /^Resume / }).click();
  await row("globex").getByText("active", { exact: true }).waitFor();

  // the audit chain has both, newest first
  await page.getByRole("link", { name: "Platform audit" }).click();
  await page.getByRole("heading", { name: "Platform audit" }).waitFor();
  const actions = page.getByRole("row").filter({ hasText: "tenants globex" });
  await actions.first().waitFor();
  const texts = await actions.allTextContents();
  const resume = texts.findIndex((t) => /resume/.test(t));
  const suspend = texts.findIndex((t) => /suspend/.test(t));
  assert.ok(resume >= 0 && suspend > resume, texts.join(" | "));
  await p.shot("17-platform-audit");

  // the platform's cookie is not a tenant session
  await page.goto("/#/");
  await page.getByLabel("Organisation").waitFor();
  // sign out ends the platform session
  await page.goto("/#/platform");
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "opsbase platform" }).waitFor();
  assert.equal((await p.context.cookies()).filter((x) => x.name === "ob_console_platform").length, 0);

  // the next sign-in asks for a code only: a wrong one is refused, the right one opens
  await password(page);
  await page.getByLabel("Authentication code").waitFor();
  assert.equal(await page.getByRole("img", { name: /QR code/ }).count(), 0);
  const step = Math.max(enrolled + 1, nowStep());
  const valid = new Set([-1, 0, 1, 2].map((d) => totp(secret, step + d)));
  let wrong = 100000;
  while (valid.has(String(wrong))) wrong++;
  p.expect(401, "/api/v1/console/platform/session/mfa");
  await page.getByLabel("Authentication code").fill(String(wrong));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("alert").waitFor();
  await page.getByLabel("Authentication code").fill(totp(secret, step));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: "Tenants" }).waitFor();
  clean(p);
  await p.context.close();
});
