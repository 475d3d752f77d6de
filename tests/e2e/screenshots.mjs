// Saves PNGs of the console's main screens (connections, overview with the running sync, users + drawer with the timeline, groups, roles, tokens, log, triage, the setup link's page) to docs/screenshots/ for the README.
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaGroup, oktaUser, scim } from "./lib/scim.mjs";
import { admin, repoRoot, startServer } from "./lib/server.mjs";

const OUT = path.join(repoRoot, "docs/screenshots");

const FIRST = ["Ada", "Grace", "Alan", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "John", "Radia", "Edsger"];
const LAST = ["Lovelace", "Hopper", "Turing", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Backus", "Perlman", "Dijkstra"];
const DEPTS = ["Engineering", "Sales", "Support", "Finance"];


async function seed(server) {
  const okta = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
  await admin(server, "POST", "/connections", { name: "Contoso Entra ID", idp: "entra" });
  await admin(server, "POST", "/connections", { name: "Globex Google Workspace", idp: "google" });
  const url = okta.connection.scim_url;
  // A failed request first (a stale token), so the log and chart show one; later requests succeed.
  await fetch(`${url}/Users`, { method: "POST", headers: { Authorization: "Bearer wrong", "Content-Type": "application/scim+json" }, body: "{}" }).catch(() => undefined);
  const ids = [];
  for (let i = 0; i < 48; i++) {
    const given = FIRST[i % FIRST.length];
    const family = LAST[(i * 5) % LAST.length];
    const email = `${given}.${family}${i > 11 ? i : ""}@acme.example`.toLowerCase();
    const u = await scim(url, okta.token, "POST", "/Users", oktaUser({ given, family, email, externalId: `00u${1000 + i}`, department: DEPTS[i % 4], active: i % 13 !== 5 }));
    ids.push(u.id);
  }
  await scim(url, okta.token, "POST", "/Groups", oktaGroup("Engineering", ids.filter((_, i) => i % 4 === 0)));
  await scim(url, okta.token, "POST", "/Groups", oktaGroup("Sales", ids.filter((_, i) => i % 4 === 1)));
  await scim(url, okta.token, "POST", "/Groups", oktaGroup("Support", ids.filter((_, i) => i % 4 === 2)));
  const admins = await scim(url, okta.token, "POST", "/Groups", oktaGroup("Admins", ids.slice(0, 3)));
  // Admins are admins: the user drawer's timeline then shows a role change and the mapping that caused it.
  await admin(server, "PUT", `/connections/${okta.connection.id}/roles/mappings`, { default_role: "member", mappings: [{ group_id: admins.id, role: "admin" }] });
  // For the log and triage shots: an Okta path-less deactivation and a create the IdP sent without userName.
  await scim(url, okta.token, "PATCH", `/Users/${ids[1]}`, { schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], Operations: [{ op: "replace", value: { active: false } }] });
  const noName = oktaUser({ given: "Nomen", family: "Nescio", email: "no.username@acme.example" });
  delete noName.userName;
  await fetch(`${url}/Users`, { method: "POST", headers: { Authorization: `Bearer ${okta.token}`, "Content-Type": "application/scim+json" }, body: JSON.stringify(noName) });
  return okta.connection.id;
}

async function shot(page, name) {
  await page.waitForTimeout(400); // let relative times and the chart settle
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`saved ${path.relative(repoRoot, file)}`);
}

