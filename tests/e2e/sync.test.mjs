// Browser e2e: a running sync is visible. `muster simulate` pushes as Okta into a real `muster serve` (a 3 s cycle gap); the overview shows the push running with its counts rising, then its summary in the recent cycles, and the next push as a new cycle after it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { simulate } from "./lib/simulate.mjs";
import { eventually } from "./lib/wait.mjs";

const GAP_SECS = 3;

describe("the overview shows a running sync and the cycles before it", () => {
  let server;
  let browser;
  let page;
  const pageErrors = [];
  const admin = (method, p, body) => adminCall(server, method, p, body);
  const consoleAt = (p) => new URL(p.replace(/^\//, ""), server.console_url.split("#")[0]).href;
  const count = async (testId) => Number(await page.getByTestId(testId).first().getAttribute("data-count"));

  before(async () => {
    server = await startServer({ extraArgs: ["--sync-gap-secs", String(GAP_SECS)] });
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    await page.goto(server.console_url);
    await page.getByTestId("create-connection").waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("an Okta push runs with rising counts, then ends in the history; the next push is a new cycle", async () => {
    const created = await admin("POST", "/connections", { name: "Acme Okta", idp: "okta" });
    const c = { id: created.connection.id, scimUrl: created.connection.scim_url, token: created.token };
    await page.goto(consoleAt(`/connections/${c.id}`));
    const panel = page.getByTestId("sync-panel");
    await panel.waitFor();
    assert.match(await page.getByTestId("sync-idle").textContent(), /No sync yet/);
    assert.match(await page.getByTestId("sync-gap").textContent(), /after 3 s without a request/);
    await page.getByTestId("sync-history-empty").waitFor();

    // One request at a time, so the push lasts long enough to be watched.
    const push = simulate(c, "initial-sync", ["--users", "1500", "--groups", "4", "--concurrency", "1"]);
    let exited = false;
    push.done.then(
      () => (exited = true),
      () => (exited = true),
    );
    await eventually(async () => (await panel.getAttribute("data-running")) === "true", 20_000, "the panel to show a running sync");
    const line = page.getByTestId("sync-running");
    assert.match(await line.textContent(), /^Okta push running since \d\d:\d\d UTC/);
    assert.match(await page.getByTestId("sync-running-rate").textContent(), /^[\d.,]+ req\/s$/);
    const first = await count("sync-running-created");
    await eventually(async () => (await count("sync-running-created")) > first && (await panel.getAttribute("data-running")) === "true", 20_000, "the created count to rise while running");
    assert.ok(!exited, "the push was still running while its counts rose (make it longer if this fails)");
    assert.equal(await count("sync-running-failed"), 0);

    const summary = await push.done;
    assert.deepEqual(summary.failures, []);
    // The gap passes: the push ends and its summary is the newest cycle.
    await eventually(async () => (await panel.getAttribute("data-running")) === "false", 20_000, "the push to end");
    assert.match(await page.getByTestId("sync-idle").textContent(), /the last push ended/);
    const rows = page.getByTestId("sync-cycle");
    await eventually(async () => (await rows.count()) === 1, 10_000, "one cycle in the history");
    const row = rows.first();
    const cell = async (name) => Number((await row.getByTestId(`sync-cycle-${name}`).textContent()).replace(/,/g, ""));
    // Every request the simulated Okta sent is in the cycle, each create counted once.
    assert.equal(await cell("requests"), summary.requests);
    assert.equal(await cell("created"), summary.by_status["201"]);
    assert.equal(await cell("created"), 1504);
    assert.equal(await cell("failed"), 0);
    assert.equal(await cell("deactivated"), 0);
    assert.match(await row.textContent(), /Okta push/);
    const api = await admin("GET", `/connections/${c.id}/sync`);
    assert.equal(api.running, null);
    assert.equal(api.recent.length, 1);
    assert.equal(api.recent[0].requests, summary.requests);
    assert.equal(api.recent[0].dialect, "okta");

    // The next push (one joiner, then that leaver) comes after the gap: a cycle of its own.
    const leaver = await simulate(c, "leaver").done;
    await eventually(async () => (await rows.count()) === 2 && (await panel.getAttribute("data-running")) === "false", 25_000, "the second cycle in the history");
    const newest = rows.first();
    assert.equal(Number(await newest.getByTestId("sync-cycle-requests").textContent()), leaver.requests);
    assert.ok(Number(await newest.getByTestId("sync-cycle-deactivated").textContent()) >= 1, "the leaver is counted as deactivated");
    assert.equal(Number((await rows.nth(1).getByTestId("sync-cycle-created").textContent()).replace(/,/g, "")), 1504);
    // The failures link and the cycle's log link open the log filtered to the cycle.
    await newest.getByRole("link").first().click();
    await page.waitForURL(/\/log\?range=custom&since=/);
    assert.deepEqual(pageErrors, []);
  });
});
