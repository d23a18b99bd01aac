// The console's own security in a real browser: enrolling two-step sign-in
// with the authenticator's QR code, signing in with a TOTP code computed here
// (RFC 6238) or a recovery code, and the session's token renewed through the
// refresh cookie before it expires. Its own server: enrolment changes a user.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { AGENT, launch, nowStep, openPage, OWNER, signIn, startServer, totp } from "./harness.mjs";

const USER = { tenant: "acme", email: "agent2@acme.test", password: "agent-pass-123" };

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


test("TOTP as the RFC computes it (its SHA-1 vector at 59 s, last six digits)", () => {
  // "12345678901234567890" in base32
  assert.equal(totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Math.floor(59 / 30)), "287082");
});

async function fillSignIn(page, who) {
  await page.getByLabel("Organisation").fill(who.tenant);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("MFA: enrol with the QR code, then sign in with the app's code or a recovery code", async () => {
  const p = await openPage(browser, server.url);
  const { page } = p;
  await signIn(p, USER);
  await page.getByRole("link", { name: "My account" }).click();
  await page.getByRole("heading", { name: "My account" }).waitFor();
  await page.getByRole("status").filter({ hasText: "Two-step sign-in is off" }).waitFor();
  // the password again: a wrong one is refused on the page
  p.expect(422, "/api/v1/auth/mfa/enroll");
  await page.getByLabel("Your password").fill("not-the-password");
  await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
  await page.getByRole("alert").waitFor();
  await page.getByLabel("Your password").fill(USER.password);
  await page.getByRole("button", { name: "Set up two-step sign-in" }).click();
  const qr = page.getByRole("img", { name: "QR code for your authenticator app" });
  await qr.waitFor();
  // a real image the browser decoded (a data: URL the CSP allows)
  assert.match(await qr.getAttribute("src"), /^data:image\/gif;base64,/);
  assert.ok((await qr.evaluate((i) => i.naturalWidth)) > 100);
  const secret = (await page.locator("[data-secret]").textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await p.shot("11-mfa-enrol-qr");
  const confirmed = nowStep();
  await page.getByLabel("Code from the app").fill(totp(secret, confirmed));
  await page.getByRole("button", { name: "Turn on" }).click();
  const codes = page.getByRole("list", { name: "Recovery codes" }).getByRole("listitem");
  await codes.first().waitFor();
  assert.equal(await codes.count(), 10);
  const recovery = (await codes.nth(3).textContent()).trim();
  await page.getByRole("status").filter({ hasText: "Two-step sign-in is on" }).waitFor();
  await p.shot("12-mfa-recovery-codes");

  // signing in again asks for the code; a wrong one is refused, the right one opens the console
  await page.getByRole("button", { name: "Sign out" }).click();
  await fillSignIn(page, USER);
  await page.getByRole("heading", { name: "Two-step sign-in" }).waitFor();
  // no session yet: the password alone set no cookie
  assert.equal((await p.context.cookies()).filter((c) => c.name.startsWith("ob_console")).length, 0);
  await p.shot("13-mfa-code");
  const step = Math.max(confirmed + 1, nowStep());
  const valid = new Set([-1, 0, 1, 2].map((d) => totp(secret, step + d)));
  let wrong = 100000;
  while (valid.has(String(wrong))) wrong++;
  p.expect(401, "/api/v1/console/session/mfa");
  await page.getByLabel("Authentication code").fill(String(wrong));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("alert").filter({ hasText: /code/ }).waitFor();
  await page.getByLabel("Authentication code").fill(totp(secret, step));
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: /Welcome/ }).waitFor();
  const cookies = await p.context.cookies();
  const session = cookies.find((c) => c.name === "ob_console");
  const refresh = cookies.find((c) => c.name === "ob_console_refresh");
  assert.ok(session && session.httpOnly && session.sameSite === "Strict");
  assert.ok(refresh && refresh.httpOnly && refresh.sameSite === "Strict" && refresh.path === "/api/v1/console/session");
  assert.equal(await page.evaluate(() => document.cookie), "");

  // a recovery code signs in once
  await page.getByRole("button", { name: "Sign out" }).click();
  await fillSignIn(page, USER);
  await page.getByRole("button", { name: "Use a recovery code" }).click();
  await page.getByLabel("Recovery code").fill(recovery);
  await page.getByRole("button", { name: "Verify" }).click();
  await page.getByRole("heading", { name: /Welcome/ }).waitFor();
  await page.getByRole("link", { name: "My account" }).click();
  await page.getByRole("status").filter({ hasText: "Two-step sign-in is on" }).waitFor();
  clean(p);
  await p.context.close();
});