/** Roles editor with a preview open (roles.png) and the Tokens tab after a rotation with one old-token use (tokens.png). */
async function lifecycleShots(server, page, id) {
  await admin(server, "POST", `/connections/${id}/roles`, { name: "support", description: "Helpdesk tools" });
  const groups = (await admin(server, "GET", `/connections/${id}/groups?sort=display_name`)).items;
  const gid = (name) => groups.find((g) => g.display_name === name).id;
  await admin(server, "PUT", `/connections/${id}/roles/mappings`, {
    default_role: "member",
    mappings: [
      { group_id: gid("Admins"), role: "admin" },
      { group_id: gid("Support"), role: "support" },
    ],
  });
  await page.goto(new URL(`/connections/${id}/roles`, server.console_url).href);
  await page.getByTestId("mapping-row").first().waitFor();
  await page.getByTestId("mapping-group-search").fill("Eng");
  await page.getByTestId("mapping-group").selectOption({ label: "Engineering (12)" });
  await page.getByTestId("mapping-role").selectOption("support");
  await page.getByTestId("mapping-add").click();
  await page.getByTestId("mapping-row").nth(2).focus();
  await page.keyboard.press("Alt+ArrowUp");
  await page.getByTestId("roles-preview").click();
  await page.getByTestId("roles-preview-result").waitFor();
  await shot(page, "roles");

  await page.goto(new URL(`/connections/${id}/tokens`, server.console_url).href);
  await page.getByTestId("rotate-token").click();
  await page.getByTestId("rotate-submit").click();
  await page.getByTestId("rotated-dialog").waitFor();
  await page.getByTestId("rotated-done").click();
  await page.getByTestId("token-row").nth(1).waitFor();
  await shot(page, "tokens");
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  const server = await startServer();
  let browser;
  try {
    const id = await seed(server);
    for (const scheme of ["light", "dark"]) {
      browser = await launchBrowser({ colorScheme: scheme, viewport: { width: 1440, height: 860 } });
      const page = browser.page;
      const suffix = scheme === "dark" ? "-dark" : "";
      await page.goto(server.console_url);
      await page.getByTestId("connection-row").first().waitFor();
      if (scheme === "light") await shot(page, "connections");

      await page.getByTestId("connection-link").filter({ hasText: "Acme Okta" }).click();
      await page.getByTestId("setup-okta").waitFor();
      await page.getByTestId("recent-log").waitFor();
      // The seed's requests are a sync still within its gap: the panel shows it running.
      await page.getByTestId("sync-panel").getByTestId("sync-running").waitFor();
      if (scheme === "light") await shot(page, "overview");

      await page.getByTestId("tab-users").click();
      await page.getByTestId("user-row").first().waitFor();
      if (scheme === "light") await shot(page, "users");
      // Grace was created, added to Sales and Admins and deactivated by a PATCH: a timeline with several kinds of row.
      const grace = (await admin(server, "GET", `/connections/${id}/users?q=grace.thompson`)).items[0];
      await page.goto(new URL(`/connections/${id}/users?user=${grace.id}`, server.console_url).href);
      const drawer = page.getByTestId("user-drawer");
      await drawer.getByTestId("user-timeline").getByTestId("timeline-group").first().waitFor();
      await drawer.getByTestId("user-timeline").scrollIntoViewIfNeeded();
      await shot(page, `users-drawer${suffix}`);
      await page.keyboard.press("Escape");

      if (scheme === "light") {
        await page.getByTestId("tab-groups").click();
        await page.getByTestId("group-row").first().waitFor();
        await shot(page, "groups");
        await page.getByTestId("group-row").first().click();
        await page.getByTestId("group-drawer").getByTestId("group-members").waitFor();
        await shot(page, "groups-drawer");
      }
      if (scheme === "light") await lifecycleShots(server, page, id);
      if (scheme === "dark") {
        await page.goto(new URL(`/connections/${id}`, server.console_url).href);
        await page.getByTestId("recent-log").waitFor();
        await shot(page, "overview-dark");
      }
      if (scheme === "light") {
        await page.getByTestId("nav-log").click();
        await page.getByTestId("log-entry").first().waitFor();
        await page.getByTestId("log-entry").filter({ hasText: "Deactivated" }).filter({ hasText: "PATCH" }).first().click();
        await page.getByTestId("log-drawer").getByTestId("log-patch-ops").waitFor();
        await shot(page, "log");
        await page.keyboard.press("Escape");

        await page.getByTestId("nav-triage").click();
        await page.getByTestId("triage-search").fill(" Grace.Thompson@ACME.example ");
        await page.getByTestId("triage-search").press("Enter");
        await page.getByTestId("triage-finding").first().getByTestId("finding-timeline").waitFor();
        await shot(page, "triage");

        // The page a setup link opens for the customer's IT admin: their IdP's fields and what arrived.
        const link = await admin(server, "POST", `/connections/${id}/setup-links`, { expires_in_hours: 72 });
        await page.goto(link.url);
        await page.getByTestId("setup-arrivals").waitFor();
        await shot(page, "setup-page");
      }
      await browser.close();
      browser = undefined;
    }
  } finally {
    await browser?.close();
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
