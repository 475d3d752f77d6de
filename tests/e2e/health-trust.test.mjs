// Browser e2e: health never lies. Stray requests with a made-up token and a readiness run leave a healthy connection's health, dialect, counts and users as they were.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaUser, scim } from "./lib/scim.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

describe("health counts only the IdP's own sync", () => {
  let server;
  let browser;
  let page;
  const pageErrors = [];
  const admin = (method, p, body) => adminCall(server, method, p, body);
  const consoleAt = (p) => new URL(p.replace(/^\//, ""), server.console_url.split("#")[0]).href;
  const summary = async (id) => (await admin("GET", `/connections/${id}`)).connection;
  /** The summary once the log rows of requests already answered are in (they are written just after the answer). */
  async function settled(id) {
    let last = await summary(id);
    for (let i = 0; i < 25; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const now = await summary(id);
      if (JSON.stringify(now) === JSON.stringify(last)) return now;
      last = now;
    }
    throw new Error("the connection summary never settled");
  }

  /** A connection with three users pushed the way Okta pushes them, and a PATCH that reveals its dialect. */
  async function syncedConnection(name) {
    const created = await admin("POST", "/connections", { name, idp: "okta" });
    const c = { id: created.connection.id, scimUrl: created.connection.scim_url, token: created.token };
    let first;
    for (const [i, given] of ["Ada", "Grace", "Alan"].entries()) {
      const u = await scim(c.scimUrl, c.token, "POST", "/Users", oktaUser({ given, family: "Test", email: `${given.toLowerCase()}${i}@${name.replace(/\W/g, "")}.example`, externalId: `00u${i}` }));
      first ??= u;
    }
    await scim(c.scimUrl, c.token, "PATCH", `/Users/${first.id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { active: true } }],
    });
    return c;
  }

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    // The console keeps the admin secret from its first URL's fragment for later pages.
    await page.goto(server.console_url);
    await page.getByTestId("create-connection").waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("stray requests with a made-up token leave health alone and are shown apart", async () => {
    const c = await syncedConnection("Stray Target");
    const before = await settled(c.id);
    assert.equal(before.health, "healthy");
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${c.scimUrl}/Users`, {
        method: "POST",
        headers: { Authorization: "Bearer not-a-token-of-ours", "Content-Type": "application/scim+json", "User-Agent": "curl/8.4.0" },
        body: JSON.stringify({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: "x@stray.example" }),
      });
      assert.equal(res.status, 401);
    }
    await page.goto(consoleAt(`/connections/${c.id}`));
    const panel = page.getByTestId("health-panel");
    await panel.waitFor();
    const notices = panel.getByTestId("health-notices");
    await eventually(async () => (await notices.count()) === 1 && /3 request\(s\)/.test(await notices.textContent()), 15_000, "the stray notice");
    assert.match(await notices.textContent(), /never issued, from 127\.0\.0\.1 — not your IdP\?/);
    assert.equal(await panel.getAttribute("data-health"), "healthy");
    assert.equal(await page.getByTestId("toast").count(), 0, "no failure toast for stray traffic");
    const after = await settled(c.id);
    for (const k of ["health", "requests_24h", "failures_24h", "user_count", "last_request_at", "dialect"]) assert.deepEqual(after[k], before[k], k);
  });

  test("a readiness run from the console leaves the target's health, dialect, counts and users as they were", async () => {
    const c = await syncedConnection("Readiness Live");
    const usersBefore = await scim(c.scimUrl, c.token, "GET", "/Users?count=100");
    const before = await settled(c.id);
    await page.goto(consoleAt("/readiness"));
    await page.getByTestId("readiness-connection").selectOption(c.id);
    await page.getByTestId("readiness-run").click();
    await page.getByTestId("readiness-report").waitFor({ timeout: 90_000 });
    const after = await settled(c.id);
    for (const k of ["health", "health_reason", "health_notices", "dialect", "requests_24h", "failures_24h", "user_count", "group_count", "deleted_user_count", "last_request_at", "last_sync_at"]) {
      assert.deepEqual(after[k], before[k], `${k} moved`);
    }
    const usersAfter = await scim(c.scimUrl, c.token, "GET", "/Users?count=100");
    assert.deepEqual(usersAfter, usersBefore);
    assert.deepEqual(pageErrors, []);
  });
});
