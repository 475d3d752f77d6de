// Browser e2e of signing in with the company's identity provider: a real OpenID Provider (`oidc-provider`, certified,
// from npm) on loopback with the console as a public PKCE client. Muster is configured with its issuer only (no keys
// pasted); the provider keeps the email out of the ID token (its conformant default), so Muster reads it from UserInfo.
// A person on the team signs in through the provider's own login and consent pages; someone not on the team is refused
// with a clear message and an audit row; after the provider rotates its signing key, sign-in still works; the callback's
// code is spent once; no request the console makes carries a Muster credential in its URL.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { freePort, newSigningKey, startProvider } from "./lib/oidc.mjs";
import { repoRoot, admin as adminCall, startServer } from "./lib/server.mjs";

const ADA = "ada.admin@contoso.example";
const ZED = "zed.stranger@contoso.example";

describe("sign-in with the company's identity provider (OpenID Connect, code flow with PKCE)", () => {
  let server;
  let provider;
  let providerPort = 0;
  let redirectUri = "";
  const browsers = [];
  const requests = [];
  const timings = [];
  const pageErrors = [];

  /** A fresh browser (no provider cookie, no Muster session) that records every request it makes. */
  async function freshPage() {
    const b = await launchBrowser();
    browsers.push(b);
    b.page.setDefaultTimeout(15_000);
    b.page.on("request", (r) => requests.push(r.url()));
    b.page.on("pageerror", (e) => pageErrors.push(String(e)));
    return b.page;
  }

  /** From the console's sign-in screen through the provider's login and consent pages, back to the console. */
  async function signInThroughProvider(page, login) {
    await page.goto(new URL("/", server.console_url).href);
    await page.getByTestId("sign-in-oidc").waitFor();
    const started = performance.now();
    await page.getByTestId("sign-in-oidc").click();
    await page.waitForURL((u) => u.origin === provider.issuer);
    await page.locator("input[name=login]").fill(login);
    await page.locator("input[name=password]").fill("any password: the provider's dev login checks none");
    await page.locator("button[type=submit]").click();
    // The consent page (first sign-in of this account to this client).
    await page.locator("button[type=submit]").click();
    await page.waitForURL((u) => u.origin === new URL(server.console_url).origin);
    return started;
  }

  before(async () => {
    providerPort = await freePort();
    const musterPort = await freePort();
    redirectUri = `http://127.0.0.1:${musterPort}/auth/callback`;
    provider = await startProvider({ port: providerPort, redirectUri, keys: [await newSigningKey("first")] });
    server = await startServer({
      bind: `127.0.0.1:${musterPort}`,
      extraArgs: ["--oidc-issuer", provider.issuer, "--oidc-client-id", "muster-console"],
    });
    // Ada is on the team (added by the operator with the CLI); she never sets a password.
    const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
    execFileSync(bin, ["admin", "add", "--db", server.db, "--email", ADA, "--role", "admin"], { encoding: "utf8" });
  });

  after(async () => {
    for (const b of browsers) await b.close();
    await server?.stop();
    await provider?.stop();
  });

  test("the sign-in screen offers the provider; a person on the team signs in through it with their role", async () => {
    const page = await freshPage();
    const started = await signInThroughProvider(page, ADA);
    await page.getByTestId("user-menu").waitFor();
    timings.push(performance.now() - started);
    assert.equal(await page.getByTestId("user-role").textContent(), "admin");
    assert.equal(new URL(page.url()).search, "", "the code and state left the address bar");
    // Signed in as herself: the server knows who she is, and the sign-in is in the audit log.
    await page.getByTestId("nav-account").click();
    assert.equal(await page.getByTestId("account-role").textContent(), "admin");
    const audit = await adminCall(server, "GET", `/audit?action=signin&email=${encodeURIComponent(ADA)}`);
    assert.equal(audit.rows.length, 1, JSON.stringify(audit));
    assert.equal(audit.rows[0].detail, "oidc");
    assert.equal(audit.rows[0].actor_role, "admin");
    assert.equal(audit.rows[0].actor_subject, ADA, "linked to the provider's subject (the dev login's account id)");
  });

  test("someone the provider knows but who is not on the team is refused, clearly, and it is audited", async () => {
    const page = await freshPage();
    await signInThroughProvider(page, ZED);
    const error = page.getByTestId("oidc-error");
    await error.waitFor();
    assert.match(await error.textContent(), /not on this server's team|not on the team/i);
    assert.equal(await page.getByTestId("user-menu").count(), 0);
    const failed = await adminCall(server, "GET", "/audit?action=signin.failed");
    assert.ok(
      failed.rows.some((e) => (e.detail ?? "").startsWith("not_on_team") && (e.detail ?? "").includes(ZED)),
      JSON.stringify(failed.rows),
    );
    await page.getByTestId("oidc-back").click();
    await page.getByTestId("sign-in").waitFor();
  });

  test("the callback's code is spent once: replaying the callback URL is refused", async () => {
    const page = await freshPage();
    let callback = "";
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/auth/callback") callback = r.url();
    });
    await signInThroughProvider(page, ADA);
    await page.getByTestId("user-menu").waitFor();
    assert.match(callback, /[?&]code=/, "the provider sent the browser back with a code");
    const replay = await freshPage();
    await replay.goto(callback);
    const error = replay.getByTestId("oidc-error");
    await error.waitFor();
    assert.match(await error.textContent(), /already been used|already used|replay/i);
    assert.equal(await replay.getByTestId("user-menu").count(), 0);
  });

  test("after the provider rotates its signing key, signing in still works (keys found by discovery)", async () => {
    await provider.stop();
    provider = await startProvider({ port: providerPort, redirectUri, keys: [await newSigningKey("second")] });
    const page = await freshPage();
    const started = await signInThroughProvider(page, ADA);
    await page.getByTestId("user-menu").waitFor();
    timings.push(performance.now() - started);
    assert.equal(await page.getByTestId("user-role").textContent(), "admin");
  });

  test("no URL the browsers requested carried a Muster credential", () => {
    assert.ok(requests.length > 20, `requests recorded: ${requests.length}`);
    for (const url of requests) {
      for (const s of ["mas_", "mae_", "mst_", server.secret]) assert.ok(!url.includes(s), `requested ${url}`);
      if (new URL(url).pathname === "/api/events") assert.equal(new URL(url).search, "", url);
    }
    assert.deepEqual(pageErrors, []);
    // The measured round trip, click to console (two provider pages filled by the test), for the record.
    console.log(`# oidc sign-in round trips (ms): ${timings.map((t) => Math.round(t)).join(", ")}`);
  });
});
