// Browser e2e of console bugs fixed together (numbers from the bug list): each test failed on the code before its fix.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaUser, scim } from "./lib/scim.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

const ENTRA_UA = "Microsoft.Identity.Provisioning.Service/1.0";

/** A SCIM request whose failure is the point: returns the status instead of throwing. */
async function raw(url, token, method, body, userAgent = "Okta SCIM Client 1.0.0") {
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/scim+json", "User-Agent": userAgent },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await res.text();
  return res.status;
}

/** WCAG 2.x contrast ratio of two CSS colours given as [r, g, b] (0-255). */
function contrast(a, b) {
  const lum = ([r, g, bl]) => {
    const ch = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(bl);
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

/**
 * The text colour of a field and the background it is actually painted on (its own, or, where that is
 * transparent, its ancestors' composited underneath), as rgb triples, read from computed styles.
 */
async function fieldColors(locator) {
  return locator.evaluate((el) => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) throw new Error(`unparsed colour ${c}`);
      const [r, g, b, a = "1"] = m[1].split(/[\s,/]+/).filter(Boolean);
      return [Number(r), Number(g), Number(b), Number(a)];
    };
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    // Composite from the bottom layer up (the canvas under everything is white when nothing is opaque).
    let bg = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) bg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
    const s = getComputedStyle(el);
    const fg = parse(s.color);
    const ph = el.getAttribute("placeholder") ? getComputedStyle(el, "::placeholder").color : null;
    return { fg: fg.slice(0, 3), bg, color: s.color, background: s.backgroundColor, placeholder: ph, placeholderRgb: ph ? parse(ph).slice(0, 3) : null };
  });
}

/** Two animation frames: React has committed what the last input event caused, and the browser has painted it. */
const settled = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

