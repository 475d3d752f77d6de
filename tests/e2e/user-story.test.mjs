// Browser e2e of a user's whole story and a big group's members against the real `muster serve`: the user drawer's history shows a membership by the group's name (linked to its drawer), the role change it brought with the mapping that granted it, and a refused sign-in with its reason; a row opens its request's log detail; a group of 600 members shows a page, loads more, and its search narrows the list.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaGroup, oktaUser, scim } from "./lib/scim.mjs";
import { admin, repoRoot, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

const patchOp = (Operations) => ({ schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations });

describe("a user's whole story and a big group's members", () => {
  let server;
  let browser;
  let page;
  const s = { id: "", scimUrl: "", token: "", ada: "", eng: "", everyone: "" };
  const pageErrors = [];

  before(async () => {
    server = await startServer();
    const created = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    s.ada = (await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Ada", family: "Lovelace", email: "ada@acme.example", externalId: "okta-ada" }))).id;
    s.eng = (await scim(s.scimUrl, s.token, "POST", "/Groups", oktaGroup("Engineering", []))).id;
    await admin(server, "PUT", `/connections/${s.id}/roles/mappings`, { default_role: "member", mappings: [{ group_id: s.eng, role: "admin" }] });
    await scim(s.scimUrl, s.token, "PATCH", `/Groups/${s.eng}`, patchOp([{ op: "add", path: "members", value: [{ value: s.ada }] }]));
    await scim(s.scimUrl, s.token, "PATCH", `/Users/${s.ada}`, patchOp([{ op: "replace", path: "active", value: false }]));
    // The application signs Ada in after the IdP deactivated her: refused, with the reason.
    const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
    const appKey = JSON.parse(execFileSync(bin, ["app-key", "--db", server.db, "--label", "e2e app"], { encoding: "utf8" })).key;
    const res = await fetch(`${new URL(server.admin).origin}/app/v1/connections/${s.id}/signin`, {
      method: "POST",
      headers: { Authorization: `Bearer ${appKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ subject: "okta-ada", email: "ada@acme.example" }),
    });
    assert.equal(res.status, 403);

    // A group of 600: the users in parallel batches, the members in PATCHes of 200.
    const ids = [];
    for (let start = 0; start < 600; start += 50) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, (_, k) => {
          const n = String(start + k).padStart(4, "0");
          return scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Person", family: n, email: `person-${n}@acme.example` }));
        }),
      );
      ids.push(...batch.map((u) => u.id));
    }
    s.everyone = (await scim(s.scimUrl, s.token, "POST", "/Groups", oktaGroup("Everyone", []))).id;
    for (let start = 0; start < ids.length; start += 200) {
      const value = ids.slice(start, start + 200).map((id) => ({ value: id }));
      await scim(s.scimUrl, s.token, "PATCH", `/Groups/${s.everyone}`, patchOp([{ op: "add", path: "members", value }]));
    }

    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    // The console link carries the admin secret; the deep links below reuse the session.
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const userUrl = () => new URL(`/connections/${s.id}/users?user=${s.ada}`, server.console_url).href;

  test("the user drawer's history: a membership by group name, the role change and its mapping, a refused sign-in — newest first", async () => {
    await page.goto(userUrl());
    const drawer = page.getByTestId("user-drawer");
    const timeline = drawer.getByTestId("user-timeline");
    await timeline.waitFor();
    const rows = timeline.getByTestId("timeline-row");
    const kinds = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")));
    assert.deepEqual(kinds, ["sign_in", "account", "role_changed", "membership_added", "account"]);

    const refused = rows.nth(0);
    assert.match(await refused.textContent(), /Sign-in refused/);
    assert.equal((await refused.getByTestId("timeline-reason").textContent()).trim(), "the account is deactivated");
    assert.match(await rows.nth(1).textContent(), /Deactivated.*active: true → false/s);

    const role = rows.nth(2);
    assert.match(await role.textContent(), /Role member → admin/);
    assert.match(await role.textContent(), /granted by the mapping Engineering → admin \(mapping #1 of the Roles list\)/);

    const membership = rows.nth(3);
    assert.match(await membership.textContent(), /Added to Engineering/);
    assert.equal((await membership.getByTestId("timeline-group").textContent()).trim(), "Engineering");
    // Group names, never ids or $ref URLs.
    const text = await timeline.textContent();
    assert.ok(!text.includes(s.eng), "the group's id is not shown");
    assert.ok(!text.includes("/Groups/"), "no $ref URL is shown");
    assert.match(await drawer.getByTestId("timeline-end").textContent(), /history begins/);
  });

  test("a history row opens its request's log detail; closing it returns to the user", async () => {
    await page.goto(userUrl());
    const drawer = page.getByTestId("user-drawer");
    const membership = drawer.getByTestId("timeline-row").filter({ hasText: "Added to Engineering" });
    await membership.waitFor();
    await membership.getByTestId("timeline-open-log").click();
    const log = page.getByTestId("log-drawer");
    await log.waitFor();
    assert.match(page.url(), /[?&]entry=\d+/);
    await eventually(async () => /^PATCH/.test(await log.locator("#drawer-title").textContent()), 5000, "the PATCH's log detail");
    assert.match(await log.getByTestId("log-detail-action").textContent(), /member/i);
    assert.match(await log.textContent(), /Engineering/);
    await page.keyboard.press("Escape");
    await log.waitFor({ state: "detached" });
    await drawer.getByTestId("user-timeline").waitFor();

    // The refused sign-in came from no SCIM request: it has no request to open.
    const refused = drawer.getByTestId("timeline-row").filter({ hasText: "Sign-in refused" });
    assert.equal(await refused.getByTestId("timeline-open-log").count(), 0);
  });

  test("the group name in the history links to the group's drawer", async () => {
    await page.goto(userUrl());
    const drawer = page.getByTestId("user-drawer");
    await drawer.getByTestId("timeline-row").filter({ hasText: "Added to Engineering" }).getByTestId("timeline-group").click();
    const group = page.getByTestId("group-drawer");
    await group.waitFor();
    await eventually(async () => (await group.locator("#drawer-title").textContent()) === "Engineering", 5000, "Engineering's drawer");
    assert.match(page.url(), new RegExp(`/groups\\?group=${s.eng}`));
  });

  test("a group of 600 members shows a page, loads more, and its search narrows the list", async () => {
    await page.goto(new URL(`/connections/${s.id}/groups?group=${s.everyone}`, server.console_url).href);
    const drawer = page.getByTestId("group-drawer");
    const list = drawer.getByTestId("group-members");
    await list.waitFor();
    assert.equal(await list.getByTestId("group-member").count(), 100);
    assert.match(await drawer.getByTestId("group-members-count").textContent(), /600 members, showing 100/);
    const names = await list.getByTestId("member-link").allTextContents();
    assert.deepEqual(names.slice(0, 2), ["person-0000@acme.example", "person-0001@acme.example"]);

    await drawer.getByTestId("group-members-more").click();
    await eventually(async () => (await list.getByTestId("group-member").count()) === 200, 5000, "a second page");
    const all = await list.getByTestId("member-link").allTextContents();
    assert.equal(new Set(all).size, 200, "pages are disjoint");

    await drawer.getByTestId("member-search").fill("PERSON-001");
    await eventually(async () => (await list.getByTestId("group-member").count()) === 10, 5000, "ten matches");
    const found = await list.getByTestId("member-link").allTextContents();
    assert.deepEqual(found, Array.from({ length: 10 }, (_, k) => `person-001${k}@acme.example`));
    assert.match(await drawer.getByTestId("group-members-count").textContent(), /10 members match/);
    assert.equal(await drawer.getByTestId("group-members-more").count(), 0);

    await drawer.getByTestId("member-search").fill("nobody-like-this");
    await drawer.getByTestId("group-members-empty").waitFor();
    // Escape in the search clears it and keeps the drawer open.
    await drawer.getByTestId("member-search").press("Escape");
    await eventually(async () => (await list.getByTestId("group-member").count().catch(() => 0)) === 100, 5000, "the first page again");
    assert.equal(await page.getByTestId("group-drawer").count(), 1);
    assert.deepEqual(pageErrors, []);
  });
});
