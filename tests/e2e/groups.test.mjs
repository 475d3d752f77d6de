// Browser e2e of deleted groups against the real `muster serve`: a group deleted over SCIM is listed under "Deleted" with its purge date, a restore refused while another group has its name, then restored with its members and the role mapping it kept while deleted; the Users table follows.
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

describe("deleted groups against muster serve", () => {
  let server;
  let browser;
  let page;
  const s = { id: "", scimUrl: "", token: "", users: {}, eng: "", ops: "" };
  const pageErrors = [];
  const base = () => new URL(`/connections/${s.id}`, server.console_url).href;

  before(async () => {
    server = await startServer();
    const created = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    for (const [k, p] of Object.entries(PEOPLE)) s.users[k] = (await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser(p))).id;
    s.eng = (await scim(s.scimUrl, s.token, "POST", "/Groups", oktaGroup("Engineering", [s.users.ada, s.users.grace]))).id;
    s.ops = (await scim(s.scimUrl, s.token, "POST", "/Groups", oktaGroup("Ops", [s.users.alan]))).id;
    await admin(server, "PUT", `/connections/${s.id}/roles/mappings`, { default_role: "member", mappings: [{ group_id: s.eng, role: "admin" }] });
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

  const userRole = (who) => page.getByTestId("user-row").filter({ hasText: PEOPLE[who].email }).getByTestId("user-role");

  test("a group deleted over SCIM is listed under Deleted with its purge date and who a restore brings back", async () => {
    await page.goto(`${base()}/users`);
    await eventually(async () => /admin\s*via Engineering/.test(await userRole("ada").textContent()), 5000, "Ada admin via Engineering");

    await scim(s.scimUrl, s.token, "DELETE", `/Groups/${s.eng}`);
    const [deleted] = (await admin(server, "GET", `/connections/${s.id}/groups?status=deleted`)).items;
    assert.equal(deleted.id, s.eng);
    const purgeDay = deleted.purge_at.slice(0, 10);
    const deletedDay = deleted.deleted_at.slice(0, 10);
    assert.equal(new Date(deleted.purge_at) - new Date(deleted.deleted_at), 30 * 86_400_000, "default 30-day retention");

    await page.getByTestId("tab-groups").click();
    await page.getByTestId("group-row").filter({ hasText: "Ops" }).waitFor();
    await eventually(async () => (await page.getByTestId("group-row").filter({ hasText: "Engineering" }).count()) === 0, 5000, "Engineering gone from present groups");
    assert.equal(await page.getByTestId("group-status-filter").inputValue(), "present");

    await page.getByTestId("group-status-filter").selectOption("deleted");
    await eventually(async () => new URL(page.url()).searchParams.get("status") === "deleted", 3000, "status in the URL");
    const row = page.getByTestId("group-row").filter({ hasText: "Engineering" });
    await row.waitFor();
    assert.equal(await page.getByTestId("group-row").count(), 1, "only the deleted group");
    const label = await row.getByTestId("group-deleted-label").textContent();
    assert.ok(label.includes(`Deleted ${deletedDay}`), label);
    assert.ok(label.includes(`purges ${purgeDay}`), label);
    assert.match(await row.getByTestId("member-count").textContent(), /2 on restore/);
    assert.match(await page.getByTestId("groups-total").textContent(), /^1 group$/);

    // Reload keeps the filter (it lives in the URL).
    await page.reload();
    await page.getByTestId("group-row").filter({ hasText: "Engineering" }).waitFor();
    assert.equal(await page.getByTestId("group-status-filter").inputValue(), "deleted");

    await page.getByTestId("group-row").filter({ hasText: "Engineering" }).click();
    const drawer = page.getByTestId("group-drawer");
    await drawer.getByTestId("group-deleted").waitFor();
    assert.match(await drawer.getByTestId("drawer-purge-at").textContent(), new RegExp(`^${purgeDay} `));
    assert.match(await drawer.getByTestId("drawer-member-count").textContent(), /2 on restore/);
    const held = (await drawer.getByTestId("group-held-members").getByTestId("member-link").allTextContents()).sort();
    assert.deepEqual(held, [PEOPLE.ada.email, PEOPLE.grace.email]);
  });

  test("restore: refused while another group has the name, then restored with its members and its kept role mapping", async () => {
    const drawer = page.getByTestId("group-drawer");
    // The IdP pushed a new group with the same name (case differs): the restore is refused.
    const clash = await scim(s.scimUrl, s.token, "POST", "/Groups", oktaGroup("ENGINEERING", [s.users.alan]));
    await drawer.getByTestId("group-restore").click();
    const dialog = page.getByTestId("group-restore-dialog");
    await dialog.waitFor();
    assert.match(await dialog.getByTestId("group-restore-count").textContent(), /2 members will come back/);
    assert.match(await dialog.getByTestId("group-restore-mappings").textContent(), /role mapping was kept while it was deleted: members get admin from it again/);
    await dialog.getByTestId("group-restore-confirm").click();
    const error = dialog.getByTestId("group-restore-error");
    await error.waitFor();
    assert.match(await error.textContent(), /Cannot restore Engineering: another group is now named 'Engineering'/);
    // Nothing changed: still deleted, nobody's role moved.
    const still = await admin(server, "GET", `/connections/${s.id}/groups/${s.eng}`);
    assert.equal(still.group.status, "deleted");
    assert.equal(still.held_members.length, 2);

    // Escape closes the dialog, not the drawer behind it.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    await drawer.getByTestId("group-deleted").waitFor();

    // The clash is deleted in the IdP; now the restore goes through.
    await scim(s.scimUrl, s.token, "DELETE", `/Groups/${clash.id}`);
    await drawer.getByTestId("group-restore").click();
    await dialog.waitFor();
    await dialog.getByTestId("group-restore-confirm").click();
    await dialog.waitFor({ state: "detached" });
    const notice = drawer.getByTestId("group-restore-notice");
    await notice.waitFor();
    assert.match(await notice.textContent(), /Engineering was restored with 2 members/);
    assert.match(await notice.textContent(), /Its role mapping applies again \(admin\); see\s*Roles/);
    await drawer.getByTestId("group-members").waitFor();
    const members = (await drawer.getByTestId("group-members").getByTestId("member-link").allTextContents()).sort();
    assert.deepEqual(members, [PEOPLE.ada.email, PEOPLE.grace.email]);
    assert.match(await drawer.getByTestId("drawer-group-status").textContent(), /Present/);
    await eventually(async () => (await drawer.getByTestId("drawer-member-count").textContent()) === "2", 3000, "member count 2");
    // The deleted list now holds only the clash; over SCIM Engineering answers again.
    await eventually(async () => (await page.getByTestId("group-row").count()) === 1, 5000, "one deleted group left");
    assert.match(await page.getByTestId("group-row").textContent(), /ENGINEERING/);
    assert.equal(await page.getByTestId("group-row").filter({ hasText: /Engineering/ }).count(), 0);
    const back = await scim(s.scimUrl, s.token, "GET", `/Groups/${s.eng}`);
    assert.deepEqual(back.members.map((m) => m.value).sort(), [s.users.ada, s.users.grace].sort());

    // The mapping was kept (dormant) while the group was deleted: Ada and Grace are admins again, Alan stays member.
    await drawer.getByTestId("group-restore-roles-link").click();
    await page.getByTestId("roles-explain").waitFor();
    const saved = await admin(server, "GET", `/connections/${s.id}/roles`);
    assert.deepEqual(
      saved.mappings.map((m) => [m.group_id, m.role, m.group_deleted_at]),
      [[s.eng, "admin", null]],
      "the mapping came back with the group",
    );
    assert.equal(await page.getByTestId("mapping-group-deleted").count(), 0);
    await page.getByTestId("tab-users").click();
    await eventually(async () => /admin\s*via Engineering/.test(await userRole("ada").textContent()), 5000, "Ada admin via Engineering again");
    await eventually(async () => /admin\s*via Engineering/.test(await userRole("grace").textContent()), 5000, "Grace admin via Engineering");
    assert.match(await userRole("alan").textContent(), /member\s*default/);
    assert.deepEqual(pageErrors, []);
  });
});
