// Browser e2e of the deprovisioning evidence screen against the real `muster serve`: the figures of a seeded period, the notice for the part retention pruned, scoping to a period the log covers, and the CSV and PDF downloads.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaUser, scim } from "./lib/scim.mjs";
import { admin, repoRoot, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

const PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const today = () => new Date().toISOString().slice(0, 10);
const daysAgo = (n) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

describe("deprovisioning evidence against muster serve", () => {
  let server;
  let browser;
  let page;
  const s = { id: "", scimUrl: "", token: "", users: {} };
  const pageErrors = [];
  const evidenceUrl = (query = "") => new URL(`/evidence${query}`, server.console_url).href;

  before(async () => {
    // The retention pass every second, so lowering the retention prunes at once.
    server = await startServer({ extraArgs: ["--prune-every-secs", "1"] });
    const created = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    const join = async (given, email) => (await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given, family: "Test", email, externalId: `ext-${given.toLowerCase()}` }))).id;
    // A leaver whose log rows will be older than the retention.
    s.users.old = await join("Old", "old.leaver@acme.example");
    await scim(s.scimUrl, s.token, "PUT", `/Users/${s.users.old}`, oktaUser({ given: "Old", family: "Test", email: "old.leaver@acme.example", externalId: "ext-old", active: false }));
    s.users.ada = await join("Ada", "ada@acme.example");
    s.users.bob = await join("Bob", "bob@acme.example");
    s.users.carol = await join("Carol", "carol@acme.example");
    // Ada is signed in to the application: her session ends with her deactivation.
    const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
    const appKey = JSON.parse(execFileSync(bin, ["app-key", "--db", server.db, "--label", "e2e app"], { encoding: "utf8" })).key;
    const res = await fetch(`${new URL(server.admin).origin}/app/v1/connections/${s.id}/users/${s.users.ada}/sessions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${appKey}`, "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 201, await res.text());
    await scim(s.scimUrl, s.token, "PATCH", `/Users/${s.users.ada}`, { schemas: [PATCH_URN], Operations: [{ op: "replace", value: { active: false } }] });
    await scim(s.scimUrl, s.token, "PUT", `/Users/${s.users.bob}`, oktaUser({ given: "Bob", family: "Test", email: "bob@acme.example", externalId: "ext-bob", active: false }));
    await scim(s.scimUrl, s.token, "DELETE", `/Users/${s.users.carol}`);

    // Age the old leaver's log rows by five days (the server's clock cannot be moved from
    // outside), then keep the log one day: the server's own retention pass prunes them.
    await eventually(
      async () => (await admin(server, "GET", `/connections/${s.id}/log?limit=100`)).items.filter((r) => r.user_name === "old.leaver@acme.example").length === 2,
      5000,
      "the old leaver's log rows",
    );
    execFileSync("sqlite3", [
      server.db,
      ".timeout 5000",
      "UPDATE provisioning_log SET at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-5 days') WHERE user_name = 'old.leaver@acme.example'",
    ]);
    await admin(server, "PUT", "/settings/log-retention", { days: 1 });
    await eventually(
      async () => (await admin(server, "GET", `/evidence?from=${daysAgo(29)}&to=${today()}`)).coverage.complete === false,
      10_000,
      "the retention pass prunes the aged rows",
    );

    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the last 30 days: the figures, every leaver, and the part retention removed said first", async () => {
    await page.getByTestId("nav-evidence").click();
    await page.getByTestId("evidence-report").waitFor();
    assert.equal(await page.getByTestId("evidence-from").inputValue(), daysAgo(29));
    assert.equal(await page.getByTestId("evidence-to").inputValue(), today());

    const gap = page.getByTestId("evidence-gap");
    assert.match(await gap.textContent(), /Part of this period is not covered\./);
    assert.match(await gap.textContent(), /removed by retention \(it keeps 1 day\)/);
    assert.match(await gap.textContent(), /show 0 sessions revoked/);

    assert.equal(await page.getByTestId("evidence-leavers").textContent(), "3");
    assert.equal(await page.getByTestId("evidence-deactivated").textContent(), "2");
    assert.equal(await page.getByTestId("evidence-deleted").textContent(), "1");
    assert.equal(await page.getByTestId("evidence-sessions").textContent(), "1");
    assert.equal(await page.getByTestId("evidence-failed-first").textContent(), "0");
    assert.equal(await page.getByTestId("evidence-reactivated").textContent(), "0");
    for (const id of ["evidence-p50", "evidence-p95", "evidence-max"]) {
      assert.match(await page.getByTestId(id).textContent(), /^\d+(\.\d)? (ms|s)$/, id);
    }
    assert.match(await page.getByTestId("evidence-hash").textContent(), /^[0-9a-f]{64}$/);

    const rows = page.getByTestId("evidence-leaver");
    await eventually(async () => (await rows.count()) === 3, 5000, "three leaver rows");
    const text = (await rows.allTextContents()).join("\n");
    for (const name of ["ada@acme.example", "bob@acme.example", "carol@acme.example", "ext-ada", "Deleted", "Deactivated", "Okta"]) {
      assert.ok(text.includes(name), `${name} in\n${text}`);
    }
    assert.ok(!text.includes("old.leaver"), text);
    // Plain language: no internal codes on the screen.
    const screen = await page.getByTestId("evidence-screen").textContent();
    for (const code of ["no_consumer", "not_in_feed", "Some(", "null"]) assert.ok(!screen.includes(code), `${code} shown`);
  });

  test("a period the log wholly covers says so, and the connection filter lives in the URL", async () => {
    await page.getByTestId("evidence-connection").selectOption(s.id);
    await page.getByTestId("evidence-from").fill(today());
    await page.getByTestId("evidence-complete").waitFor();
    assert.equal(await page.getByTestId("evidence-gap").count(), 0);
    assert.equal(await page.getByTestId("evidence-leavers").textContent(), "3");
    const url = new URL(page.url());
    assert.equal(url.searchParams.get("connection"), s.id);
    assert.equal(url.searchParams.get("from"), today());
  });

  test("the CSV and the PDF download, each with the report in it", async () => {
    await page.goto(evidenceUrl());
    await page.getByTestId("evidence-report").waitFor();

    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("evidence-download-csv").click()]);
    assert.match(csv.suggestedFilename(), new RegExp(`^muster-evidence-${daysAgo(29)}-\\d{4}-\\d{2}-\\d{2}\\.csv$`));
    const lines = readFileSync(await csv.path(), "utf8").trim().split("\n");
    assert.ok(lines.some((l) => l.startsWith("# NOT COVERED: ")), lines.join("\n"));
    const rows = lines.filter((l) => !l.startsWith("#"));
    assert.ok(rows[0].startsWith("record,connection_id,user_id,user_name,external_id,how,"), rows[0]);
    assert.equal(rows.length, 4, rows.join("\n"));
    for (const name of ["ada@acme.example", "bob@acme.example", "carol@acme.example"]) {
      assert.ok(rows.some((r) => r.startsWith("leaver,") && r.includes(name)), name);
    }

    const [pdf] = await Promise.all([page.waitForEvent("download"), page.getByTestId("evidence-download-pdf").click()]);
    assert.match(pdf.suggestedFilename(), /\.pdf$/);
    const bytes = readFileSync(await pdf.path());
    assert.equal(bytes.subarray(0, 5).toString("latin1"), "%PDF-");
    assert.ok(bytes.length > 1000, `${bytes.length} bytes`);
    assert.deepEqual(pageErrors, []);
  });
});
