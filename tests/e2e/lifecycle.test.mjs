// Browser e2e of a connection's lifecycle against the real `muster serve`: rename inline, pause (the badge says Paused, SCIM answers 503 with Retry-After) and resume (201 again), the connection test's steps, delete behind the typed name with its impact said first; and the role preview counting only users whose role changes, with a large save confirmed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaGroup, oktaUser, scim } from "./lib/scim.mjs";
import { admin, repoRoot, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

/** A SCIM request whose answer is returned whatever its status (scim() throws on errors). */
async function scimRaw(scimUrl, token, method, resourcePath, body) {
  const res = await fetch(`${scimUrl}${resourcePath}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/scim+json", "User-Agent": "Okta SCIM Client 1.0.0" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: text ? JSON.parse(text) : null };
}

describe("connection lifecycle against muster serve", () => {
  let server;
  let browser;
  let page;
  const s = { id: "", scimUrl: "", token: "", appKey: "", session: "", users: {} };
  const pageErrors = [];
  const overview = () => new URL(`/connections/${s.id}`, server.console_url).href;
  const app = async (method, p, body) => {
    const res = await fetch(`${new URL(server.admin).origin}/app/v1${p}`, {
      method,
      headers: { Authorization: `Bearer ${s.appKey}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.json();
  };

  before(async () => {
    server = await startServer();
    const created = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    s.users.ada = (await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Ada", family: "Lovelace", email: "ada@acme.example" }))).id;
    s.users.grace = (await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Grace", family: "Hopper", email: "grace@acme.example" }))).id;
    // Ada is signed in to the application: her session must end with the connection.
    const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
    s.appKey = JSON.parse(execFileSync(bin, ["app-key", "--db", server.db, "--label", "e2e app"], { encoding: "utf8" })).key;
    s.session = (await app("POST", `/connections/${s.id}/users/${s.users.ada}/sessions`, {})).token;
    assert.equal((await app("POST", "/sessions/check", { token: s.session })).valid, true);
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

  test("rename inline: an empty name is refused, a new one shows in the header and is audited", async () => {
    await page.goto(overview());
    const manage = page.getByTestId("connection-manage");
    await manage.waitFor();
    await manage.getByTestId("rename-edit").click();
    const input = manage.getByTestId("rename-input");
    assert.equal(await input.inputValue(), "Acme Okta");
    await input.fill("   ");
    assert.match(await manage.getByTestId("rename-problem").textContent(), /Enter a name/);
    assert.equal(await manage.getByTestId("rename-save").isDisabled(), true);
    await input.fill("  Acme Okta EU ");
    await manage.getByTestId("rename-save").click();
    await eventually(async () => (await page.getByTestId("connection-name").textContent()) === "Acme Okta EU", 5000, "the header shows the new name");
    assert.match(await manage.getByTestId("manage-name").textContent(), /^Acme Okta EU/);
    assert.equal((await admin(server, "GET", `/connections/${s.id}`)).connection.name, "Acme Okta EU");
    const audit = await admin(server, "GET", `/connections/${s.id}/audit`);
    assert.ok(audit.some((a) => a.action === "connection_renamed" && a.detail === "'Acme Okta' → 'Acme Okta EU'"), JSON.stringify(audit));
  });

  test("pause: the badge says Paused and SCIM answers 503 with Retry-After; resume: 201 again", async () => {
    const manage = page.getByTestId("connection-manage");
    assert.match(await manage.getByTestId("pause-explain").textContent(), /503.*Retry-After: 3600.*retries later/s);
    await manage.getByTestId("pause-connection").click();
    const badge = page.getByTestId("health-badge").first();
    await eventually(async () => (await badge.getAttribute("data-health")) === "paused", 5000, "the header badge says paused");
    assert.match(await badge.textContent(), /Paused/);
    await manage.getByTestId("resume-connection").waitFor();
    assert.match(await manage.getByTestId("pause-explain").textContent(), /Paused since .* gets 503/s);

    const refused = await scimRaw(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Alan", family: "Turing", email: "alan@acme.example" }));
    assert.equal(refused.status, 503);
    assert.equal(refused.retryAfter, "3600");
    assert.match(refused.body.detail, /paused by its admin/);
    // A paused refusal raises no live failure event (it is not the IdP failing): reload to read health now.
    await eventually(
      async () => {
        await page.reload();
        return /503 with Retry-After; 1 request\(s\) since/.test(await page.getByTestId("health-panel-reason").textContent());
      },
      10_000,
      "the health panel counts the refusal",
    );
    assert.equal(await page.getByTestId("toast").count(), 0, "no failure toast");

    await manage.getByTestId("resume-connection").click();
    await eventually(async () => (await badge.getAttribute("data-health")) !== "paused", 5000, "the badge leaves paused");
    await manage.getByTestId("pause-connection").waitFor();
    const accepted = await scimRaw(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Alan", family: "Turing", email: "alan@acme.example" }));
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    s.users.alan = accepted.body.id;
    await eventually(async () => (await page.getByTestId("count-users").textContent()) === "3", 5000, "3 users");
  });

  test("test connection: each step with its status and time, and no user left behind", async () => {
    const manage = page.getByTestId("connection-manage");
    await manage.getByTestId("test-connection").click();
    const result = manage.getByTestId("connection-test-result");
    await result.waitFor();
    assert.equal(await result.getAttribute("data-ok"), "true");
    assert.match(await manage.getByTestId("connection-test-summary").textContent(), /Round trip passed in .*created, read, changed and deleted/);
    const steps = result.getByTestId("test-step");
    assert.equal(await steps.count(), 6);
    const statuses = await result.getByTestId("test-step-status").allTextContents();
    assert.deepEqual(statuses, ["200", "201", "200", "200", "204", "404"]);
    assert.match(await steps.nth(1).textContent(), /Create a test user.*POST \/Users.*\d+(\.\d)? ms/s);
    const users = await admin(server, "GET", `/connections/${s.id}/users?status=all`);
    assert.equal(users.total, 3, "no test user, live or deleted");
    assert.equal(await page.getByTestId("count-users").textContent(), "3");
  });

  test("delete: what happens is said first with counts, and the typed name is needed", async () => {
    const manage = page.getByTestId("connection-manage");
    await manage.getByTestId("delete-connection").click();
    const dialog = page.getByTestId("delete-connection-dialog");
    await dialog.getByTestId("delete-impact").waitFor();
    assert.match(await dialog.getByTestId("delete-impact-users").textContent(), /3 users are deprovisioned/);
    assert.match(await dialog.getByTestId("delete-impact-sessions").textContent(), /1 live session is revoked/);
    assert.match(await dialog.getByTestId("delete-impact-tokens").textContent(), /1 token stops working/);
    const confirm = dialog.getByTestId("delete-confirm");
    assert.equal(await confirm.isDisabled(), true);
    await dialog.getByTestId("delete-confirm-input").fill("acme okta eu");
    assert.equal(await confirm.isDisabled(), true, "the name must match exactly");
    // Cancel keeps everything.
    await dialog.getByTestId("delete-cancel").click();
    await dialog.waitFor({ state: "detached" });
    assert.equal((await scimRaw(s.scimUrl, s.token, "GET", "/Users")).status, 200);

    await manage.getByTestId("delete-connection").click();
    await dialog.getByTestId("delete-impact").waitFor();
    await dialog.getByTestId("delete-confirm-input").fill("Acme Okta EU");
    await confirm.click();
    await page.getByTestId("connection-deleted-notice").waitFor();
    assert.match(await page.getByTestId("connection-deleted-notice").textContent(), /Acme Okta EU was deleted/);
    assert.equal(new URL(page.url()).pathname, "/");
    assert.equal(await page.getByTestId("connection-row").filter({ hasText: "Acme Okta EU" }).count(), 0);
    assert.equal((await scimRaw(s.scimUrl, s.token, "GET", "/Users")).status, 401, "its token no longer works");
    assert.equal((await app("POST", "/sessions/check", { token: s.session })).valid, false, "Ada's session ended");
    const feed = await app("GET", `/feed?after=0&connection=${s.id}&limit=1000`);
    const last = feed.events.slice(-1)[0];
    assert.equal(last.kind, "connection.deleted");
    assert.ok(feed.events.some((e) => e.kind === "user.deleted" && e.user_id === s.users.ada && e.data.cause === "connection deleted by admin"));
    assert.deepEqual(pageErrors, []);
  });

  test("role preview: only users whose role changes are counted, summed by role; a large save asks first", async () => {
    const made = await admin(server, "POST", "/connections", { name: "Roles Co", idp: "okta" });
    const id = made.connection.id;
    const ids = [];
    for (let i = 0; i < 120; i++) {
      const n = String(i).padStart(3, "0");
      ids.push((await scim(made.connection.scim_url, made.token, "POST", "/Users", oktaUser({ given: "User", family: n, email: `u${n}@roles.example` }))).id);
    }
    const staff = (await scim(made.connection.scim_url, made.token, "POST", "/Groups", oktaGroup("Staff", ids.slice(0, 110)))).id;
    await scim(made.connection.scim_url, made.token, "POST", "/Groups", oktaGroup("Admins", ids.slice(0, 3)));
    await admin(server, "PUT", `/connections/${id}/roles/mappings`, { default_role: "member", mappings: [{ group_id: staff, role: "member" }] });

    await page.goto(new URL(`/connections/${id}/roles`, server.console_url).href);
    await page.getByTestId("mapping-row").first().waitFor();
    // Staff → member goes, Admins → admin comes: 107 Staff members stay member (now by default); only the 3 admins change.
    await page.getByTestId("mapping-row").filter({ hasText: "Staff" }).getByTestId("mapping-remove").click();
    const addMapping = async (group, label, role) => {
      await page.getByTestId("mapping-group-search").fill(group);
      await eventually(async () => (await page.getByTestId("mapping-group").textContent()).includes(label), 5000, `${group} offered`);
      await page.getByTestId("mapping-group").selectOption({ label });
      await page.getByTestId("mapping-role").selectOption(role);
      await page.getByTestId("mapping-add").click();
    };
    await addMapping("Admins", "Admins (3)", "admin");
    await page.getByTestId("roles-preview").click();
    const preview = page.getByTestId("roles-preview-result");
    await preview.waitFor();
    assert.equal(await preview.getByTestId("role-change-count").textContent(), "3 users' roles would change:");
    assert.deepEqual(await preview.getByTestId("role-shift").allTextContents(), ["3 member → admin"]);
    assert.equal(await preview.getByTestId("change-row").count(), 3);
    // Small: saved without a question.
    await page.getByTestId("roles-save").click();
    await page.getByTestId("roles-applied").waitFor();
    assert.equal(await page.getByTestId("roles-save-confirm-dialog").count(), 0);
    assert.match(await page.getByTestId("roles-applied").getByTestId("role-change-count").textContent(), /^3 users' roles changed/);

    // Staff → admin below Admins: 107 more admins, more than 100 — the save asks first.
    await addMapping("Staff", "Staff (110)", "admin");
    await page.getByTestId("roles-save").click();
    const dialog = page.getByTestId("roles-save-confirm-dialog");
    await dialog.waitFor();
    assert.match(await dialog.locator("h2").textContent(), /Change the role of 107 users\?/);
    assert.deepEqual(await dialog.getByTestId("role-shift").allTextContents(), ["107 member → admin"]);
    await dialog.getByTestId("roles-save-cancel").click();
    await dialog.waitFor({ state: "detached" });
    await page.getByTestId("roles-unsaved").waitFor();
    const unchanged = await admin(server, "GET", `/connections/${id}/roles`);
    assert.equal(unchanged.mappings.length, 1, "cancel saved nothing");

    await page.getByTestId("roles-save").click();
    await dialog.waitFor();
    await dialog.getByTestId("roles-save-confirm").click();
    await page.getByTestId("roles-applied").waitFor();
    assert.match(await page.getByTestId("roles-applied").getByTestId("role-change-count").textContent(), /^107 users' roles changed/);
    assert.deepEqual(await page.getByTestId("roles-applied").getByTestId("role-shift").allTextContents(), ["107 member → admin"]);
    const saved = await admin(server, "GET", `/connections/${id}/roles`);
    assert.equal(saved.mappings.length, 2);
    assert.deepEqual(pageErrors, []);
  });
});
