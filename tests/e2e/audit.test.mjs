// Browser e2e of the Audit screen against the real `muster serve`: admin actions done through the API (two connections, a token rotation, the log's retention) listed across the server, filtered by connection and by action (filters in the URL), a row's drawer, and the CSV and JSON exports (quoting that survives a comma and a quote), each export audited.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

/** RFC 4180 CSV, written here rather than taken from the server's code, so the quoting is checked independently. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else if (c !== "\r") field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

describe("the Audit screen against muster serve", () => {
  let server;
  let browser;
  let page;
  const s = { acme: "", globex: "" };
  const pageErrors = [];
  const admin = (method, p, body) => adminCall(server, method, p, body);
  const ACME = 'Acme, "EU" Okta';
  const auditUrl = (query = "") => new URL(`/audit${query}`, server.console_url).href;
  const shownActions = () => page.getByTestId("audit-action").allTextContents();

  before(async () => {
    server = await startServer();
    s.acme = (await admin("POST", "/connections", { name: ACME, idp: "okta" })).connection.id;
    s.globex = (await admin("POST", "/connections", { name: "Globex Entra", idp: "entra" })).connection.id;
    await admin("POST", `/connections/${s.globex}/tokens/rotate`, { grace_seconds: 60 });
    await admin("PUT", "/settings/log-retention", { days: 21 });
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(15_000);
    // The console takes its secret from the URL's fragment once, then keeps it.
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("the top navigation opens the screen, which lists every admin action, server-wide ones too", async () => {
    await page.getByTestId("nav-audit").click();
    await page.getByTestId("audit-screen").waitFor();
    await eventually(async () => (await shownActions()).length === 4, 10_000, "four audited actions");
    assert.deepEqual(await shownActions(), ["log_retention_set", "token_rotated", "connection_created", "connection_created"]);
    assert.deepEqual(await page.getByTestId("audit-connection").evaluateAll((els) => els.map((e) => e.dataset.connection)), ["server", s.globex, s.globex, s.acme]);
    await page.getByTestId("audit-end").waitFor();
  });

  test("filtering by connection and by action shows exactly those rows, and the filter lives in the URL", async () => {
    await page.getByTestId("audit-filter-connection").selectOption(s.globex);
    await eventually(async () => JSON.stringify(await shownActions()) === JSON.stringify(["token_rotated", "connection_created"]), 10_000, "Globex's two rows");
    assert.equal(new URL(page.url()).searchParams.get("connection"), s.globex);

    await page.getByTestId("audit-filter-action").fill("token_rotated");
    await page.getByTestId("audit-filter-action").press("Enter");
    await eventually(async () => JSON.stringify(await shownActions()) === JSON.stringify(["token_rotated"]), 10_000, "the rotation only");
    assert.equal(new URL(page.url()).searchParams.get("action"), "token_rotated");

    // A link to the filtered view opens it filtered.
    await page.goto(auditUrl(`?connection=server&action=log_*`));
    await eventually(async () => JSON.stringify(await shownActions()) === JSON.stringify(["log_retention_set"]), 10_000, "the server's retention row");
    assert.equal(await page.getByTestId("audit-filter-connection").inputValue(), "server");

    // A row opens its drawer with the fields the table cuts.
    await page.getByTestId("audit-entry").first().click();
    await page.getByTestId("audit-drawer").waitFor();
    assert.equal(await page.getByTestId("audit-drawer-detail").textContent(), "21 days");
    await page.getByTestId("drawer-close").click();

    await page.goto(auditUrl(`?action=nothing_like_this`));
    await page.getByTestId("audit-empty").waitFor();
  });

  test("CSV and JSON exports hold the filtered rows, quoting intact, and each export is audited", async () => {
    await page.goto(auditUrl(`?connection=${s.acme}`));
    await eventually(async () => JSON.stringify(await shownActions()) === JSON.stringify(["connection_created"]), 10_000, "Acme's row");

    const [csv] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export-csv").click()]);
    assert.match(csv.suggestedFilename(), /^muster-audit-\d{4}-\d{2}-\d{2}\.csv$/);
    const table = parseCsv(readFileSync(await csv.path(), "utf8"));
    assert.deepEqual(table[0], ["id", "at", "connection_id", "actor", "actor_email", "actor_role", "actor_subject", "action", "token_prefix", "source", "user_agent", "detail"]);
    assert.equal(table.length, 2, JSON.stringify(table));
    const row = Object.fromEntries(table[0].map((k, i) => [k, table[1][i]]));
    assert.equal(row.action, "connection_created");
    assert.equal(row.connection_id, s.acme);
    assert.equal(row.actor, "admin");
    assert.equal(row.source, "127.0.0.1");
    assert.equal(row.detail, `'${ACME}' for okta`);

    await page.goto(auditUrl(`?action=connection_*`));
    await eventually(async () => (await shownActions()).length === 2, 10_000, "both connections' rows");
    const [json] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export-json").click()]);
    assert.match(json.suggestedFilename(), /^muster-audit-\d{4}-\d{2}-\d{2}\.json$/);
    const rows = JSON.parse(readFileSync(await json.path(), "utf8"));
    assert.deepEqual(
      rows.map((r) => [r.action, r.connection_id]),
      [
        ["connection_created", s.globex],
        ["connection_created", s.acme],
      ],
    );
    assert.equal(rows[1].detail, `'${ACME}' for okta`);

    // Both exports left a row naming their filters; the screen shows them too.
    const exports = (await admin("GET", "/audit?action=audit.export")).rows;
    assert.equal(exports.length, 2, JSON.stringify(exports));
    assert.deepEqual(JSON.parse(exports[0].detail), { action: "connection_*", format: "json", rows: 2 });
    assert.deepEqual(JSON.parse(exports[1].detail), { connection: s.acme, format: "csv", rows: 1 });
    assert.equal(exports[1].connection_id, s.acme);
    await page.goto(auditUrl(`?action=audit.export`));
    await eventually(async () => (await shownActions()).length === 2, 10_000, "the two export rows");
    assert.deepEqual(pageErrors, []);
  });
});
