// Browser e2e of JIT sign-in against the real `muster serve`: the policy chosen in the console decides whether the app API admits an identity SCIM never sent; a SCIM-deactivated user is refused under every policy and triage shows it; an Entra groups-overage ID token is flagged on the Sign-in tab and its badge.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createSign, generateKeyPairSync } from "node:crypto";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { oktaUser, scim } from "./lib/scim.mjs";
import { repoRoot, admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

const POLICIES = ["jit_only", "scim_authoritative", "scim_first", "jit_overwrites"];
const ISSUER = "https://login.microsoftonline.com/3f1c0e52-e2e0-4f0a-9d7e-5a1b2c3d4e5f/v2.0";
const AUDIENCE = "api://muster-e2e";

/** An RS256 key and Entra-shaped ID tokens signed with it (the JWKS goes into the console). */
function entraSigner() {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = "e2e-key-1";
  const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] };
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const sign = (claims) => {
    const input = `${b64({ alg: "RS256", typ: "JWT", kid })}.${b64(claims)}`;
    return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url")}`;
  };
  return { jwks, sign };
}

describe("JIT sign-in policy, refusals, triage and flagged sign-ins against muster serve", () => {
  let server;
  let browser;
  let page;
  const s = { id: "", scimUrl: "", token: "", appKey: "", alan: "" };
  const pageErrors = [];
  const base = () => new URL(`/connections/${s.id}`, server.console_url).href;

  const admin = (method, p, body) => adminCall(server, method, p, body);

  /** The integrating application's call: POST /app/v1/connections/{id}/signin with an app key. */
  async function signIn(body) {
    const res = await fetch(`${new URL(server.admin).origin}/app/v1/connections/${s.id}/signin`, {
      method: "POST",
      headers: { Authorization: `Bearer ${s.appKey}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  /** Picks the policy in the console and saves it (no-op when it is already the saved one). */
  async function choosePolicy(policy) {
    await page.getByTestId("tab-signin").click();
    await page.getByTestId("signin-screen").waitFor();
    const radio = page.getByTestId(`policy-radio-${policy}`);
    if (!(await radio.isChecked())) {
      await radio.check();
      await page.getByTestId("signin-save").click();
      await page.getByTestId("signin-saved").waitFor();
    }
    assert.equal((await admin("GET", `/connections/${s.id}/jit`)).policy, policy, "the console saved the policy");
  }

  before(async () => {
    server = await startServer();
    const created = await admin("POST", "/connections", { name: "Contoso Entra", idp: "entra" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    // An application key, issued the way an operator does it: `muster app-key` against the server's database.
    const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
    s.appKey = JSON.parse(execFileSync(bin, ["app-key", "--db", server.db, "--label", "e2e app"], { encoding: "utf8" })).key;
    assert.match(s.appKey, /^mak_/);
    // Alan was provisioned over SCIM and then deactivated by the IdP.
    const alan = await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Alan", family: "Turing", email: "alan.turing@contoso.example", externalId: "aad-oid-alan" }));
    s.alan = alan.id;
    await scim(s.scimUrl, s.token, "PATCH", `/Users/${s.alan}`, {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", value: { active: false } }],
    });
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(10_000);
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
    await page.goto(`${base()}/signin`);
    await page.getByTestId("signin-screen").waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const ada = { subject: "aad-oid-ada", email: "ada.lovelace@contoso.example", email_verified: true, given_name: "Ada", family_name: "Lovelace", name: "Ada Lovelace", groups: [] };

  test("SCIM authoritative refuses an identity SCIM never sent; after switching to SCIM first, JIT fallback in the console the same sign-in creates the user, who shows in Users", async () => {
    // New connections start SCIM authoritative: the console says so and the API refuses.
    await choosePolicy("jit_only");
    await choosePolicy("scim_authoritative");
    assert.equal(await page.getByTestId("policy-radio-scim_authoritative").isChecked(), true);
    const refused = await signIn(ada);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.deepEqual(refused.body.decision, {
      decision: "refuse",
      reason: "not provisioned: this connection only admits users the IdP provisioned over SCIM",
    });
    assert.equal(refused.body.user, null);
    assert.equal(refused.body.session_token, null);
    assert.equal((await admin("GET", `/connections/${s.id}/users?q=ada`)).total, 0, "a refusal creates nobody");

    await choosePolicy("scim_first");
    const ok = await signIn(ada);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.decision.decision, "create");
    assert.equal(ok.body.user.userName, ada.email);
    assert.equal(ok.body.user.externalId, ada.subject);
    assert.equal(ok.body.role, "member");
    assert.match(ok.body.session_token, /\S{20,}/);

    await page.getByTestId("tab-users").click();
    const row = page.getByTestId("user-row").filter({ hasText: ada.email });
    await row.waitFor();
    assert.match(await row.textContent(), /Active/);
    assert.match(await row.textContent(), /Ada Lovelace/);
  });

  test("a SCIM-deactivated user is refused under every policy", async () => {
    for (const policy of POLICIES) {
      await choosePolicy(policy);
      const r = await signIn({ subject: "aad-oid-alan", email: "alan.turing@contoso.example", email_verified: true, groups: [] });
      assert.equal(r.status, 403, `${policy}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.decision, { decision: "refuse", reason: "the account is deactivated" }, policy);
      assert.equal(r.body.session_token, null, policy);
    }
    const still = await admin("GET", `/connections/${s.id}/users/${s.alan}`);
    assert.equal(still.user.status, "deactivated", "no sign-in reactivated him");
  });

  test("triage shows the refused JIT sign-ins in the deactivated user's timeline, and the JIT creation in Ada's", async () => {
    await page.getByTestId("nav-triage").click();
    await page.getByTestId("triage-search").fill("alan.turing@contoso.example");
    await page.getByTestId("triage-submit").click();
    const finding = page.getByTestId("triage-finding").filter({ hasText: "alan.turing@contoso.example" });
    await finding.waitFor();
    assert.equal(await finding.getAttribute("data-verdict"), "deactivated");
    const signins = finding.getByTestId("timeline-item").filter({ hasText: "JIT sign-in refused" });
    await eventually(async () => (await signins.count()) === POLICIES.length, 5000, "one refused sign-in per policy in the timeline");
    for (const t of await signins.allTextContents()) assert.match(t, /the account is deactivated/);

    await page.getByTestId("triage-search").fill(ada.email);
    await page.getByTestId("triage-submit").click();
    const adaFinding = page.getByTestId("triage-finding").filter({ hasText: ada.email });
    await adaFinding.waitFor();
    await adaFinding.getByTestId("timeline-item").filter({ hasText: "JIT sign-in created" }).waitFor();
  });

  test("an Entra groups-overage ID token is flagged: listed on the Sign-in tab in plain words, with the role kept, and counted on the tab", async () => {
    const entra = entraSigner();
    await page.goto(`${base()}/signin`);
    await page.getByTestId("signin-screen").waitFor();
    await choosePolicy("scim_first");
    // Nothing flagged yet: the designed empty state, no badge.
    await page.getByTestId("flagged-empty").waitFor();
    assert.equal(await page.getByTestId("signin-flagged-count").count(), 0);

    // The console configures ID-token verification (issuer, audience, the JWKS inline).
    await page.getByTestId("oidc-issuer").fill(ISSUER);
    await page.getByTestId("oidc-audience").fill(AUDIENCE);
    await page.getByTestId("oidc-jwks").fill(JSON.stringify(entra.jwks));
    await page.getByTestId("signin-save").click();
    await page.getByTestId("signin-saved").waitFor();
    const saved = await admin("GET", `/connections/${s.id}/jit`);
    assert.equal(saved.oidc_issuer, ISSUER);

    // Grace is in 300 groups: Entra leaves them out of the token and points at Graph instead.
    const now = Math.floor(Date.now() / 1000);
    const idToken = entra.sign({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: "aad-oid-grace",
      oid: "aad-oid-grace",
      iat: now - 5,
      nbf: now - 5,
      exp: now + 600,
      email: "grace.hopper@contoso.example",
      email_verified: true,
      name: "Grace Hopper",
      _claim_names: { groups: "src1" },
      _claim_sources: { src1: { endpoint: "https://graph.microsoft.com/v1.0/users/aad-oid-grace/getMemberObjects" } },
    });
    const r = await signIn({ id_token: idToken });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.decision.decision, "create");
    assert.equal(r.body.flag, "groups_overage_claim_names");
    assert.equal(r.body.role, "member");
    // A tampered token is refused, not flagged.
    const bad = await signIn({ id_token: idToken.slice(0, -4) + "AAAA" });
    assert.equal(bad.status, 401);

    const row = page.locator('[data-testid="flagged-row"][data-subject="aad-oid-grace"]');
    await row.waitFor({ timeout: 10_000 });
    assert.equal(await row.getAttribute("data-flag"), "groups_overage_claim_names");
    assert.equal((await row.getByTestId("flagged-user").textContent()).trim(), "grace.hopper@contoso.example");
    assert.equal(
      (await row.getByTestId("flagged-why").textContent()).trim(),
      "Entra groups overage: the token carried _claim_names instead of groups; roles kept as they were",
    );
    assert.equal((await row.getByTestId("flagged-role").textContent()).trim(), "member");
    assert.match(await row.getByTestId("flagged-outcome").textContent(), /Default member\s*\(new account\)/);
    assert.match(await row.locator("time").getAttribute("title"), /UTC/);
    await eventually(async () => (await page.getByTestId("signin-flagged-count").textContent()).trim() === "1", 10_000, "badge on the Sign-in tab says 1");
    assert.match(await page.getByTestId("flagged-recent").textContent(), /1 in the last 7 days/);

    // Ada already exists (JIT): her overage sign-in goes through and keeps her role.
    const again = await signIn({ ...ada, groups: undefined, _claim_names: { groups: "src1" } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.flag, "groups_overage_claim_names");
    const adaRow = page.locator('[data-testid="flagged-row"][data-subject="aad-oid-ada"]');
    await adaRow.waitFor({ timeout: 10_000 });
    assert.match(await adaRow.getByTestId("flagged-outcome").textContent(), /Kept member\s*\(updated\)/);

    // The deactivated Alan signs in with Entra's implicit-flow indicator: refused, and still flagged.
    const alan = await signIn({ subject: "aad-oid-alan", email: "alan.turing@contoso.example", hasgroups: true });
    assert.equal(alan.status, 403);
    assert.equal(alan.body.flag, "groups_overage_hasgroups");
    const alanRow = page.locator('[data-testid="flagged-row"][data-subject="aad-oid-alan"]');
    await alanRow.waitFor({ timeout: 10_000 });
    assert.match(await alanRow.getByTestId("flagged-why").textContent(), /hasgroups instead of groups/);
    assert.match(await alanRow.getByTestId("flagged-outcome").textContent(), /Refused.*the account is deactivated/);
    await eventually(async () => (await page.getByTestId("signin-flagged-count").textContent()).trim() === "3", 10_000, "badge on the Sign-in tab says 3");
    // Newest first.
    assert.deepEqual(await page.getByTestId("flagged-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-subject"))), ["aad-oid-alan", "aad-oid-ada", "aad-oid-grace"]);

    // The badge is on every tab of the connection, not just this one.
    await page.getByTestId("tab-users").click();
    await page.getByTestId("user-row").filter({ hasText: "grace.hopper@contoso.example" }).waitFor();
    assert.equal((await page.getByTestId("signin-flagged-count").textContent()).trim(), "3");
    assert.match(await page.getByTestId("signin-flagged-count").getAttribute("title"), /3 flagged sign-ins in the last 7 days/);
  });

  test("no uncaught errors in the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
