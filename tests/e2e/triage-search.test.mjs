// Browser e2e of triage by fragments and the Ctrl+K search against the real `muster serve`: opening Triage fires no failing request; a userName prefix and an externalId fragment find the one user, with her group by name and readable times; a fragment several users share lists them to pick from; a refused sign-in of someone never provisioned is the finding; Ctrl+K finds a user in another connection and Enter opens her drawer.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaGroup, oktaUser, scim } from "./lib/scim.mjs";
import { admin, repoRoot, startServer } from "./lib/server.mjs";

describe("triage by fragments, refused sign-ins, group names, and one search across connections", () => {
  let server;
  let browser;
  let page;
  const s = { acme: "", globex: "", jane: "", janet: "", ada: "" };
  const pageErrors = [];
  /** Every admin API answer of 400 or more the console received. */
  const failures = [];
  /** Requests the page has in flight, the live stream aside (`settle`). */
  const inFlight = new Set();

  before(async () => {
    server = await startServer();
    const acme = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
    const globex = await admin(server, "POST", "/connections", { name: "Globex Okta", idp: "okta" });
    s.acme = acme.connection.id;
    s.globex = globex.connection.id;
    const push = (c, body) => scim(c.connection.scim_url, c.token, "POST", "/Users", body);
    s.jane = (await push(acme, oktaUser({ given: "Jane", family: "Doe", email: "jane.doe@acme.example", externalId: "00uJANE7781" }))).id;
    s.janet = (await push(acme, oktaUser({ given: "Janet", family: "Smith", email: "janet.smith@acme.example", externalId: "00uJANET" }))).id;
    s.ada = (await push(globex, oktaUser({ given: "Ada", family: "Lovelace", email: "ada.lovelace@globex.example", externalId: "g-ada" }))).id;
    await scim(acme.connection.scim_url, acme.token, "POST", "/Groups", oktaGroup("Engineering", [s.jane]));
    // Someone the IdP never sent tries to sign in: refused (SCIM is authoritative by default).
    const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
    const appKey = JSON.parse(execFileSync(bin, ["app-key", "--db", server.db, "--label", "e2e app"], { encoding: "utf8" })).key;
    const res = await fetch(`${new URL(server.admin).origin}/app/v1/connections/${s.acme}/signin`, {
      method: "POST",
      headers: { Authorization: `Bearer ${appKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ subject: "00uNEWHIRE", email: "new.hire@acme.example" }),
    });
    assert.equal(res.status, 403);

    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    const live = (r) => new URL(r.url()).pathname.endsWith("/api/events");
    page.on("request", (r) => {
      if (!live(r)) inFlight.add(r);
    });
    page.on("requestfinished", (r) => inFlight.delete(r));
    page.on("requestfailed", (r) => inFlight.delete(r));
    page.on("response", (r) => {
      if (r.status() >= 400 && new URL(r.url()).pathname.startsWith("/api/")) failures.push(`${r.request().method()} ${r.url()} -> ${r.status()}`);
    });
    page.setDefaultTimeout(10_000);
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    assert.deepEqual(pageErrors, [], "no uncaught errors in the page");
  });

  /**
   * Waits until the console has no request in flight for a moment. The live stream (/api/events) stays
   * open for good, so "networkidle" never comes: requests are counted here instead, the stream left out.
   */
  const settle = async () => {
    const deadline = Date.now() + 10_000;
    let quietSince = Date.now();
    while (Date.now() < deadline) {
      if (inFlight.size > 0) quietSince = Date.now();
      else if (Date.now() - quietSince >= 500) return;
      await page.waitForTimeout(50);
    }
    assert.fail(`requests still in flight: ${[...inFlight].map((r) => r.url()).join(", ")}`);
  };

  const triage = async (q) => {
    const box = page.getByTestId("triage-search");
    await box.fill(q);
    await page.getByTestId("triage-submit").click();
    await page.getByTestId("triage-results").waitFor();
    await page.getByTestId("triage-normalized").filter({ hasText: q.toLowerCase() }).waitFor();
  };

  test("opening Triage, from the nav and by its link, fires no failing request", async () => {
    failures.length = 0;
    await page.getByTestId("nav-triage").click();
    await page.getByTestId("triage-start").waitFor();
    await settle();
    await page.goto(new URL("/triage", server.console_url).href);
    await page.getByTestId("triage-start").waitFor();
    await settle();
    assert.deepEqual(failures, [], "no 4xx/5xx while opening Triage");
  });

  test("a userName prefix finds the one user: her group by name, the timeline in words, times readable", async () => {
    await triage("jane.do");
    const f = page.getByTestId("triage-finding");
    assert.equal(await f.count(), 1);
    assert.equal(await f.getAttribute("data-verdict"), "active_and_fine");
    assert.equal(await f.getByTestId("finding-user").textContent(), "jane.doe@acme.example");
    await page.getByTestId("triage-partial").waitFor();
    assert.deepEqual(await f.getByTestId("finding-group").allTextContents(), ["Engineering"]);
    const items = f.getByTestId("timeline-item");
    await items.filter({ hasText: "Added to group “Engineering”" }).waitFor();
    const text = await f.getByTestId("finding-timeline").textContent();
    assert.doesNotMatch(text, /\d{4}-\d{2}-\d{2}T\d{2}:/, "no raw RFC 3339 time in the timeline");
    const time = items.first().locator("time");
    assert.match(await time.textContent(), /just now|ago/);
    assert.match(await time.getAttribute("title"), /UTC$/);
  });

  test("an externalId fragment finds the same user", async () => {
    await triage("JANE7781");
    const f = page.getByTestId("triage-finding");
    assert.equal(await f.count(), 1);
    assert.equal(await f.getByTestId("finding-user").textContent(), "jane.doe@acme.example");
  });

  test("a fragment two users share lists both to pick from, and picking one triages it", async () => {
    await triage("jane");
    const rows = page.getByTestId("triage-candidate");
    await page.getByTestId("triage-candidates").waitFor();
    assert.equal(await page.getByTestId("triage-finding").count(), 0, "no guessed finding");
    assert.deepEqual((await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-user")))).sort(), [s.jane, s.janet].sort());
    await rows.filter({ hasText: "janet.smith@acme.example" }).getByTestId("triage-candidate-pick").click();
    const f = page.getByTestId("triage-finding");
    await f.getByTestId("finding-user").filter({ hasText: "janet.smith@acme.example" }).waitFor();
    assert.equal(await f.count(), 1);
  });

  test("a refused sign-in of someone never provisioned is the finding, with the refusal in the timeline", async () => {
    await triage("new.hire@acme.example");
    const f = page.getByTestId("triage-finding");
    assert.equal(await f.getAttribute("data-verdict"), "sign_in_refused");
    assert.match(await f.getByTestId("finding-summary").textContent(), /refused/);
    await f.getByTestId("timeline-item").filter({ hasText: "JIT sign-in refused" }).waitFor();
    assert.deepEqual(failures, [], "no failing request while triaging");
  });

  test("Ctrl+K finds a user in another connection; arrows move, Enter opens her drawer", async () => {
    await page.getByTestId("global-search-open").waitFor();
    await page.keyboard.press("Control+k");
    const dialog = page.getByTestId("global-search");
    await dialog.waitFor();
    const input = dialog.getByTestId("global-search-input");
    await input.fill("lovelace");
    const hits = dialog.getByTestId("global-search-hit");
    await hits.first().waitFor();
    const conn = dialog.getByTestId("global-search-connection");
    assert.deepEqual(await conn.evaluateAll((els) => els.map((e) => e.getAttribute("data-connection"))), [s.globex], "grouped under Globex");
    assert.match(await conn.first().textContent(), /Globex Okta/);
    const kinds = await hits.evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    assert.deepEqual(kinds, ["users", "log"], "the user, then the request that created her");
    assert.equal(await hits.nth(0).getAttribute("aria-selected"), "true");
    await input.press("ArrowDown");
    assert.equal(await hits.nth(1).getAttribute("aria-selected"), "true");
    await input.press("ArrowUp");
    assert.equal(await hits.nth(0).getAttribute("aria-selected"), "true");
    await input.press("Enter");
    await page.waitForURL((u) => u.pathname === `/connections/${s.globex}/users` && u.searchParams.get("user") === s.ada);
    await page.getByTestId("user-drawer").waitFor();
    assert.equal(await dialog.count(), 0, "the dialog closed");
    assert.deepEqual(failures, [], "no failing request while searching");
  });

  test("the search button opens the same dialog; a one-letter query asks for more and sends nothing", async () => {
    failures.length = 0;
    const searches = [];
    const onRequest = (r) => {
      if (new URL(r.url()).pathname === "/api/search") searches.push(r.url());
    };
    page.on("request", onRequest);
    await page.getByTestId("global-search-open").click();
    const dialog = page.getByTestId("global-search");
    await dialog.getByTestId("global-search-input").fill("j");
    await dialog.getByText("Type at least 2 characters").waitFor();
    await page.waitForTimeout(500);
    page.off("request", onRequest);
    assert.deepEqual(searches, []);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    assert.deepEqual(failures, []);
  });
});