describe("console bug fixes", () => {
  let server;
  let browser;
  let page;
  const pageErrors = [];

  const admin = (method, p, body) => adminCall(server, method, p, body);
  const consoleAt = (p) => new URL(p.replace(/^\//, ""), server.console_url.split("#")[0]).href;
  const createConnection = async (name, idp) => {
    const c = await admin("POST", "/connections", { name, idp });
    return { id: c.connection.id, scimUrl: c.connection.scim_url, token: c.token, name };
  };

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    // Loads the secret into sessionStorage; later tests navigate with consoleAt().
    await page.goto(server.console_url);
    await page.getByRole("heading", { name: "Connections", exact: true }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("1: the provisioning log's Connection column shows names even when the names arrive after the rows", async () => {
    const acme = await createConnection("Acme Okta", "okta");
    const globex = await createConnection("Globex Entra", "entra");
    await scim(acme.scimUrl, acme.token, "POST", "/Users", oktaUser({ given: "Ada", family: "Lovelace", email: "ada@acme.example" }));
    await scim(globex.scimUrl, globex.token, "POST", "/Users", oktaUser({ given: "Bob", family: "Globex", email: "bob@globex.example" }));

    // Hold the connection list until the log rows are on screen: a slow network, made deterministic.
    let release;
    const gate = new Promise((r) => (release = r));
    const isList = (url) => url.pathname === "/api/connections";
    await page.route(isList, async (route) => {
      await gate;
      await route.continue();
    });
    try {
      await page.goto(consoleAt("/log"));
      await page.getByTestId("log-entry").first().waitFor();
      const connectionCells = () =>
        page.getByTestId("log-entry").evaluateAll((rows) => rows.map((r) => r.querySelectorAll('[role="gridcell"]')[1]?.textContent?.trim() ?? ""));
      // Until the names arrive, the ids stand in.
      assert.ok((await connectionCells()).some((t) => t === acme.id || t === globex.id), "ids shown while names load");
      release();
      await eventually(
        async () => {
          const cells = await connectionCells();
          return cells.length >= 2 && cells.every((t) => t === "Acme Okta" || t === "Globex Entra") && cells.includes("Acme Okta") && cells.includes("Globex Entra");
        },
        5000,
        "every Connection cell shows a name",
      );
    } finally {
      release();
      await page.unroute(isList);
    }
  });

  test("3: the readiness report's reasons show plain values, never Some(…) or None", async () => {
    const target = await createConnection("Readiness Target", "okta");
    await page.goto(consoleAt("/readiness"));
    await page.getByTestId("readiness-start").waitFor();
    await page.getByTestId("readiness-connection").selectOption(target.id);
    await page.getByTestId("readiness-run").click();
    await page.getByTestId("readiness-report").waitFor({ timeout: 90_000 });
    const reasons = await page.locator('[data-testid="readiness-check"] .readiness-reason').allInnerTexts();
    assert.ok(reasons.length >= 40, `only ${reasons.length} checks`);
    const debug = reasons.filter((r) => /Some\(|None|\b(Bool|String|Number)\(/.test(r));
    assert.deepEqual(debug, [], "reasons with Rust debug text");
    // The values are still there, plainly: the created user's timestamps and the deactivation.
    const meta = await page.locator('[data-check="users.create.meta"] .readiness-reason').innerText();
    assert.match(meta, /^created \d{4}-\d\d-\d\dT[^ ,]+, lastModified \d{4}-\d\d-\d\dT[^ ,]+, resourceType User$/);
    const okta = await page.locator('[data-check="patch.okta_deactivate"] .readiness-reason').innerText();
    assert.match(okta, /active now false$/);
  });

  test("5: in dark mode the Issuer field and the readiness URL and token fields are readable (contrast >= 4.5)", async () => {
    const conn = await createConnection("Dark Mode", "okta");
    await page.goto(consoleAt(`/connections/${conn.id}/signin`));
    // The theme toggle cycles system -> light -> dark.
    const toggle = page.getByTestId("theme-toggle");
    for (let i = 0; i < 3 && (await page.evaluate(() => document.documentElement.dataset.theme)) !== "dark"; i++) await toggle.click();
    assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), "dark");
    const surface = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);

    const check = async (testId) => {
      const field = page.getByTestId(testId);
      await field.waitFor();
      const c = await fieldColors(field);
      const ratio = contrast(c.fg, c.bg);
      assert.ok(ratio >= 4.5, `${testId}: contrast ${ratio.toFixed(2)} (color ${c.color} on ${c.background})`);
      // The example in an empty field must be readable too.
      if (c.placeholderRgb) {
        const ph = contrast(c.placeholderRgb, c.bg);
        assert.ok(ph >= 4.5, `${testId}: placeholder contrast ${ph.toFixed(2)} (${c.placeholder} on ${c.background})`);
      }
      // Dark mode means a dark field, not the browser's light default.
      assert.ok(contrast(c.bg, [0, 0, 0]) < contrast(c.bg, [255, 255, 255]), `${testId}: light background ${c.background} in dark mode (page ${surface})`);
      return c;
    };
    const issuer = await check("oidc-issuer");
    const audience = await check("oidc-audience");
    await check("oidc-jwks");
    // Themed like its neighbour, not left to the browser's default field.
    assert.deepEqual(issuer.bg, audience.bg, `Issuer ${issuer.background} vs Audience ${audience.background}`);

    await page.getByTestId("nav-readiness").click();
    await page.getByTestId("readiness-connection").selectOption({ label: "External SCIM server…" });
    const url = await check("readiness-url");
    const token = await check("readiness-token");
    const target = await fieldColors(page.getByTestId("readiness-connection"));
    assert.deepEqual(url.bg, target.bg, `URL ${url.background} vs Target ${target.background}`);
    assert.deepEqual(token.bg, target.bg, `token ${token.background} vs Target ${target.background}`);

    await toggle.click(); // back to the system theme for the tests after this one
  });

  test("7: the one-time token dialogs ignore Escape and clicks outside; only Done closes them", async () => {
    await page.goto(consoleAt("/"));
    await page.getByTestId("create-connection").click();
    await page.getByTestId("create-connection-name").fill("Token Keeper");
    await page.getByTestId("create-connection-idp-okta").check();
    await page.getByTestId("create-connection-submit").click();
    const created = page.getByTestId("created-dialog");
    await created.waitFor();
    const token = (await page.getByTestId("created-token").textContent()).trim();

    // Escape twice (browsers let a page veto only the first cancel), then a click on the backdrop.
    await page.keyboard.press("Escape");
    await settled(page);
    assert.ok(await created.isVisible(), "the created dialog closed on Escape");
    await page.keyboard.press("Escape");
    await settled(page);
    await page.mouse.click(8, 8);
    await settled(page);
    assert.ok(await created.isVisible(), "the created dialog closed on a second Escape or a backdrop click");
    assert.equal((await page.getByTestId("created-token").textContent()).trim(), token);
    await page.getByTestId("created-close").click();
    await created.waitFor({ state: "detached" });

    // The rotate dialog: its first step (choosing a grace period) still closes on Escape...
    const row = page.getByTestId("connection-row").filter({ hasText: "Token Keeper" });
    const id = await row.getAttribute("data-id");
    await page.goto(consoleAt(`/connections/${id}/tokens`));
    await page.getByTestId("token-row").first().waitFor();
    await page.getByTestId("rotate-token").click();
    await page.getByTestId("rotate-dialog").waitFor();
    await page.keyboard.press("Escape");
    await page.getByTestId("rotate-dialog").waitFor({ state: "detached" });
    // ...but not once the new token is shown.
    await page.getByTestId("rotate-token").click();
    await page.getByTestId("grace-86400").check();
    await page.getByTestId("rotate-submit").click();
    const rotated = page.getByTestId("rotated-dialog");
    await rotated.waitFor();
    await page.keyboard.press("Escape");
    await settled(page);
    await page.keyboard.press("Escape");
    await settled(page);
    await page.mouse.click(8, 8);
    await settled(page);
    assert.ok(await rotated.isVisible(), "the new-token dialog closed without Done");
    await page.getByTestId("rotated-done").click();
    await rotated.waitFor({ state: "detached" });
  });

  test("7: the tokens list marks the newest live token current and the old one previous, valid until its grace ends", async () => {
    const conn = await createConnection("Rotating", "okta");
    await page.goto(consoleAt(`/connections/${conn.id}/tokens`));
    const rows = page.getByTestId("token-row");
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    const roleOf = (r) => r.getByTestId("token-role");
    await eventually(async () => (await roleOf(rows.first()).textContent())?.trim() === "current", 5000, "the only token is current");

    const rotatedAt = Date.now();
    await page.getByTestId("rotate-token").click();
    await page.getByTestId("grace-86400").check();
    await page.getByTestId("rotate-submit").click();
    await page.getByTestId("rotated-dialog").waitFor();
    const newPrefix = (await page.getByTestId("rotated-token").textContent()).trim().slice(0, 12);
    await page.getByTestId("rotated-done").click();
    await eventually(async () => (await rows.count()) === 2, 5000, "two tokens listed");

    const newRow = page.locator(`[data-testid="token-row"][data-token-prefix="${newPrefix}"]`);
    const oldRow = page.locator(`[data-testid="token-row"]:not([data-token-prefix="${newPrefix}"])`);
    await eventually(async () => (await roleOf(newRow).textContent())?.trim() === "current", 5000, "the new token is current");
    assert.equal(await page.locator('[data-testid="token-role"][data-role="current"]').count(), 1, "exactly one current token");
    assert.equal(await oldRow.getAttribute("data-state"), "in_grace");
    const previous = (await roleOf(oldRow).textContent()).trim();
    const m = previous.match(/^previous, valid until (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC$/);
    assert.ok(m, `old token says ${JSON.stringify(previous)}`);
    const until = Date.parse(`${m[1].replace(" ", "T")}Z`);
    const expected = rotatedAt + 24 * 3600 * 1000;
    assert.ok(Math.abs(until - expected) < 5 * 60 * 1000, `valid until ${m[1]} is not 24 h after the rotation`);
  });

  test("10: every non-healthy connection is highlighted, and the list can be searched and sorted", async () => {
    const healthy = await createConnection("Zeta Healthy", "okta");
    await scim(healthy.scimUrl, healthy.token, "POST", "/Users", oktaUser({ given: "Hal", family: "Thy", email: "hal@zeta.example" }));

    // Failing: more than half of 10+ requests in the last hour failed.
    const failing = await createConnection("Failing Okta", "okta");
    for (let i = 0; i < 10; i++) assert.equal(await raw(`${failing.scimUrl}/Users`, failing.token, "POST", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"] }), 400);

    // An Entra connection, for the search by IdP (its health depends on the dialect rules, not asserted here).
    const entra = await createConnection("Contoso Entra", "entra");
    assert.equal(await raw(`${entra.scimUrl}/Users?count=1`, entra.token, "GET", undefined, ENTRA_UA), 200);

    // Degraded: every request of one kind failed (3 of 3), too few requests to be failing.
    const degraded = await createConnection("Degraded Okta", "okta");
    for (let i = 0; i < 3; i++) assert.equal(await raw(`${degraded.scimUrl}/Users/00000000-0000-0000-0000-00000000000${i}`, degraded.token, "GET"), 404);

    // Never connected.
    await createConnection("Quiet Google", "google");

    // States a test cannot reach in seconds (idle and "no group pushed" need hours of silence) are added to the
    // server's real answer as copies of the healthy row, so every state the console knows is on screen.
    const REACHED = { "Zeta Healthy": "healthy", "Failing Okta": "failing", "Degraded Okta": "degraded", "Quiet Google": "never_connected" };
    const STUBBED = ["misconfigured", "idle", "no_live_token"];
    const isList = (url) => url.pathname === "/api/connections";
    await page.route(isList, async (route) => {
      const res = await route.fetch();
      const list = await res.json();
      const base = list.find((c) => c.name === "Zeta Healthy");
      const extra = base ? STUBBED.map((health) => ({ ...base, id: `stub-${health}`, name: `Stub ${health.replace(/_/g, " ")}`, health, health_reason: `A ${health} connection.` })) : [];
      await route.fulfill({ response: res, json: [...list, ...extra] });
    });

    try {
      await page.goto(consoleAt("/"));
      const row = (name) => page.getByTestId("connection-row").filter({ hasText: name });
      for (const [name, health] of Object.entries(REACHED)) {
        await eventually(async () => (await row(name).getAttribute("data-health")) === health, 15_000, `${name} ${health}`);
      }
      for (const health of STUBBED) await row(`Stub ${health.replace(/_/g, " ")}`).waitFor();
      const rows = () =>
        page.getByTestId("connection-row").evaluateAll((trs) =>
          trs.map((tr) => ({
            name: tr.querySelector('[data-testid="connection-link"]').textContent,
            health: tr.getAttribute("data-health"),
            attention: tr.getAttribute("data-attention"),
            edge: getComputedStyle(tr.querySelector("td")).boxShadow,
            background: getComputedStyle(tr).backgroundColor,
          })),
        );
      const all = await rows();
      const calm = all.filter((r) => r.health === "healthy");
      assert.ok(calm.length >= 1);
      for (const r of calm) assert.deepEqual([r.edge, r.attention], ["none", null], `healthy ${r.name} is highlighted`);
      const troubled = all.filter((r) => r.health !== "healthy");
      for (const h of ["failing", "degraded", "never_connected", ...STUBBED]) assert.ok(troubled.some((r) => r.health === h), `no ${h} row`);
      for (const r of troubled) {
        assert.notEqual(r.edge, "none", `${r.name} (${r.health}) has no edge marker`);
        assert.notEqual(r.background, calm[0].background, `${r.name} (${r.health}) looks like a healthy row`);
      }
      for (const r of troubled) assert.ok(r.attention, `${r.name} (${r.health}) says nothing in data-attention`);
      const names = () => page.getByTestId("connection-link").allInnerTexts();

      // Search by IdP, then by name; the query is kept in the URL.
      const search = page.getByRole("searchbox", { name: "Search connections" });
      await search.fill("entra");
      await eventually(async () => {
        const n = await names();
        return n.length >= 2 && n.every((x) => /Entra/.test(x)) && n.includes("Contoso Entra");
      }, 5000, "only Entra connections");
      assert.equal(new URL(page.url()).searchParams.get("q"), "entra");
      await search.fill("degraded");
      await eventually(async () => JSON.stringify(await names()) === JSON.stringify(["Degraded Okta"]), 5000, "search by name");
      await search.fill("no such connection");
      await page.getByTestId("connections-no-match").waitFor();
      await page.getByTestId("connections-clear-search").click();
      await eventually(async () => (await names()).length >= 5, 5000, "search cleared");

      // Sort by name, both ways, then by health (worst first).
      const sorted = (xs, dir) => xs.every((x, i) => i === 0 || (dir === "asc" ? xs[i - 1].toLowerCase() <= x.toLowerCase() : xs[i - 1].toLowerCase() >= x.toLowerCase()));
      await page.getByTestId("sort-name").click();
      await eventually(async () => sorted(await names(), "asc"), 5000, "names ascending");
      assert.equal(await page.locator("th", { has: page.getByTestId("sort-name") }).getAttribute("aria-sort"), "ascending");
      await page.getByTestId("sort-name").click();
      await eventually(async () => sorted(await names(), "desc"), 5000, "names descending");
      assert.equal(new URL(page.url()).searchParams.get("sort"), "name");
      assert.equal(new URL(page.url()).searchParams.get("order"), "desc");
      await page.getByTestId("sort-health").click();
      const rank = { failing: 0, no_live_token: 0, misconfigured: 1, degraded: 2, idle: 3, never_connected: 4, healthy: 5 };
      await eventually(async () => {
        const hs = await page.getByTestId("connection-row").evaluateAll((rs) => rs.map((r) => r.getAttribute("data-health")));
        return rank[hs[0]] === 0 && hs.every((h, i) => i === 0 || rank[hs[i - 1]] <= rank[h]);
      }, 5000, "worst health first");
    } finally {
      await page.unroute(isList);
    }
    assert.deepEqual(pageErrors, []);
  });

  test("6: the activity chart's hours start on the clock, large counts keep whole labels and a few failures stay visible", async () => {
    const conn = await createConnection("Busy Okta", "okta");
    await scim(conn.scimUrl, conn.token, "POST", "/Users", oktaUser({ given: "Bea", family: "Busy", email: "bea@busy.example" }));

    // The API's buckets start on the hour (and on 00/06/12/18 h for 7 days), the last one holding now.
    const onClock = (iso, hours) => {
      const d = new Date(iso);
      return d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0 && d.getUTCMilliseconds() === 0 && d.getUTCHours() % hours === 0;
    };
    const day = await admin("GET", `/connections/${conn.id}/activity?range=24h`);
    assert.equal(day.length, 24);
    assert.deepEqual(day.filter((b) => !onClock(b.start, 1)).map((b) => b.start), [], "hourly buckets off the hour");
    const lastStart = Date.parse(day.at(-1).start);
    assert.ok(lastStart <= Date.now() && Date.now() < lastStart + 3600_000, `the last bucket ${day.at(-1).start} does not hold now`);
    assert.equal(day.reduce((n, b) => n + b.requests, 0), 1);
    const week = await admin("GET", `/connections/${conn.id}/activity?range=7d`);
    assert.deepEqual(week.filter((b) => !onClock(b.start, 6)).map((b) => b.start), [], "six-hour buckets off the clock");

    // The chart labels those hours as HH:00.
    await page.goto(consoleAt(`/connections/${conn.id}`));
    const chart = page.getByTestId("activity-chart");
    await chart.waitFor();
    await chart.locator('.recharts-cartesian-axis-tick-value[orientation="bottom"]').first().waitFor();
    const xLabels = await chart.locator('.recharts-cartesian-axis-tick-value[orientation="bottom"]').allTextContents();
    assert.ok(xLabels.length > 0, "x axis labels");
    assert.deepEqual(xLabels.filter((l) => !/^\d\d:00$/.test(l)), [], "x labels off the hour");

    // A busy day: up to 12,000 requests an hour and a few failures (served from a stub, as the chart reads it).
    const start = Math.floor(Date.now() / 3600_000) * 3600_000 - 23 * 3600_000;
    const busy = Array.from({ length: 24 }, (_, i) => ({
      start: new Date(start + i * 3600_000).toISOString(),
      requests: i === 20 ? 12_000 : 2_000 + i * 300,
      failures: i === 20 ? 3 : i % 7 === 0 ? 1 : 0,
    }));
    const isActivity = (url) => url.pathname === `/api/connections/${conn.id}/activity`;
    await page.route(isActivity, (route) => route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(busy) }));
    try {
      await page.reload();
      await chart.waitFor();
      await chart.locator('.recharts-cartesian-axis-tick-value[orientation="left"]').first().waitFor();
      const geometry = await chart.evaluate((el) => {
        const svg = el.querySelector("svg.recharts-surface").getBoundingClientRect();
        const grid = el.querySelector(".recharts-cartesian-grid").getBoundingClientRect();
        const ticks = [...el.querySelectorAll('.recharts-cartesian-axis-tick-value[orientation="left"]')].map((t) => {
          const r = t.getBoundingClientRect();
          return { text: t.textContent, left: r.left, right: r.right };
        });
        // Everything drawn in the failure colour except axis labels: bars, line, dots.
        const marks = [...el.querySelectorAll('[fill="var(--danger)"], [stroke="var(--danger)"]')]
          .filter((n) => !n.closest("text"))
          .map((n) => n.getBoundingClientRect())
          .filter((r) => r.width > 0 || r.height > 0);
        return { svg: { left: svg.left, right: svg.right }, plot: { top: grid.top, bottom: grid.bottom }, ticks, marks: marks.map((r) => r.height) };
      });
      const clipped = geometry.ticks.filter((t) => t.left < geometry.svg.left - 0.5 || t.right > geometry.svg.right + 0.5);
      assert.deepEqual(clipped, [], "y axis labels cut off by the chart's edge");
      const labels = geometry.ticks.map((t) => t.text);
      assert.ok(labels.includes("12k"), `no compact 12k label among ${JSON.stringify(labels)}`);
      assert.ok(labels.every((l) => /^\d+(\.\d)?[kM]?$/.test(l)), `labels ${JSON.stringify(labels)}`);
      // The failure series spans a real height (3 failures against hours with none), not a sub-pixel sliver
      // stacked on 12,000 requests.
      const height = geometry.plot.bottom - geometry.plot.top;
      const span = Math.max(0, ...geometry.marks);
      assert.ok(span >= 0.5 * height, `failures drawn ${span.toFixed(2)} px tall in a ${height.toFixed(1)} px plot`);
    } finally {
      await page.unroute(isActivity);
    }
    assert.deepEqual(pageErrors, []);
  });

  test("8: a bad attribute path marks its row before Save, Save waits for a fix, and the preview lists a missing value as a row", async () => {
    const conn = await createConnection("Initech Okta", "okta");
    // No enterprise extension: this user has no department.
    await scim(conn.scimUrl, conn.token, "POST", "/Users", oktaUser({ given: "Milton", family: "Waddams", email: "milton@initech.example" }));
    await page.goto(consoleAt(`/connections/${conn.id}/attributes`));
    await page.getByTestId("attributes-screen").waitFor();
    await page.getByTestId("attr-add").click();
    const row = page.getByTestId("attr-row").first();
    const path = row.getByTestId("attr-path");
    await path.fill("emails[type eq");
    await row.getByTestId("attr-key").fill("email");
    const save = page.getByTestId("attrs-save");

    // Marked as it is typed, before any Save: the path field, a message beside it naming what is wrong, Save off.
    await eventually(async () => (await path.getAttribute("aria-invalid")) === "true", 5000, "the bad path field is aria-invalid");
    const note = row.getByTestId("attr-row-error");
    await note.waitFor();
    assert.match(await note.textContent(), /emails\[type eq.*is not a SCIM path/);
    const describedBy = await path.getAttribute("aria-describedby");
    assert.equal(describedBy, await note.getAttribute("id"), "the message describes the field");
    assert.equal(await save.isDisabled(), true, "Save is disabled while a row is invalid");

    // Fixing the path clears the mark and enables Save.
    await path.fill('emails[type eq "work"].value');
    await eventually(async () => (await path.getAttribute("aria-invalid")) === null && (await row.getByTestId("attr-row-error").count()) === 0, 5000, "the mark is cleared");
    await eventually(async () => !(await save.isDisabled()), 5000, "Save is enabled again");

    // A second mapping the user has no value for: the preview shows it, marked, and counts it.
    await page.getByTestId("attr-add").click();
    const second = page.getByTestId("attr-row").nth(1);
    await second.getByTestId("attr-path").fill("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department");
    await second.getByTestId("attr-key").fill("department");
    await page.getByTestId("attr-user-search").fill("milton");
    await page.getByTestId("attr-user-option").filter({ hasText: "milton@initech.example" }).click();
    const previewRows = page.getByTestId("attr-preview-row");
    await eventually(async () => (await previewRows.count()) === 2, 5000, "both mappings are preview rows");
    const missing = previewRows.filter({ hasText: "department" });
    await missing.getByTestId("attr-no-value").waitFor();
    assert.equal(await missing.getAttribute("data-missing"), "true");
    assert.equal((await previewRows.filter({ hasText: "email" }).textContent()).includes("milton@initech.example"), true);
    assert.equal((await page.getByTestId("attr-missing-count").textContent()).trim(), "1");
    assert.deepEqual(pageErrors, []);
  });

  test("9: at 1024 px the users and log screens fit the window, and each table's column choice survives a reload", async () => {
    const conn = await createConnection("Umbrella Okta", "okta");
    for (let i = 0; i < 3; i++) {
      const email = `alexandra.featherstonehaugh-${i}@umbrella-corporation.example`;
      await scim(conn.scimUrl, conn.token, "POST", "/Users", oktaUser({ given: `Alexandra${i}`, family: "Featherstonehaugh-Cholmondeley", email, department: "Research and Development" }));
    }
    const overflow = () =>
      page.evaluate(() => {
        const de = document.documentElement;
        return { scroll: de.scrollWidth, client: de.clientWidth };
      });
    const headers = () => page.locator('[data-testid="virtual-table"] [role="columnheader"]').allTextContents();
    await page.setViewportSize({ width: 1024, height: 768 });
    try {
      for (const [screen, rowId] of [[`/connections/${conn.id}/users`, "user-row"], [`/connections/${conn.id}/log`, "log-entry"], ["/log", "log-entry"]]) {
        await page.goto(consoleAt(screen));
        await page.getByTestId(rowId).first().waitFor();
        await settled(page);
        const o = await overflow();
        assert.ok(o.scroll <= o.client, `${screen}: the document scrolls sideways at 1024 px (${o.scroll} > ${o.client})`);
      }

      // Users: hide Primary email, reload, still hidden; show it again, reload, shown.
      await page.goto(consoleAt(`/connections/${conn.id}/users`));
      await page.getByTestId("user-row").first().waitFor();
      assert.ok((await headers()).some((h) => h.startsWith("Primary email")), "Primary email shown by default");
      const chooser = page.getByTestId("column-chooser");
      await chooser.getByTestId("column-chooser-button").click();
      await chooser.getByTestId("column-toggle-primary_email").uncheck();
      await eventually(async () => !(await headers()).some((h) => h.startsWith("Primary email")), 5000, "Primary email hidden");
      await page.reload();
      await page.getByTestId("user-row").first().waitFor();
      assert.ok(!(await headers()).some((h) => h.startsWith("Primary email")), "the hidden column stays hidden after a reload");
      await chooser.getByTestId("column-chooser-button").click();
      assert.equal(await chooser.getByTestId("column-toggle-primary_email").isChecked(), false);
      await chooser.getByTestId("column-toggle-primary_email").check();
      await eventually(async () => (await headers()).some((h) => h.startsWith("Primary email")), 5000, "Primary email shown again");
      await page.reload();
      await page.getByTestId("user-row").first().waitFor();
      assert.ok((await headers()).some((h) => h.startsWith("Primary email")), "shown after a reload");

      // Log: the same for Reason, kept apart from the users table's choice.
      await page.goto(consoleAt(`/connections/${conn.id}/log`));
      await page.getByTestId("log-entry").first().waitFor();
      assert.ok((await headers()).includes("Reason"));
      await chooser.getByTestId("column-chooser-button").click();
      await chooser.getByTestId("column-toggle-detail").uncheck();
      await eventually(async () => !(await headers()).includes("Reason"), 5000, "Reason hidden");
      await page.reload();
      await page.getByTestId("log-entry").first().waitFor();
      assert.ok(!(await headers()).includes("Reason"), "the log's hidden column stays hidden after a reload");
      await page.goto(consoleAt(`/connections/${conn.id}/users`));
      await page.getByTestId("user-row").first().waitFor();
      assert.ok((await headers()).some((h) => h.startsWith("Primary email")), "the users table has its own choice");
    } finally {
      await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("muster.columns.")).forEach((k) => localStorage.removeItem(k)));
      await page.setViewportSize({ width: 1440, height: 900 });
    }
    assert.deepEqual(pageErrors, []);
  });
});
