// Browser e2e of the live demo, the readiness report (and its PDF download) and the Sign-in (JIT) tab against the real `muster serve`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

/** Polls `fn` until it returns a truthy value (or stops throwing) within `timeoutMs`. */

describe("demo, readiness and sign-in policy", () => {
  let server;
  let browser;
  let page;
  const pageErrors = [];
  const at = (p) => new URL(p, server.console_url).href.replace(/#.*$/, "");

  const admin = (method, p, body) => adminCall(server, method, p, body);

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    await page.goto(server.console_url);
    await page.getByRole("heading", { name: "Connections", exact: true }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the demo plays to the end at 4×, shows its evidence, marks its connections DEMO, and reset removes them", async () => {
    await page.getByTestId("nav-demo").click();
    await page.getByTestId("demo-screen").waitFor();
    await page.getByTestId("demo-speed-4").click();
    await page.getByTestId("demo-start").click();
    await eventually(async () => ["running", "finished"].includes(await page.getByTestId("demo-phase").getAttribute("data-phase")), 5000, "demo running");

    const steps = page.getByTestId("demo-step");
    await eventually(
      async () => {
        const phase = await page.getByTestId("demo-phase").getAttribute("data-phase");
        if (phase === "failed") throw new Error("demo failed");
        const statuses = await steps.evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
        assert.ok(!statuses.includes("failed"), `a step failed: ${statuses.join(",")}`);
        return phase === "finished" && statuses.length > 0 && statuses.every((s) => s === "done");
      },
      90_000,
      "every demo step done",
    );
    assert.ok((await steps.count()) >= 3, "the demo has several steps");
    const leaver = page.locator('[data-testid="demo-step"][data-step="leaver"] [data-testid="demo-step-detail"]');
    assert.match(await leaver.innerText(), /revoked/i);
    const details = await page.getByTestId("demo-step-detail").allInnerTexts();
    assert.ok(details.filter((d) => d.trim()).length >= 3, `step details visible: ${details.length}`);
    assert.ok((await page.getByTestId("demo-see-it").count()) >= 1, "See it links shown");

    await page.getByTestId("nav-connections").click();
    await page.getByTestId("connections-table").waitFor();
    const demoRows = page.locator('[data-testid="connection-row"]:has([data-testid="demo-badge"])');
    await eventually(async () => (await demoRows.count()) >= 1, 5000, "DEMO connections listed");

    // The connection header carries the mark too.
    await demoRows.first().getByTestId("connection-link").click();
    await page.getByTestId("connection-name").waitFor();
    await page.locator(".page-head").getByTestId("demo-badge").waitFor();

    await page.getByTestId("nav-demo").click();
    await page.getByTestId("demo-reset").click();
    await page.getByTestId("demo-reset-confirm").click();
    await eventually(async () => (await page.getByTestId("demo-phase").getAttribute("data-phase")) === "idle", 15_000, "demo reset to idle");
    await page.getByTestId("nav-connections").click();
    await eventually(async () => (await page.getByTestId("demo-badge").count()) === 0, 10_000, "DEMO connections gone");
    const left = await admin("GET", "/connections");
    assert.equal(left.filter((c) => c.demo).length, 0, "no demo connection left on the server");
  });

  test("pause holds the timeline, resume at 4× moves it on, reset removes the demo connections", async () => {
    await page.getByTestId("nav-demo").click();
    await page.getByTestId("demo-screen").waitFor();
    await page.getByTestId("demo-speed-1").click();
    await page.getByTestId("demo-start").click();
    const steps = page.getByTestId("demo-step");
    const statuses = () => steps.evaluateAll((els) => els.map((e) => e.getAttribute("data-status")));
    const doneCount = (list) => list.filter((s) => s === "done").length;
    const phase = () => page.getByTestId("demo-phase").getAttribute("data-phase");

    // The first step takes well under a second; the beat after it lasts 2 s at 1×.
    await eventually(async () => doneCount(await statuses()) >= 1, 10_000, "first step done");
    await page.getByTestId("demo-pause").click();
    await eventually(async () => (await phase()) === "paused", 5000, "paused");
    await page.getByTestId("demo-resume").waitFor();
    // A step already running when the pause came may finish; after that nothing starts.
    await eventually(async () => !(await statuses()).includes("running"), 30_000, "the running step settled");
    const held = await statuses();
    assert.ok(held.includes("pending"), `steps left to play: ${held.join(",")}`);
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(await statuses(), held, "the timeline did not advance while paused");
    assert.equal(await phase(), "paused");
    const onServer = await admin("GET", "/demo");
    assert.equal(onServer.phase, "paused");
    assert.deepEqual(
      onServer.steps.map((s) => s.status),
      held,
      "the story itself stood still, not just the screen",
    );

    // Faster while paused, then resume: the story moves on.
    await page.getByTestId("demo-speed-4").click();
    await eventually(async () => (await page.getByTestId("demo-speed-4").getAttribute("aria-checked")) === "true", 5000, "4× selected");
    assert.equal((await admin("GET", "/demo")).speed, 4);
    await page.getByTestId("demo-resume").click();
    await eventually(async () => ["running", "finished"].includes(await phase()), 5000, "running again");
    await eventually(async () => doneCount(await statuses()) > doneCount(held), 20_000, "the timeline advances after resume");

    // Reset (possibly mid-story): the demo connections leave the connections list.
    assert.ok((await admin("GET", "/connections")).filter((c) => c.demo).length >= 1, "demo connections existed");
    await page.getByTestId("demo-reset").click();
    await page.getByTestId("demo-reset-confirm").click();
    await eventually(async () => (await phase()) === "idle", 15_000, "demo reset to idle");
    await page.getByTestId("nav-connections").click();
    await page.getByRole("heading", { name: "Connections", exact: true }).waitFor();
    await eventually(async () => (await page.getByTestId("demo-badge").count()) === 0, 10_000, "DEMO connections gone from the list");
    assert.equal(await page.locator('[data-testid="connection-row"]').count(), 0, "no connection rows left");
    assert.equal((await admin("GET", "/connections")).filter((c) => c.demo).length, 0, "no demo connection left on the server");
  });

  test("readiness: checks against a fresh connection pass with 0 failures, evidence expands", async () => {
    const created = await admin("POST", "/connections", { name: "Readiness target", idp: "okta" });
    const id = created.connection.id;
    await page.getByTestId("nav-readiness").click();
    await page.getByTestId("readiness-screen").waitFor();
    await page.getByTestId("readiness-start").waitFor();
    await page.getByTestId("readiness-connection").selectOption(id);
    await page.getByTestId("readiness-run").click();
    await page.getByTestId("readiness-running").waitFor();
    assert.match(await page.getByTestId("readiness-running").innerText(), /up to 30 s/);
    const summary = page.getByTestId("readiness-summary");
    await summary.waitFor({ timeout: 60_000 });
    assert.equal(await summary.getAttribute("data-fail"), "0", await summary.innerText());
    assert.equal(await page.getByTestId("readiness-fail").innerText(), "0");
    assert.ok(Number(await page.getByTestId("readiness-pass").innerText()) > 0, "some checks passed");
    assert.ok((await page.locator('[data-testid="readiness-check"][data-outcome="fail"]').count()) === 0);

    const first = page.locator('[data-testid="readiness-check"][data-outcome="pass"]').first();
    await first.getByTestId("readiness-check-toggle").click();
    await page.getByTestId("readiness-evidence").waitFor();

    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 60_000 }), page.getByTestId("readiness-download").click()]);
    assert.match(download.suggestedFilename(), /^muster-readiness-\d{4}-\d{2}-\d{2}\.html$/);
  });

  test("readiness: Download PDF saves a PDF whose text names the level verdict and the server tested", async () => {
    const created = await admin("POST", "/connections", { name: "Readiness PDF", idp: "okta" });
    await page.goto(at("/readiness"));
    await page.getByTestId("readiness-start").waitFor();
    await page.getByTestId("readiness-connection").selectOption(created.connection.id);
    await page.getByTestId("readiness-run").click();
    await page.getByTestId("readiness-summary").waitFor({ timeout: 90_000 });
    const target = (await page.getByTestId("readiness-target-url").innerText()).trim();
    assert.ok(target.endsWith(`/${created.connection.id}`), target);
    // The level verdict as the screen shows it, without its label and the list of what is missing.
    const levels = await page.getByTestId("readiness-levels").innerText();
    const verdict = levels.split("\n")[0].replace(/^IPSIE SCIM profile levels \(draft\):\s*/, "").trim();
    assert.match(verdict, /^Meets /, levels);

    const [download] = await Promise.all([page.waitForEvent("download", { timeout: 90_000 }), page.getByTestId("readiness-download-pdf").click()]);
    assert.match(download.suggestedFilename(), /^muster-readiness-\d{4}-\d{2}-\d{2}\.pdf$/);
    const file = await download.path();
    const bytes = readFileSync(file);
    assert.equal(bytes.subarray(0, 5).toString("latin1"), "%PDF-");
    // An independent reader (poppler's pdftotext); its line breaks and layout spaces folded.
    const text = execFileSync("pdftotext", ["-layout", file, "-"], { encoding: "utf8" }).split(/\s+/).join(" ");
    assert.ok(text.includes(`Server tested: ${target}`), `server URL not in the PDF:\n${text}`);
    assert.ok(text.includes(verdict), `verdict ${JSON.stringify(verdict)} not in the PDF:\n${text}`);
    assert.deepEqual(pageErrors, []);
  });

  test("sign-in policy: switching to SCIM authoritative persists across a reload", async () => {
    const created = await admin("POST", "/connections", { name: "JIT policy", idp: "entra" });
    const id = created.connection.id;
    await page.goto(at(`/connections/${id}`));
    await page.getByTestId("tab-signin").click();
    await page.getByTestId("signin-screen").waitFor();
    // A fresh connection starts SCIM authoritative; go to JIT only first: the stale-accounts section and its warning appear.
    await page.getByTestId("policy-radio-jit_only").check();
    await page.getByTestId("signin-save").click();
    await page.getByTestId("signin-saved").waitFor();
    await page.getByTestId("stale-section").waitFor();
    assert.match(await page.getByTestId("stale-section").innerText(), /Access removal is not automatic for connections without SCIM\./);
    assert.equal((await admin("GET", `/connections/${id}/jit`)).policy, "jit_only");
    await page.getByTestId("policy-radio-scim_authoritative").check();
    await page.getByTestId("signin-save").click();
    await page.getByTestId("signin-saved").waitFor();
    await page.reload();
    await page.getByTestId("signin-screen").waitFor();
    assert.ok(await page.getByTestId("policy-radio-scim_authoritative").isChecked(), "policy persisted");
    const s = await admin("GET", `/connections/${id}/jit`);
    assert.equal(s.policy, "scim_authoritative");
    // Stale accounts are offered only for JIT-only connections.
    assert.equal(await page.getByTestId("stale-section").count(), 0);
  });

  test("no uncaught errors in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
