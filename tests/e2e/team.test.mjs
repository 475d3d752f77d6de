// Browser e2e of a team against the real `muster serve`: the first owner (added with the CLI) enrols and signs in, adds a
// support person on the Team screen who enrols in a second browser; each role's console hides what it may not do and the
// server answers 403 when asked anyway; the owner's role change, session revoke and disable end or narrow the other
// person's console; no request URL ever carries a credential, and the live stream sends its credential as a header.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { freePort, newSigningKey, startProvider } from "./lib/oidc.mjs";
import { repoRoot, admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

const OWNER = { email: "olivia.owner@contoso.example", password: "correct horse battery owner" };
const SUPPORT = { email: "sam.support@contoso.example", password: "correct horse battery support" };

describe("a team: Team screen, roles in the console, sessions ended by the owner", () => {
  let server;
  let owner;
  let other;
  let connectionId = "";
  const requests = [];
  const eventsRequests = [];
  const pageErrors = [];

  /** Records every request a page makes (URL, and for the live stream its headers). */
  function watch(page, who) {
    page.on("pageerror", (e) => pageErrors.push(`${who}: ${e}`));
    page.on("request", (r) => {
      requests.push({ who, url: r.url() });
      if (new URL(r.url()).pathname === "/api/events") eventsRequests.push(r.allHeaders().then((h) => ({ url: r.url(), headers: h })));
    });
    page.setDefaultTimeout(10_000);
  }

  /** Opens an enrolment link, sets the password, and signs in with it on the sign-in form that follows. */
  async function enrolAndSignIn(page, url, who) {
    await page.goto(url);
    await page.getByTestId("enrol").waitFor();
    assert.equal(await page.getByTestId("enrol-email").textContent(), who.email);
    assert.doesNotMatch(page.url(), /mae_/, "the enrolment secret left the address bar");
    await page.getByTestId("enrol-password").fill(who.password);
    await page.getByTestId("enrol-password-again").fill(who.password);
    await page.getByTestId("enrol-submit").click();
    await signIn(page, who);
  }

  async function signIn(page, who) {
    await page.getByTestId("sign-in").waitFor();
    await page.getByTestId("sign-in-email").fill(who.email);
    await page.getByTestId("sign-in-password").fill(who.password);
    await page.getByTestId("sign-in-submit").click();
    await page.getByTestId("user-menu").waitFor();
  }

  /** A request from the page itself with its own session, as a curious person would try it: the status only. */
  function pageFetch(page, method, p) {
    return page.evaluate(
      async ({ method, p }) => {
        const key = Object.keys(localStorage).find((k) => k.startsWith("muster.session:"));
        const res = await fetch(`/api${p}`, {
          method,
          headers: { Authorization: `Bearer ${localStorage.getItem(key)}`, "Content-Type": "application/json" },
          body: method === "GET" ? undefined : JSON.stringify({ name: "Sneaky", idp: "okta" }),
        });
        return res.status;
      },
      { method, p },
    );
  }

  /** The owner's Team screen row of `email`. */
  const teamRow = (email) => owner.page.locator(`[data-testid="team-row"][data-email="${email}"]`);

  before(async () => {
    server = await startServer();
    // A connection to look at (made over the admin API from this machine, with the admin secret).
    connectionId = (await adminCall(server, "POST", "/connections", { name: "Contoso Okta", idp: "okta" })).connection.id;
    // The first owner, the way an operator adds them: the CLI against the server's database.
    const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
    const origin = new URL(server.console_url).origin;
    const added = JSON.parse(execFileSync(bin, ["admin", "add", "--db", server.db, "--email", OWNER.email, "--role", "owner", "--url", origin], { encoding: "utf8" }));
    assert.match(added.enrolment_url, /#enrol=mae_/);
    owner = await launchBrowser();
    watch(owner.page, "owner");
    await enrolAndSignIn(owner.page, added.enrolment_url, OWNER);
    other = await launchBrowser();
    watch(other.page, "other");
  });

  after(async () => {
    await owner?.close();
    await other?.close();
    await server?.stop();
  });

  test("the owner sees Team, adds a support person, whose link enrols them in another browser", async () => {
    const page = owner.page;
    assert.equal(await page.getByTestId("user-role").textContent(), "owner");
    await page.getByTestId("nav-team").click();
    await teamRow(OWNER.email).waitFor();
    assert.equal(await teamRow(OWNER.email).getAttribute("data-status"), "active");
    await page.getByTestId("team-add-email").fill(SUPPORT.email);
    await page.getByTestId("team-add-name").fill("Sam Support");
    await page.getByTestId("team-add-role").selectOption("support");
    await page.getByTestId("team-add-submit").click();
    const url = (await page.getByTestId("enrolment-url").textContent()).trim();
    assert.match(url, /#enrol=mae_/);
    await page.getByTestId("enrolment-expires").waitFor();
    await teamRow(SUPPORT.email).waitFor();
    assert.equal(await teamRow(SUPPORT.email).getAttribute("data-status"), "invited");
    await page.getByTestId("enrolment-done").click();
    assert.equal(await page.getByTestId("enrolment-url").count(), 0, "the link is shown once");

    await enrolAndSignIn(other.page, url, SUPPORT);
    assert.equal(await other.page.getByTestId("user-role").textContent(), "support");
    await page.reload();
    await eventually(async () => (await teamRow(SUPPORT.email).getAttribute("data-status")) === "active", 5000, "support shows active");
  });

  test("as support: no Team nav, no new connection, no token rotate, export offered; a manage route answers 403", async () => {
    const page = other.page;
    await page.getByTestId("connection-row").first().waitFor();
    assert.equal(await page.getByTestId("nav-team").count(), 0);
    assert.equal(await page.getByTestId("create-connection").count(), 0);
    await page.goto(new URL(`/connections/${connectionId}/tokens`, server.console_url).href);
    await page.getByTestId("tokens-screen").waitFor();
    await page.getByTestId("token-row").first().waitFor();
    assert.equal(await page.getByTestId("rotate-token").count(), 0);
    assert.match(await page.getByTestId("needs-role").first().getAttribute("title"), /admin role/, "the console says which role it takes");
    assert.equal(await page.getByTestId("token-revoke").count(), 0);
    assert.equal(await pageFetch(page, "POST", "/connections"), 403, "the server refuses support a manage route");
    assert.equal(await pageFetch(page, "GET", "/team/admins"), 403, "and the team");
    await page.getByTestId("nav-log").click();
    await page.getByTestId("log-export-csv").waitFor();
    await page.getByTestId("nav-account").click();
    assert.equal(await page.getByTestId("account-role").textContent(), "support");
    assert.match(await page.getByTestId("account-allows").textContent(), /export/);
    await page.getByTestId("account-sessions").waitFor();
  });

  test("the owner makes them viewer: after a reload the log export is gone and a direct export answers 403", async () => {
    await teamRow(SUPPORT.email).getByTestId("team-role").selectOption("viewer");
    await eventually(async () => (await teamRow(SUPPORT.email).getAttribute("data-role")) === "viewer", 5000, "role saved");
    const page = other.page;
    await page.goto(new URL("/log", server.console_url).href);
    await page.getByTestId("user-menu").waitFor();
    assert.equal(await page.getByTestId("user-role").textContent(), "viewer");
    await page.getByTestId("log-screen").waitFor();
    assert.equal(await page.getByTestId("log-export-csv").count(), 0);
    assert.equal(await pageFetch(page, "GET", "/log/export?format=csv"), 403);
  });

  test("demoting the last owner is refused and said so", async () => {
    const page = owner.page;
    page.once("dialog", (d) => void d.accept());
    await teamRow(OWNER.email).getByTestId("team-role").selectOption("admin");
    const error = page.getByTestId("team-error");
    await error.waitFor();
    assert.match(await error.textContent(), /last owner/);
    await eventually(async () => (await teamRow(OWNER.email).getAttribute("data-role")) === "owner", 5000, "still owner");
  });

  test("the owner revokes the viewer's session: their next action lands on sign-in with a notice", async () => {
    const page = owner.page;
    await page.reload();
    const theirs = page.locator(`[data-testid="session-row"][data-email="${SUPPORT.email}"]`);
    await theirs.first().waitFor();
    assert.equal(await page.locator(`[data-testid="session-row"][data-email="${OWNER.email}"]`).getAttribute("data-current"), "true");
    await theirs.first().getByTestId("session-revoke").click();
    await eventually(async () => (await theirs.count()) === 0, 5000, "their session gone from the list");

    await other.page.getByTestId("nav-connections").click();
    await other.page.getByTestId("sign-in").waitFor();
    assert.match(await other.page.getByTestId("sign-in-notice").textContent(), /session has ended/);
  });

  test("disabling an account ends its session too, and it cannot sign in again", async () => {
    await signIn(other.page, SUPPORT);
    await owner.page.reload();
    await teamRow(SUPPORT.email).getByTestId("team-disable").click();
    await eventually(async () => (await teamRow(SUPPORT.email).getAttribute("data-status")) === "disabled", 5000, "disabled");
    await eventually(async () => (await owner.page.locator(`[data-testid="session-row"][data-email="${SUPPORT.email}"]`).count()) === 0, 5000, "no session left");

    await other.page.getByTestId("nav-log").click();
    await other.page.getByTestId("sign-in").waitFor();
    await other.page.getByTestId("sign-in-notice").waitFor();
    await other.page.getByTestId("sign-in-email").fill(SUPPORT.email);
    await other.page.getByTestId("sign-in-password").fill(SUPPORT.password);
    await other.page.getByTestId("sign-in-submit").click();
    await other.page.getByTestId("sign-in-error").waitFor();
    assert.equal(await other.page.getByTestId("user-menu").count(), 0);
  });

  test("the owner sets the identity provider on the Team screen: checked first, then offered on the sign-in screen", async () => {
    const provider = await startProvider({ port: await freePort(), redirectUri: `${new URL(server.console_url).origin}/auth/callback`, keys: [await newSigningKey("team")] });
    try {
      const page = owner.page;
      await page.getByTestId("nav-team").click();
      const card = page.getByTestId("oidc-settings");
      await card.waitFor();
      assert.equal(await card.getAttribute("data-source"), "none");
      // An issuer that does not answer is refused with the reason, and nothing changes.
      await page.getByTestId("oidc-issuer").fill("http://127.0.0.1:9");
      await page.getByTestId("oidc-client-id").fill("muster-console");
      await page.getByTestId("oidc-save").click();
      assert.match(await page.getByTestId("oidc-settings-error").textContent(), /cannot be used/);
      assert.equal(await card.getAttribute("data-source"), "none");
      await page.getByTestId("oidc-issuer").fill(provider.issuer);
      await page.getByTestId("oidc-save").click();
      await eventually(async () => (await card.getAttribute("data-source")) === "console", 5000, "saved");
      assert.match(await page.getByTestId("oidc-source").textContent(), new RegExp(provider.issuer.replaceAll(".", "\\.")));
      // A browser with no session is now offered the provider.
      const fresh = await launchBrowser();
      try {
        await fresh.page.goto(new URL("/", server.console_url).href);
        await fresh.page.getByTestId("sign-in-oidc").waitFor({ timeout: 10_000 });
      } finally {
        await fresh.close();
      }
      await page.getByTestId("oidc-off").click();
      await eventually(async () => (await card.getAttribute("data-source")) === "none", 5000, "turned off");
    } finally {
      await provider.stop();
    }
  });

  test("no request URL carried a credential; the live stream sent its credential as a header, with no query string", async () => {
    assert.ok(requests.length > 20, `requests recorded: ${requests.length}`);
    // The enrolment secret lives in the link's fragment, which the browser never sends, and the page strips it at once.
    const secrets = ["mas_", "mae_", "mst_", server.secret];
    for (const { who, url } of requests) {
      for (const s of secrets) assert.ok(!url.includes(s), `${who} requested ${url}`);
    }
    const events = await Promise.all(eventsRequests);
    assert.ok(events.length >= 2, "both browsers opened the live stream");
    for (const e of events) {
      assert.equal(new URL(e.url).search, "", e.url);
      assert.match(e.headers.authorization ?? "", /^Bearer mas_/, "the session goes in the Authorization header");
    }
    assert.deepEqual(pageErrors, []);
  });
});
