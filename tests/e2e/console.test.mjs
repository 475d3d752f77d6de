// Browser e2e of the console against the real `muster serve`: create a connection, push SCIM users/groups, watch them live.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaGroup, oktaUser, scim } from "./lib/scim.mjs";
import { startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

/** Polls `fn` until it returns a truthy value (or stops throwing) within `timeoutMs`. */

const PEOPLE = [
  { given: "Ada", family: "Lovelace", email: "ada.lovelace@acme.example", externalId: "00u1ada", department: "Engineering" },
  { given: "Grace", family: "Hopper", email: "grace.hopper@acme.example", externalId: "00u2grace" },
  { given: "Alan", family: "Turing", email: "alan.turing@acme.example", externalId: "00u3alan" },
];

describe("console against muster serve", () => {
  let server;
  let browser;
  let page;
  const state = { scimUrl: "", token: "", connectionId: "", userIds: [] };
  const consoleErrors = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => consoleErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("opens with the secret from the console link and strips it from the address bar", async () => {
    await page.goto(server.console_url);
    await page.getByRole("heading", { name: "Connections", exact: true }).waitFor();
    assert.ok(!page.url().includes("secret="), `secret still in URL: ${page.url()}`);
    await page.getByTestId("connections-empty").waitFor();
    // The live event stream is connected (not the polling fallback).
    await eventually(async () => (await page.getByTestId("live-status").getAttribute("data-status")) === "open", 5000, "live stream open");
  });

  test("creates a connection and shows the SCIM URL and token once", async () => {
    await page.getByTestId("create-connection").click();
    await page.getByTestId("create-connection-name").fill("Acme Okta");
    await page.getByTestId("create-connection-idp-okta").check();
    await page.getByTestId("create-connection-submit").click();
    await page.getByTestId("created-dialog").waitFor();
    state.scimUrl = (await page.getByTestId("created-scim-url").textContent()).trim();
    state.token = (await page.getByTestId("created-token").textContent()).trim();
    assert.ok(state.scimUrl.startsWith(server.scim_base + "/"), `scim url ${state.scimUrl} not under ${server.scim_base}`);
    assert.ok(state.token.length >= 20, "token looks too short");
    assert.match(await page.getByTestId("token-warning").textContent(), /will not be shown again/);
    state.connectionId = state.scimUrl.slice(server.scim_base.length + 1).split(/[/?]/)[0];

    await page.getByTestId("created-open").click();
    await page.getByTestId("connection-name").filter({ hasText: "Acme Okta" }).waitFor();
    assert.equal((await page.getByTestId("scim-url").textContent()).trim(), state.scimUrl);
    const setup = await page.getByTestId("setup-okta").textContent();
    assert.match(setup, /SCIM connector base URL/);
    assert.match(setup, /Unique identifier field for users/);
    assert.match(setup, /userName/);
    assert.match(setup, /Authentication Mode/);

    await page.getByTestId("nav-home").click();
    const row = page.getByTestId("connection-row").filter({ hasText: "Acme Okta" });
    await row.waitFor();
    assert.match(await row.textContent(), /Okta/);
  });

  test("users pushed over SCIM appear in the users table without a reload", async () => {
    await page.getByTestId("connection-link").filter({ hasText: "Acme Okta" }).click();
    await page.getByTestId("tab-users").click();
    await page.getByTestId("users-empty").waitFor();
    await page.evaluate(() => {
      window.__sameDocument = true;
    });

    for (const p of PEOPLE) {
      const created = await scim(state.scimUrl, state.token, "POST", "/Users", oktaUser(p));
      assert.ok(created.id, "SCIM create returned no id");
      state.userIds.push(created.id);
    }
    await eventually(async () => (await page.getByTestId("user-row").count()) === PEOPLE.length, 5000, "three user rows");
    for (const p of PEOPLE) await page.getByTestId("user-row").filter({ hasText: p.email }).waitFor({ timeout: 1000 });
    assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page reloaded");
    await eventually(async () => (await page.getByTestId("count-users").textContent()).trim() === "3", 5000, "user count 3");

    // One more, on a table that already has rows: still live.
    const late = { given: "Linus", family: "Torvalds", email: "linus.torvalds@acme.example", externalId: "00u4linus" };
    await scim(state.scimUrl, state.token, "POST", "/Users", oktaUser(late));
    await page.getByTestId("user-row").filter({ hasText: late.email }).waitFor({ timeout: 5000 });
  });

  test("search by email narrows the table and is kept in the URL", async () => {
    await page.getByTestId("search").fill("grace.hopper@acme");
    await eventually(
      async () => (await page.getByTestId("user-row").count()) === 1 && /grace\.hopper/.test(await page.getByTestId("user-row").first().textContent()),
      5000,
      "one matching row",
    );
    assert.match(await page.getByTestId("user-row").first().textContent(), /grace\.hopper@acme\.example/);
    assert.match(new URL(page.url()).search, /q=grace\.hopper/);

    await page.reload();
    await eventually(async () => (await page.getByTestId("user-row").count()) === 1, 5000, "filter survives reload");
    assert.equal(await page.getByTestId("search").inputValue(), "grace.hopper@acme");
  });

  test("a user's drawer shows attributes, the enterprise extension and its log rows; Escape closes it", async () => {
    await page.getByTestId("search").fill("ada.lovelace");
    await eventually(
      async () => (await page.getByTestId("user-row").count()) === 1 && /ada\.lovelace/.test(await page.getByTestId("user-row").first().textContent()),
      5000,
      "only ada's row",
    );
    await page.getByTestId("user-row").first().click();
    const drawer = page.getByTestId("user-drawer");
    await drawer.getByTestId("user-attributes").waitFor();
    const attrs = await drawer.getByTestId("user-attributes").textContent();
    assert.match(attrs, /userName/);
    assert.match(attrs, /Ada/);
    assert.match(attrs, /Lovelace/);
    assert.equal((await drawer.getByTestId("drawer-email").textContent()).trim(), "ada.lovelace@acme.example");
    assert.match(await drawer.getByTestId("user-enterprise").textContent(), /Engineering/);
    assert.match(await drawer.getByTestId("raw-json").textContent(), /"userName": "ada\.lovelace@acme\.example"/);
    await eventually(async () => (await drawer.getByTestId("log-row").count()) >= 1, 5000, "log rows for ada");
    assert.match(await drawer.getByTestId("log-row").first().textContent(), /POST/);
    assert.match(new URL(page.url()).search, /user=/);

    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "detached" });
    assert.doesNotMatch(new URL(page.url()).search, /user=/);
  });

  test("keyboard: arrow keys move between rows and Enter opens the drawer", async () => {
    await page.getByTestId("search").fill("");
    await eventually(async () => (await page.getByTestId("user-row").count()) === 4, 5000, "all four rows");
    await page.getByTestId("user-row").first().focus();
    await page.keyboard.press("ArrowDown");
    const focused = await page.evaluate(() => document.activeElement?.getAttribute("data-row-index"));
    assert.equal(focused, "1");
    await page.keyboard.press("Enter");
    await page.getByTestId("user-drawer").getByTestId("user-attributes").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("user-drawer").waitFor({ state: "detached" });
  });

  test("clicking a header sorts on the server and keeps the sort in the URL", async () => {
    await page.getByTestId("sort-user_name").click(); // user_name is the default ascending sort: now descending
    await eventually(async () => new URL(page.url()).searchParams.get("order") === "desc", 3000, "order=desc in URL");
    await eventually(async () => /linus\.torvalds/.test(await page.getByTestId("user-row").first().textContent()), 5000, "linus first when descending");
    await page.getByTestId("sort-primary_email").click();
    await eventually(async () => new URL(page.url()).searchParams.get("sort") === "primary_email", 3000, "sort=primary_email in URL");
    await eventually(async () => /ada\.lovelace/.test(await page.getByTestId("user-row").first().textContent()), 5000, "ada first by email ascending");
  });

  test("groups tab shows a pushed group with its member count and members", async () => {
    await scim(state.scimUrl, state.token, "POST", "/Groups", oktaGroup("Engineering", state.userIds.slice(0, 2)));
    await page.getByTestId("tab-groups").click();
    const row = page.getByTestId("group-row").filter({ hasText: "Engineering" });
    await row.waitFor({ timeout: 5000 });
    assert.equal((await row.getByTestId("member-count").textContent()).trim(), "2");
    await row.click();
    const drawer = page.getByTestId("group-drawer");
    await drawer.getByTestId("group-members").waitFor();
    const members = await drawer.getByTestId("group-members").textContent();
    assert.match(members, /ada\.lovelace@acme\.example/);
    assert.match(members, /grace\.hopper@acme\.example/);
    await page.keyboard.press("Escape");
  });

  test("deep links load directly (server falls back to index.html)", async () => {
    await page.goto(new URL(`/connections/${state.connectionId}/users?q=alan`, server.console_url).href);
    await eventually(async () => (await page.getByTestId("user-row").count()) === 1, 8000, "deep-linked filtered users");
    assert.match(await page.getByTestId("user-row").first().textContent(), /alan\.turing/);
  });

  test("no uncaught errors in the page", () => {
    assert.deepEqual(consoleErrors, []);
  });
});
