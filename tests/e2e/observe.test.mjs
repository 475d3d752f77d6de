// Browser e2e of sync health, the provisioning log and missing-user triage, driven by real SCIM traffic against muster serve.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaUser, scim } from "./lib/scim.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

/** A SCIM request whose failure is the point: returns the status instead of throwing. */
async function raw(url, token, method, body) {
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/scim+json", "User-Agent": "Okta SCIM Client 1.0.0" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

const REJECTED_EMAIL = "no.username@acme.example";
const UNKNOWN_EMAIL = "someone.else@elsewhere.example";

describe("health, provisioning log and triage", () => {
  let server;
  let browser;
  let page;
  const s = { id: "", scimUrl: "", token: "", users: {} };
  const pageErrors = [];

  const admin = (method, p, body) => adminCall(server, method, p, body);
  const consoleAt = (p) => new URL(p.replace(/^\//, ""), server.console_url.split("#")[0]).href;

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("a connection with real SCIM users is healthy", async () => {
    const created = await admin("POST", "/connections", { name: "Acme Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    for (const [key, p] of Object.entries({
      ada: { given: "Ada", family: "Lovelace", email: "ada.lovelace@acme.example", externalId: "00u1ada" },
      grace: { given: "Grace", family: "Hopper", email: "grace.hopper@acme.example", externalId: "00u2grace" },
      alan: { given: "Alan", family: "Turing", email: "alan.turing@acme.example", externalId: "00u3alan" },
    })) {
      s.users[key] = await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser(p));
    }
    await page.goto(server.console_url);
    const row = page.getByTestId("connection-row").filter({ hasText: "Acme Okta" });
    await row.waitFor();
    assert.equal(await row.getAttribute("data-health"), "healthy");
    assert.equal(await row.getByTestId("failing-marker").count(), 0);
  });

  test("deactivation, a rejected create, bad requests and a revoked token turn it failing, with a toast", async () => {
    // Okta's path-less deactivation.
    await scim(s.scimUrl, s.token, "PATCH", `/Users/${s.users.grace.id}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    // A create without userName is refused (400) and logged as invalid.
    const noName = oktaUser({ given: "Nomen", family: "Nescio", email: REJECTED_EMAIL });
    delete noName.userName;
    assert.equal(await raw(`${s.scimUrl}/Users`, s.token, "POST", noName), 400);
    // A burst of malformed requests.
    for (let i = 0; i < 8; i++) assert.equal(await raw(`${s.scimUrl}/Users`, s.token, "POST", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"] }), 400);
    // The token is revoked in Muster but the IdP keeps using it.
    const tokens = await admin("GET", `/connections/${s.id}/tokens`);
    assert.ok(tokens.length >= 1, "a token to revoke");
    await admin("POST", `/connections/${s.id}/tokens/${tokens[0].id}/revoke`);
    for (let i = 0; i < 4; i++) assert.equal(await raw(`${s.scimUrl}/Users?count=1`, s.token, "GET"), 401);

    const toast = page.getByTestId("toast").filter({ hasText: "Acme Okta" });
    await toast.waitFor({ timeout: 30_000 });
    assert.match(await toast.textContent(), /is failing/);
    const row = page.getByTestId("connection-row").filter({ hasText: "Acme Okta" });
    await eventually(async () => (await row.getAttribute("data-health")) === "failing", 30_000, "row failing");
    await row.getByTestId("failing-marker").waitFor();

    await row.getByTestId("connection-link").click();
    const panel = page.getByTestId("health-panel");
    await eventually(async () => (await panel.getAttribute("data-health")) === "failing", 15_000, "health panel failing");
    // One of its own revoked tokens: certainly the IdP, and the reason says which.
    assert.match(await panel.getByTestId("health-panel-reason").textContent(), /still uses the token revoked at/);
    assert.match(await panel.getByTestId("health-panel-next").textContent(), /token/);
    await panel.getByTestId("activity-chart").waitFor();
    await panel.getByTestId("activity-7d").click();
    await page.locator('[data-testid="activity-chart"][data-range="7d"]').waitFor();
  });

  test("the log filters by failure, shows a row's detail and PATCH operations, and exports CSV", async () => {
    await page.getByTestId("nav-log").click();
    await page.getByTestId("log-entry").first().waitFor();
    await page.getByTestId("log-filter-status").selectOption("failure");
    await eventually(async () => new URL(page.url()).searchParams.get("status") === "failure", 5000, "status in URL");
    await eventually(async () => {
      const oks = await page.getByTestId("log-status").evaluateAll((els) => els.map((e) => e.getAttribute("data-ok")));
      return oks.length >= 13 && oks.every((o) => o === "false");
    }, 5000, "only failures listed");
    const first = page.getByTestId("log-entry").first();
    assert.match(await first.textContent(), /Auth failure/);
    assert.match(await first.textContent(), /Acme Okta/);
    await first.click();
    const drawer = page.getByTestId("log-drawer");
    assert.match(await drawer.getByTestId("log-detail-status").textContent(), /Failure/);
    assert.match(await drawer.getByTestId("log-fields").textContent(), /HTTP 401/);
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "detached" });

    const download = page.waitForEvent("download");
    await page.getByTestId("log-export-csv").click();
    const file = await (await download).path();
    const csv = readFileSync(file, "utf8").trim().split("\n");
    assert.match(csv[0], /^id,at,connection_id,method,path,status,outcome/);
    assert.ok(csv.length >= 14, `expected the failures in the CSV, got ${csv.length} lines`);
    assert.ok(csv.slice(1).every((l) => /,(4|5)\d\d,/.test(l)), "every exported row is a failure");
    assert.ok(csv.some((l) => l.includes(",401,auth_failed,")), "the 401s are exported");

    // The connection's own Log tab, filtered to the deactivation: the PATCH operations as lines.
    await page.goto(consoleAt(`/connections/${s.id}/log?action=deactivated`));
    await page.getByTestId("log-entry").first().waitFor();
    assert.equal(await page.getByTestId("log-entry").count(), 1);
    await page.getByTestId("log-entry").first().click();
    const d2 = page.getByTestId("log-drawer");
    assert.match(await d2.getByTestId("log-patch-ops").textContent(), /replace active: false/);
    // Modified properties as recorded by the server: the old value, then the new one.
    const change = d2.getByTestId("log-change").filter({ hasText: "active" });
    assert.equal(await change.count(), 1);
    assert.match(await change.textContent(), /^active\s*true\s*→\s*false$/);
    assert.match(await d2.getByTestId("log-body").textContent(), /"Operations"/);
    await page.keyboard.press("Escape");
  });

  test("triage explains a deactivated user, a rejected email and an unknown one", async () => {
    await page.locator("body").click({ position: { x: 5, y: 200 } });
    await page.keyboard.press("/");
    await page.waitForURL(/\/triage/);
    const box = page.getByTestId("triage-search");
    await eventually(async () => box.evaluate((el) => el === document.activeElement), 3000, "search focused by /");

    await box.fill("  Grace.Hopper@ACME.example ");
    await box.press("Enter");
    let f = page.getByTestId("triage-finding").first();
    await eventually(async () => (await f.getAttribute("data-verdict")) === "deactivated", 8000, "deactivated verdict");
    assert.match(await f.getByTestId("finding-verdict").textContent(), /Deactivated/);
    assert.ok((await f.getByTestId("timeline-item").count()) >= 2, "timeline has the create and the deactivation");
    assert.match(await f.getByTestId("finding-timeline").textContent(), /deactivat/i);

    await box.fill(REJECTED_EMAIL);
    await box.press("Enter");
    f = page.getByTestId("triage-finding").first();
    await eventually(async () => (await f.getAttribute("data-verdict")) === "rejected", 8000, "rejected verdict");
    assert.match(await f.getByTestId("finding-timeline").textContent(), /400/);

    await box.fill(UNKNOWN_EMAIL);
    await box.press("Enter");
    f = page.getByTestId("triage-finding").first();
    await eventually(async () => (await f.getAttribute("data-verdict")) === "never_received", 8000, "never received verdict");
    assert.ok((await f.getByTestId("finding-steps").locator("li").count()) >= 1, "a checklist of next steps");
    assert.equal(new URL(page.url()).searchParams.get("q"), UNKNOWN_EMAIL);
    assert.deepEqual(pageErrors, []);
  });

  test("the expected cadence is edited in the health panel, refused out of range", async () => {
    await page.goto(consoleAt(`/connections/${s.id}`));
    const panel = page.getByTestId("health-panel");
    await panel.waitFor();
    assert.match(await panel.getByTestId("cadence-value").textContent(), /idle after 1 day.*default/);
    await panel.getByTestId("cadence-edit").click();
    const input = panel.getByTestId("cadence-input");
    for (const bad of ["0", "10081", "1.5"]) {
      await input.fill(bad);
      await panel.getByTestId("cadence-problem").waitFor();
      assert.equal(await panel.getByTestId("cadence-save").isDisabled(), true, `${bad} can be saved`);
    }
    await input.fill("90");
    assert.equal(await panel.getByTestId("cadence-problem").count(), 0);
    await panel.getByTestId("cadence-save").click();
    await eventually(async () => /Every 90 min/.test((await panel.getByTestId("cadence-value").textContent()) ?? ""), 5000, "saved cadence shown");
    assert.equal((await admin("GET", `/connections/${s.id}/health/cadence`)).expected_sync_minutes, 90);
    await panel.getByTestId("cadence-edit").click();
    await panel.getByTestId("cadence-reset").click();
    await eventually(async () => /idle after 1 day/.test((await panel.getByTestId("cadence-value").textContent()) ?? ""), 5000, "default shown again");
    assert.equal((await admin("GET", `/connections/${s.id}/health/cadence`)).expected_sync_minutes, null);
    assert.deepEqual(pageErrors, []);
  });
});
