// What every console test shares: one opsbase server on demo data (SQLite,
// a throw-away directory, a free port on 127.0.0.1), one headless Chromium
// (Debian's, driven by playwright-core), and a page that records every
// console error and every failed or refused request, so a test can assert
// that nothing went wrong that it did not expect.
import { spawn, spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "..", "..");
// playwright-core is installed with the console's own packages (web/)
const require = createRequire(join(root, "web", "package.json"));
const { chromium } = require("playwright-core");

export const SHOTS = join(here, "screenshots");
export const OWNER = { tenant: "acme", email: "owner@acme.test", password: "acme-owner-pass" };
export const AGENT = { tenant: "acme", email: "agent1@acme.test", password: "agent-pass-123" };

const BIN = process.env.OPSBASE_BIN || join(root, "build", "opsbase");
const CHROMIUM = process.env.OPSBASE_CHROMIUM || "/usr/bin/chromium";

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

export async function startServer() {
  const data = mkdtempSync(join(tmpdir(), "opsbase-console-"));
  const demo = spawnSync(BIN, ["demo", "--data", data], { encoding: "utf8" });
  if (demo.status !== 0) throw new Error(`opsbase demo failed: ${demo.stderr}`);
  const port = await freePort();
  const proc = spawn(BIN, ["serve", "--data", data, "--listen", `127.0.0.1:${port}`, "--log-level", "error"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {}
    if (i > 100 || proc.exitCode !== null) throw new Error(`opsbase serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    // an opsbase command on the server's data (e.g. "admin", "create-super-admin", ...)
    cli(...args) {
      const r = spawnSync(BIN, [...args, "--data", data], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`opsbase ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(data, { recursive: true, force: true });
    },
  };
}

export async function launch() {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}

// A fresh browser context and page. expect(status, urlPart) declares a
// refused request the test provokes on purpose; problems() lists everything
// else that went wrong: console errors, page errors, failed requests,
// responses of 400 and above.
export async function openPage(browser, baseURL, viewport = { width: 1280, height: 860 }, storageState = undefined) {
  const context = await browser.newContext({ baseURL, viewport, storageState });
  // generous: a loaded two-core machine drew a list in more than 8 s once;
  // an element that never appears still fails the test
  context.setDefaultTimeout(20000);
  const page = await context.newPage();
  const seen = [];
  const expected = [];
  page.on("console", (m) => {
    if (m.type() === "error") seen.push({ kind: "console", text: m.text() });
  });
  page.on("pageerror", (e) => seen.push({ kind: "pageerror", text: String(e) }));
  page.on("requestfailed", (r) => seen.push({ kind: "requestfailed", text: `${r.method()} ${r.url()} ${r.failure()?.errorText}` }));
  page.on("response", (r) => {
    if (r.status() >= 400) seen.push({ kind: "response", status: r.status(), text: `${r.request().method()} ${r.url()} -> ${r.status()}` });
  });
  return {
    page,
    context,
    expect(status, urlPart) {
      expected.push({ status, urlPart });
    },
    problems() {
      // Chromium logs every 4xx fetch as a console error; an expected one is not a problem
      const isExpected = (p) =>
        expected.some((e) => (p.kind === "response" && p.status === e.status && p.text.includes(e.urlPart)) ||
          (p.kind === "console" && p.text.includes(`status of ${e.status}`)));
      return seen.filter((p) => !isExpected(p));
    },
    async shot(name) {
      await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
    },
  };
}

// A page already signed in as who: the session is opened once per user
// through the console's own sign-in route and its cookie reused, since
// every password check costs an argon2id hash.
const states = new Map();
export async function signedInPage(browser, baseURL, who = OWNER, viewport = undefined) {
  if (!states.has(who.email)) {
    const ctx = await browser.newContext({ baseURL });
    const r = await ctx.request.post("/api/v1/console/session", { data: who });
    if (r.status() !== 200) throw new Error(`sign-in as ${who.email}: ${r.status()}`);
    states.set(who.email, await ctx.storageState());
    await ctx.close();
  }
  const p = await openPage(browser, baseURL, viewport, states.get(who.email));
  await p.page.goto("/");
  await p.page.getByRole("button", { name: "Sign out" }).waitFor();
  return p;
}

export async function signIn(p, who = OWNER) {
  const { page } = p;
  await page.goto("/");
  await page.getByLabel("Organisation").fill(who.tenant);
  await page.getByLabel("E-mail").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

// RFC 6238 over RFC 4226: HMAC-SHA1 of the 30-second step, dynamic truncation, six digits.
function base32(s) {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of s.replace(/=+$/, "").toUpperCase()) bits += abc.indexOf(ch).toString(2).padStart(5, "0");
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}
export function totp(secret, step) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, "0");
}
export const nowStep = () => Math.floor(Date.now() / 1000 / 30);
