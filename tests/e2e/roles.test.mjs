// Browser e2e of the Roles, Tokens and Users-lifecycle screens against the real `muster serve`: precedence editor (group and attribute mappings) with preview and save, token rotation with grace, restore.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaGroup, oktaUser, scim } from "./lib/scim.mjs";
import { startServer, admin } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

const PEOPLE = {
  ada: { given: "Ada", family: "Lovelace", email: "ada.lovelace@acme.example", externalId: "00u1ada" },
  grace: { given: "Grace", family: "Hopper", email: "grace.hopper@acme.example", externalId: "00u2grace" },
  alan: { given: "Alan", family: "Turing", email: "alan.turing@acme.example", externalId: "00u3alan" },
};

describe("roles, tokens and restore against muster serve", () => {
  let server;
  let browser;
  let page;
  const s = { id: "", scimUrl: "", token: "", newToken: "", users: {} };
  const pageErrors = [];
  const base = () => new URL(`/connections/${s.id}`, server.console_url).href;

  before(async () => {
    server = await startServer();
    const created = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    for (const [k, p] of Object.entries(PEOPLE)) s.users[k] = (await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser(p))).id;
    await scim(s.scimUrl, s.token, "POST", "/Groups", oktaGroup("Admins", [s.users.ada]));
    await scim(s.scimUrl, s.token, "POST", "/Groups", oktaGroup("Engineering", [s.users.ada, s.users.grace]));
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

  test("roles: add a custom role and two mappings, reorder by keyboard, preview, save; the Users table follows", async () => {
    await page.goto(`${base()}/roles`);
    await page.getByTestId("roles-explain").waitFor();
    assert.match(await page.getByTestId("roles-explain").textContent(), /first mapping, top to bottom/);
    await page.getByTestId("mappings-empty").waitFor();

    await page.getByTestId("role-name").fill("support");
    await page.getByTestId("role-description").fill("Helpdesk tools");
    await page.getByTestId("role-add").click();
    await page.getByTestId("role-list").filter({ hasText: "support" }).waitFor();

    // Mapping 1: Admins → admin; mapping 2: Engineering → support.
    await page.getByTestId("mapping-group-search").fill("Admins");
    await eventually(async () => /Admins/.test(await page.getByTestId("mapping-group").textContent()), 5000, "Admins offered");
    await page.getByTestId("mapping-group").selectOption({ label: "Admins (1)" });
    await page.getByTestId("mapping-role").selectOption("admin");
    await page.getByTestId("mapping-add").click();
    await page.getByTestId("mapping-group-search").fill("Eng");
    await eventually(async () => /Engineering/.test(await page.getByTestId("mapping-group").textContent()), 5000, "Engineering offered");
    await page.getByTestId("mapping-group").selectOption({ label: "Engineering (2)" });
    await page.getByTestId("mapping-role").selectOption("support");
    await page.getByTestId("mapping-add").click();
    await page.getByTestId("roles-unsaved").waitFor();
    const order = async () => (await page.getByTestId("mapping-group-name").allTextContents()).map((t) => t.trim());
    assert.deepEqual(await order(), ["Admins", "Engineering"]);

    // Keyboard: focus Engineering's row, Alt+ArrowUp puts it first and focus follows it.
    await page.getByTestId("mapping-row").nth(1).focus();
    await page.keyboard.press("Alt+ArrowUp");
    await eventually(async () => JSON.stringify(await order()) === JSON.stringify(["Engineering", "Admins"]), 3000, "Engineering first");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("data-group-id")), await page.getByTestId("mapping-row").first().getAttribute("data-group-id"));
    // And back down and up again with the buttons (accessible names).
    await page.getByRole("button", { name: "Move Engineering down" }).click();
    assert.deepEqual(await order(), ["Admins", "Engineering"]);
    await page.getByRole("button", { name: "Move Engineering up" }).click();
    assert.deepEqual(await order(), ["Engineering", "Admins"]);

    await page.getByTestId("roles-preview").click();
    const preview = page.getByTestId("roles-preview-result");
    await preview.waitFor();
    const rows = preview.getByTestId("change-row");
    const ada = rows.filter({ hasText: PEOPLE.ada.email });
    const grace = rows.filter({ hasText: PEOPLE.grace.email });
    assert.match(await ada.textContent(), /support/);
    assert.match(await ada.textContent(), /via Engineering/);
    assert.doesNotMatch(await ada.textContent(), /→ admin/);
    assert.match(await grace.textContent(), /support.*via Engineering/);
    assert.equal(await rows.filter({ hasText: PEOPLE.alan.email }).filter({ hasText: "via" }).count(), 0);
    // Nothing saved yet.
    const before = await admin(server, "GET", `/connections/${s.id}/roles`);
    assert.equal(before.mappings.length, 0);

    await page.getByTestId("roles-save").click();
    await page.getByTestId("roles-applied").waitFor();
    assert.match(await page.getByTestId("roles-applied").textContent(), /ada\.lovelace@acme\.example/);
    await page.getByTestId("roles-unsaved").waitFor({ state: "detached" });
    const saved = await admin(server, "GET", `/connections/${s.id}/roles`);
    assert.deepEqual(saved.mappings.map((m) => [m.group_name, m.role]), [["Engineering", "support"], ["Admins", "admin"]]);

    await page.getByTestId("tab-users").click();
    const adaRow = page.getByTestId("user-row").filter({ hasText: PEOPLE.ada.email });
    await adaRow.waitFor();
    await eventually(async () => /support\s*via Engineering/.test(await adaRow.getByTestId("user-role").textContent()), 5000, "Ada's role column");
    assert.match(await page.getByTestId("user-row").filter({ hasText: PEOPLE.alan.email }).getByTestId("user-role").textContent(), /member\s*default/);
    await adaRow.click();
    await page.getByTestId("user-drawer").getByTestId("drawer-role").waitFor();
    assert.match(await page.getByTestId("drawer-role").textContent(), /support\s*via Engineering/);
    await page.keyboard.press("Escape");
  });

  test("roles: an edit can be discarded with Escape", async () => {
    await page.getByTestId("tab-roles").click();
    await page.getByTestId("mapping-row").first().waitFor();
    await page.getByTestId("mapping-remove").first().click();
    await page.getByTestId("roles-unsaved").waitFor();
    await page.getByTestId("mapping-row").first().focus();
    await page.keyboard.press("Escape");
    await page.getByTestId("roles-unsaved").waitFor({ state: "detached" });
    assert.equal(await page.getByTestId("mapping-row").count(), 2);
  });

  test("tokens: rotate with grace, the new token shown once, both tokens' last use and the audit trail", async () => {
    await page.getByTestId("tab-tokens").click();
    await page.getByTestId("token-row").first().waitFor();
    assert.equal(await page.getByTestId("token-row").count(), 1);
    await page.getByTestId("rotate-token").click();
    await page.getByTestId("rotate-dialog").waitFor();
    assert.equal(await page.getByTestId("grace-86400").isChecked(), true, "24 h is the default grace");
    await page.getByTestId("rotate-submit").click();
    await page.getByTestId("rotated-dialog").waitFor();
    s.newToken = (await page.getByTestId("rotated-token").textContent()).trim();
    assert.ok(s.newToken.length >= 20 && s.newToken !== s.token);
    assert.match(await page.getByTestId("rotated-warning").textContent(), /will not be shown again/);
    assert.match(await page.getByTestId("paste-steps").textContent(), /Provisioning → Integration/);
    await page.getByTestId("rotated-done").click();
    await page.getByTestId("rotated-dialog").waitFor({ state: "detached" });
    // The secret is gone from the page.
    assert.ok(!(await page.content()).includes(s.newToken), "full token still in the DOM");

    const oldRow = page.locator(`[data-testid="token-row"][data-token-prefix="${s.token.slice(0, 12)}"]`);
    const newRow = page.locator(`[data-testid="token-row"][data-token-prefix="${s.newToken.slice(0, 12)}"]`);
    await oldRow.waitFor();
    await newRow.waitFor();
    assert.equal(await oldRow.getAttribute("data-state"), "in_grace");
    assert.match(await oldRow.getByTestId("token-expires").textContent(), /expires in 2[34] h/);
    assert.match(await newRow.getByTestId("new-token-used").textContent(), /Not used by the IdP yet/);

    // One request with each token: both still work during the grace period.
    await scim(s.scimUrl, s.token, "GET", "/Users?count=1");
    await scim(s.scimUrl, s.newToken, "GET", "/Users?count=1");
    await eventually(async () => !/never/.test(await oldRow.getByTestId("token-last-used").textContent()), 8000, "old token last used");
    await eventually(async () => !/never/.test(await newRow.getByTestId("token-last-used").textContent()), 8000, "new token last used");
    await eventually(async () => /IdP is using the new token/.test(await newRow.getByTestId("new-token-used").textContent()), 8000, "new token marked used");
    assert.match(await oldRow.textContent(), /127\.0\.0\.1/);

    const rotated = page.locator('[data-testid="audit-row"][data-action="token_rotated"]');
    await eventually(async () => (await rotated.count()) === 1, 5000, "token_rotated audit row");
    assert.match(await rotated.textContent(), new RegExp(s.newToken.slice(0, 12)));
    assert.match(await rotated.textContent(), /86400/);
    assert.equal(await page.locator('[data-testid="audit-row"][data-action="role_mappings_saved"]').count(), 1);
  });

  test("roles: an attribute mapping (department = finance → admin) for IdPs without groups; the Users table follows the attribute", async () => {
    const DEPT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    const setDepartment = (value) =>
      scim(s.scimUrl, s.newToken || s.token, "PATCH", `/Users/${s.users.alan}`, {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        Operations: [{ op: "replace", path: DEPT, value }],
      });
    await setDepartment("Finance");

    await page.getByTestId("tab-roles").click();
    await page.getByTestId("mapping-row").first().waitFor();
    await page.getByTestId("mapping-kind-attribute").click();
    await page.getByTestId("mapping-attribute-path").fill(DEPT);
    // Empty value: the dialog will not add it.
    assert.equal(await page.getByTestId("mapping-add").isDisabled(), true);
    await page.getByTestId("mapping-attribute-value").fill("finance");
    await page.getByTestId("mapping-role").selectOption("admin");
    await page.getByTestId("mapping-add").click();
    const order = async () => (await page.getByTestId("mapping-group-name").allTextContents()).map((t) => t.trim());
    assert.deepEqual(await order(), ["Engineering", "Admins", "department = finance"]);
    const attrRow = page.locator('[data-testid="mapping-row"][data-kind="attribute"]');
    assert.equal(await attrRow.getAttribute("aria-label"), "3. department = finance gets admin");
    assert.equal(await attrRow.getByTestId("nested-warning").count(), 0, "no nested-group warning on an attribute mapping");
    // The same attribute and value cannot be added twice.
    await page.getByTestId("mapping-attribute-value").fill("FINANCE");
    assert.equal(await page.getByTestId("mapping-add").isDisabled(), true);
    await page.getByTestId("mapping-attribute-problem").waitFor();

    await page.getByTestId("roles-preview").click();
    const preview = page.getByTestId("roles-preview-result");
    await preview.waitFor();
    const alanChange = preview.getByTestId("change-row").filter({ hasText: PEOPLE.alan.email });
    assert.match(await alanChange.textContent(), /member\s*→\s*admin/);
    assert.match(await alanChange.textContent(), /via department = finance/);
    assert.equal(await preview.getByTestId("change-row").count(), 1, "only Alan's role changes");

    await page.getByTestId("roles-save").click();
    await page.getByTestId("roles-applied").waitFor();
    const saved = await admin(server, "GET", `/connections/${s.id}/roles`);
    assert.deepEqual(saved.mappings[2], { group_id: null, group_name: null, attribute: { path: DEPT, value: "finance" }, role: "admin", direct_members: 0, group_deleted_at: null });

    await page.getByTestId("tab-users").click();
    const alanRow = page.getByTestId("user-row").filter({ hasText: PEOPLE.alan.email });
    await alanRow.waitFor();
    await eventually(async () => /admin\s*via department = finance/.test(await alanRow.getByTestId("user-role").textContent()), 5000, "Alan admin via the attribute");

    // The IdP changes his department: the role follows without anyone touching the mappings.
    await setDepartment("Sales");
    await eventually(
      async () => {
        const text = await alanRow.getByTestId("user-role").textContent();
        if (/member\s*default/.test(text)) return true;
        await page.reload();
        await alanRow.waitFor();
        return false;
      },
      10000,
      "Alan back to the default role",
    );
  });

  test("users: a deleted user is listed under Deleted with its purge date and can be restored; a taken userName is explained", async () => {
    await scim(s.scimUrl, s.newToken, "DELETE", `/Users/${s.users.alan}`);
    await scim(s.scimUrl, s.newToken, "DELETE", `/Users/${s.users.grace}`);
    // Someone else takes Grace's userName before she is restored.
    await scim(s.scimUrl, s.newToken, "POST", "/Users", oktaUser({ ...PEOPLE.grace, externalId: "00u9new" }));

    await page.getByTestId("tab-users").click();
    await page.getByTestId("status-filter").selectOption("deleted");
    await eventually(async () => new URL(page.url()).searchParams.get("status") === "deleted", 3000, "status=deleted in URL");
    const alanRow = page.getByTestId("user-row").filter({ hasText: PEOPLE.alan.email });
    await alanRow.waitFor();
    assert.match(await alanRow.getByTestId("deleted-label").textContent(), /Deleted — purges \d{4}-\d\d-\d\d/);

    const graceRow = page.getByTestId("user-row").filter({ hasText: PEOPLE.grace.email });
    await graceRow.getByTestId("user-restore").click();
    await eventually(async () => /another user now has userName/.test(await page.getByTestId("restore-notice").textContent()), 5000, "409 explained");
    assert.equal(await page.getByTestId("user-drawer").count(), 0, "the Restore click must not open the drawer");

    await alanRow.getByTestId("user-restore").click();
    await eventually(async () => /was restored/.test(await page.getByTestId("restore-notice").textContent()), 5000, "restored notice");
    await alanRow.waitFor({ state: "detached", timeout: 5000 });

    await page.getByTestId("status-filter").selectOption("default");
    const back = page.getByTestId("user-row").filter({ hasText: PEOPLE.alan.email });
    await back.waitFor();
    assert.match(await back.textContent(), /Active/);
  });

  test("no uncaught errors in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