test("the session's token is renewed before it expires, and the old one stops working", async () => {
  const p = await openPage(browser, server.url);
  const { page } = p;
  // the page's clock is the test's to move: the renewal runs when it says
  await page.clock.install();
  await signIn(p, OWNER);
  const before = await p.context.cookies();
  const oldToken = before.find((c) => c.name === "ob_console").value;
  const oldRefresh = before.find((c) => c.name === "ob_console_refresh").value;
  const renewed = page.waitForResponse((r) => r.url().endsWith("/api/v1/console/session/refresh"));
  // the cookie's token lasts the 12-hour session; a minute before its end the console renews it
  await page.clock.fastForward("11:59:30");
  assert.equal((await renewed).status(), 200);
  const after = await p.context.cookies();
  const newToken = after.find((c) => c.name === "ob_console").value;
  assert.notEqual(newToken, oldToken);
  assert.notEqual(after.find((c) => c.name === "ob_console_refresh").value, oldRefresh);
  // rotation: the token it replaced is refused, the new one works
  const me = (t) => fetch(`${server.url}/api/v1/auth/me`, { headers: { Authorization: `Bearer ${t}` } });
  assert.equal((await me(oldToken)).status, 401);
  assert.equal((await me(newToken)).status, 200);
  // the page goes on with the new cookie, and its writes with the new CSRF token (sign-out is one)
  await page.getByRole("navigation", { name: "Areas" }).getByRole("link", { name: "Customers", exact: true }).click();
  await page.getByRole("heading", { name: "Customers" }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  assert.equal((await me(newToken)).status, 401);
  clean(p);
  await p.context.close();
});

// The owner's bearer token, for the settings a test changes through the API.
async function ownerApi() {
  const r = await fetch(`${server.url}/api/v1/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(OWNER),
  });
  assert.equal(r.status, 200);
  const { token } = await r.json();
  return async (method, path, body) => {
    const res = await fetch(`${server.url}/api/v1/${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json();
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
    return data;
  };
}

// What the page lets a user do, asked the way the browser would.
const probe = (page) =>
  page.evaluate(() => {
    const link = document.querySelector("nav a");
    const fire = (target, ev) => target.dispatchEvent(ev); // false: the page refused it
    return {
      userSelect: getComputedStyle(document.body).userSelect,
      contextMenu: fire(link, new MouseEvent("contextmenu", { bubbles: true, cancelable: true })),
      copy: fire(link, new ClipboardEvent("copy", { bubbles: true, cancelable: true })),
      save: fire(link, new KeyboardEvent("keydown", { key: "s", ctrlKey: true, bubbles: true, cancelable: true })),
    };
  });

test("copy protection: the tenant's settings and the role's overrides are honoured, and nothing when off", async () => {
  const call = await ownerApi();
  const settings = (await call("GET", "security_settings")).data.find((r) => r.scope === "tenant");
  await call("PATCH", `security_settings/${settings.id}`, {
    copy_protection_enabled: true, disable_text_selection: true, disable_right_click: true,
    block_keyboard_shortcuts: true, blur_on_print_screen: true,
  });
  const roles = (await call("GET", "roles?limit=100")).data;
  const agent = roles.find((r) => r.code === "agent");
  await call("POST", "role_security_settings", { role_id: agent.id, can_print: false });

  const p = await openPage(browser, server.url);
  const { page } = p;
  await signIn(p, AGENT);
  assert.deepEqual(await probe(page), { userSelect: "none", contextMenu: false, copy: false, save: false });
  // select-all from the keyboard selects nothing
  await page.locator("main").click({ position: { x: 5, y: 5 } });
  await page.keyboard.press("Control+A");
  assert.equal(await page.evaluate(() => String(getSelection())), "");
  // the role may not print: the printed page is empty
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).display), "none");
  await page.emulateMedia({ media: "screen" });
  // the window loses the front (a capture tool): the page blurs until the user is back
  await page.evaluate(() => dispatchEvent(new Event("blur")));
  assert.ok(await page.evaluate(() => document.documentElement.classList.contains("cp-blurred")));
  await p.shot("14-copy-protection-blurred");
  await page.evaluate(() => dispatchEvent(new Event("focus")));
  assert.equal(await page.evaluate(() => document.documentElement.classList.contains("cp-blurred")), false);
  clean(p);
  await p.context.close();

  // the owner may copy and print; the tenant-wide restrictions still hold
  const o = await openPage(browser, server.url);
  await signIn(o, OWNER);
  assert.deepEqual(await probe(o.page), { userSelect: "none", contextMenu: false, copy: true, save: false });
  await o.page.emulateMedia({ media: "print" });
  assert.equal(await o.page.evaluate(() => getComputedStyle(document.body).display), "block");
  clean(o);
  await o.context.close();

  // turned off for the tenant: nothing is held back, whatever the role said
  await call("PATCH", `security_settings/${settings.id}`, { copy_protection_enabled: false });
  const q = await openPage(browser, server.url);
  await signIn(q, AGENT);
  assert.deepEqual(await probe(q.page), { userSelect: "auto", contextMenu: true, copy: true, save: true });
  assert.equal(await q.page.evaluate(() => document.documentElement.dataset.copyProtection), "off");
  clean(q);
  await q.context.close();
});
