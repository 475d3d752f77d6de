// Browser e2e of a setup link against a real `muster serve`: the SaaS team creates it in the console, the customer's IT admin opens it in another browser (no console account), sees their IdP's exact fields, reveals the token once, watches `muster simulate` (as Okta, with that token) arrive live; the console follows the link's status; a revoked link says so.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { simulate } from "./lib/simulate.mjs";
import { eventually } from "./lib/wait.mjs";

describe("a setup link, from the console to the first users arriving on the IT admin's page", () => {
  let server;
  let saas;
  let itAdmin;
  const pageErrors = [];
  const s = { id: "", url: "", token: "", scimUrl: "" };
  const admin = (method, p, body) => adminCall(server, method, p, body);

  before(async () => {
    server = await startServer();
    const created = await admin("POST", "/connections", { name: "Globex Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    saas = await launchBrowser();
    // The IT admin's browser shares nothing with the console's: no admin secret in its storage.
    itAdmin = await launchBrowser();
    for (const b of [saas, itAdmin]) {
      b.page.on("pageerror", (e) => pageErrors.push(String(e)));
      b.page.setDefaultTimeout(10_000);
    }
  });

  after(async () => {
    await saas?.close();
    await itAdmin?.close();
    await server?.stop();
  });

  test("the SaaS team creates a link in the console; it is shown once and listed as sent", async () => {
    const page = saas.page;
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
    await page.goto(new URL(`connections/${s.id}`, server.console_url.split("#")[0]).href);
    const card = page.getByTestId("setup-links");
    await card.waitFor();
    await page.getByTestId("setup-link-lifetime").selectOption("168");
    await page.getByTestId("setup-link-create").click();
    s.url = (await page.getByTestId("setup-link-url").textContent()).trim();
    assert.match(s.url, /\/setup#msl_[0-9a-f]{64}$/);
    const row = page.getByTestId("setup-link-row").first();
    assert.equal(await row.getAttribute("data-status"), "sent");
    const [link] = await admin("GET", `/connections/${s.id}/setup-links`);
    const days = (Date.parse(link.expires_at) - Date.parse(link.created_at)) / 86_400_000;
    assert.equal(days, 7, "the lifetime chosen in the console");
  });

  test("the IT admin opens it: the connection's name, their IdP's exact fields, nothing else", async () => {
    const page = itAdmin.page;
    await page.goto(s.url);
    await page.getByTestId("setup-page").waitFor();
    assert.match(await page.locator("h1").textContent(), /Globex Okta/);
    const okta = page.getByTestId("setup-okta");
    await okta.waitFor();
    for (const field of ["SCIM connector base URL", "Unique identifier field for users", "Authentication Mode"]) {
      assert.ok((await okta.textContent()).includes(field), `Okta's field “${field}”`);
    }
    assert.ok((await okta.textContent()).includes(s.scimUrl), "the SCIM URL is in Okta's base URL field");
    // Entra's admin UI names its fields differently; the page follows the IdP the admin picks.
    await page.getByTestId("setup-idp-entra").check();
    const entra = page.getByTestId("setup-entra");
    await entra.waitFor();
    assert.ok((await entra.textContent()).includes("Tenant URL"));
    assert.ok((await entra.textContent()).includes("Secret Token"));
    await page.getByTestId("setup-idp-okta").check();
    await page.getByTestId("setup-waiting").waitFor();
    // The console sees the link opened, live.
    await eventually(async () => (await saas.page.getByTestId("setup-link-row").first().getAttribute("data-status")) === "opened", 10_000, "the console to show the link opened");
  });

  test("the token is revealed once, then Okta's first users arrive live", async () => {
    const page = itAdmin.page;
    await page.getByTestId("setup-reveal").click();
    await page.getByTestId("setup-revealed").waitFor();
    s.token = (await page.getByTestId("setup-token").textContent()).trim();
    assert.match(s.token, /^mst_/);
    await page.getByTestId("setup-arrivals-none").waitFor();

    const push = simulate({ scimUrl: s.scimUrl, token: s.token }, "initial-sync", ["--users", "12", "--groups", "2", "--rounds", "1"]);
    const summary = await push.done;
    assert.deepEqual(summary.failures, []);
    await eventually(async () => /^12 users received$/.test((await page.getByTestId("setup-users").textContent()).trim()), 10_000, "12 users received");
    assert.match(await page.getByTestId("setup-arrivals").textContent(), /12 users received, 2 groups, last .*(s|now|min) ago|12 users received, 2 groups, last just now/);
    await page.getByTestId("setup-test-ok").waitFor();
    assert.match(await page.getByTestId("setup-requests").textContent(), /(POST|PATCH|PUT) \/(Users|Groups)/);

    // Reloaded, the page no longer shows a token.
    await page.reload();
    await page.getByTestId("setup-already-revealed").waitFor();
    assert.equal(await page.getByTestId("setup-token").count(), 0);
    assert.equal(await page.getByTestId("setup-reveal").count(), 0);

    // The console: first sync, with its time.
    await eventually(async () => (await saas.page.getByTestId("setup-link-row").first().getAttribute("data-status")) === "first_sync", 10_000, "the console to show the first sync");
  });

  test("an Entra admin takes OAuth client credentials instead: Entra's four fields, and they grant SCIM access", async () => {
    const created = await admin("POST", `/connections/${s.id}/setup-links`, { expires_in_hours: 24 });
    const page = await itAdmin.context.newPage();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    await page.goto(created.url);
    await page.getByTestId("setup-page").waitFor();
    await page.getByTestId("setup-idp-entra").check();
    await page.getByTestId("setup-reveal-oauth").click();
    await page.getByTestId("setup-revealed").waitFor();
    const entra = page.getByTestId("setup-entra");
    for (const field of ["Tenant URL", "Token endpoint", "Client identifier", "Client secret"]) {
      assert.ok((await entra.textContent()).includes(`“${field}”`), `Entra's field “${field}”`);
    }
    const endpoint = (await page.getByTestId("entra-token-endpoint").textContent()).trim();
    const clientId = (await page.getByTestId("entra-client-id").textContent()).trim();
    const clientSecret = (await page.getByTestId("entra-client-secret").textContent()).trim();
    assert.match(clientSecret, /^mcs_/);
    assert.equal(await page.getByTestId("setup-token").count(), 0, "no bearer token in OAuth mode");
    // What Entra then does: a client credentials grant, and SCIM with the access token.
    const grant = await fetch(endpoint, {
      method: "POST",
      headers: { Authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}`, "Content-Type": "application/x-www-form-urlencoded" },
      body: "grant_type=client_credentials",
    });
    assert.equal(grant.status, 200);
    const { access_token } = await grant.json();
    const users = await fetch(`${s.scimUrl}/Users?count=1`, { headers: { Authorization: `Bearer ${access_token}` } });
    assert.equal(users.status, 200);
    await page.close();
  });

  test("revoked in the console, the link says so on the IT admin's page", async () => {
    // Newest first: the IT admin's first link is the last row.
    const row = saas.page.getByTestId("setup-link-row").last();
    await row.getByTestId("setup-link-revoke").click();
    await eventually(async () => (await row.getAttribute("data-status")) === "revoked", 10_000, "the link revoked");
    const page = itAdmin.page;
    await page.getByTestId("setup-refused").waitFor({ timeout: 10_000 });
    assert.match(await page.getByTestId("setup-refused-reason").textContent(), /revoked/);
    // A fragment-only change does not reload a page: start from a blank one.
    await page.goto("about:blank");
    await page.goto(s.url.replace(/#.*/, "#msl_" + "0".repeat(64)));
    await page.getByTestId("setup-refused").waitFor();
    assert.match(await page.locator("h1").textContent(), /not a valid setup link/);
    assert.deepEqual(pageErrors, []);
  });
});
