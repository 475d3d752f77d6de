// OAuth for IdPs against the real `muster serve`, driven by independent client libraries: oauth4webapi does the client credentials grant (Basic and post) and the token reads SCIM /Users; jose signs a workload identity federation assertion whose keys a node http server publishes; the console shows the OAuth section and Entra's OAuth fields.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { after, before, describe, test } from "node:test";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import * as oauth from "oauth4webapi";
import { launchBrowser } from "./lib/browser.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A tiny OpenID issuer on loopback publishing one RS256 key (the Rust tests use ES256); sign() makes assertions with it. */
async function startIssuer() {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "e2e-fed-1", alg: "RS256", use: "sig" };
  let base = "";
  const http = createServer((req, res) => {
    res.setHeader("Content-Type", "application/json");
    if (req.url === "/.well-known/openid-configuration") {
      res.end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
    } else if (req.url === "/keys") {
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end("{}");
    }
  });
  await new Promise((r) => http.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${http.address().port}`;
  const sign = (subject, audience) =>
    new SignJWT({ jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "RS256", kid: jwk.kid })
      .setIssuer(base)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime("5m")
      .sign(privateKey);
  return { base, sign, close: () => new Promise((r) => http.close(r)) };
}

describe("OAuth client credentials and federation against muster serve", () => {
  let server;
  let issuer;
  let browser;
  const s = { id: "", scimUrl: "", clientId: "", secret: "", origin: "" };
  const admin = (method, p, body) => adminCall(server, method, p, body);
  const as = () => ({ issuer: s.origin, token_endpoint: `${s.origin}/oauth/token` });
  const insecure = { [oauth.allowInsecureRequests]: true };

  async function users(token) {
    const res = await fetch(`${s.scimUrl}/Users`, { headers: { Authorization: `Bearer ${token}`, Accept: "application/scim+json" } });
    return { status: res.status, body: await res.json() };
  }

  before(async () => {
    server = await startServer();
    s.origin = new URL(server.admin).origin;
    const created = await admin("POST", "/connections", { name: "Contoso Entra", idp: "entra" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    const issued = await admin("POST", `/connections/${s.id}/oauth/secrets`, {});
    s.clientId = issued.client_id;
    s.secret = issued.secret;
    issuer = await startIssuer();
  });

  after(async () => {
    await browser?.close();
    await issuer?.close();
    await server?.stop();
  });

  test("oauth4webapi gets tokens by client_secret_basic and client_secret_post, and they read SCIM /Users", async () => {
    for (const auth of [oauth.ClientSecretBasic(s.secret), oauth.ClientSecretPost(s.secret)]) {
      const response = await oauth.clientCredentialsGrantRequest(as(), { client_id: s.clientId }, auth, new URLSearchParams(), insecure);
      assert.equal(response.headers.get("cache-control"), "no-store");
      const result = await oauth.processClientCredentialsResponse(as(), { client_id: s.clientId }, response);
      assert.equal(result.token_type, "bearer");
      assert.equal(result.expires_in, 3600);
      const { status, body } = await users(result.access_token);
      assert.equal(status, 200);
      assert.equal(body.totalResults, 0);
    }
  });

  test("a wrong secret is 401 invalid_client with a Basic challenge, which the library refuses", async () => {
    const response = await oauth.clientCredentialsGrantRequest(as(), { client_id: s.clientId }, oauth.ClientSecretBasic("mcs_wrong"), new URLSearchParams(), insecure);
    assert.equal(response.status, 401);
    assert.match(response.headers.get("www-authenticate") ?? "", /^Basic/);
    assert.equal((await response.clone().json()).error, "invalid_client");
    // The library reads the Basic challenge the 401 carries and refuses the response.
    await assert.rejects(oauth.processClientCredentialsResponse(as(), { client_id: s.clientId }, response), (e) => e instanceof oauth.WWWAuthenticateChallengeError);
  });

  test("a jose-signed federation assertion from a loopback issuer gets a token; a wrong subject does not", async () => {
    await admin("PUT", `/connections/${s.id}/oauth/settings`, { token_lifetime_secs: 7200, federation_issuer: issuer.base, federation_subject: "entra-app", federation_audience: null });
    const grant = async (assertion) => {
      const params = new URLSearchParams({ client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });
      return oauth.clientCredentialsGrantRequest(as(), { client_id: s.clientId }, oauth.None(), params, insecure);
    };
    const ok = await oauth.processClientCredentialsResponse(as(), { client_id: s.clientId }, await grant(await issuer.sign("entra-app", `${s.origin}/oauth/token`)));
    assert.equal(ok.expires_in, 7200);
    assert.equal((await users(ok.access_token)).status, 200);
    const refused = await grant(await issuer.sign("someone-else", `${s.origin}/oauth/token`));
    assert.equal(refused.status, 401);
    const body = await refused.json();
    assert.equal(body.error, "invalid_client");
    assert.match(body.error_description, /sub/);
  });

  test("the console shows the OAuth section on Tokens and Entra's OAuth fields on the overview", async () => {
    browser = await launchBrowser();
    const page = browser.page;
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
    const base = new URL(`/connections/${s.id}`, server.console_url).href;
    await page.goto(`${base}/tokens`);
    await page.getByTestId("oauth-section").waitFor();
    assert.equal(await page.getByTestId("oauth-client-id").textContent(), s.clientId);
    assert.equal(await page.getByTestId("oauth-token-endpoint").textContent(), `${s.origin}/oauth/token`);
    assert.equal(await page.getByTestId("oauth-secret-row").count(), 1);
    await page.getByTestId("oauth-issue-secret").click();
    await page.getByTestId("oauth-issued").waitFor();
    assert.match((await page.getByTestId("oauth-secret").textContent()) ?? "", /^mcs_/);
    await page.getByTestId("oauth-issued-done").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=oauth-secret-row]").length === 2);
    assert.equal(await page.getByTestId("oauth-lifetime").inputValue(), "7200");

    await page.goto(base);
    await page.getByTestId("setup-entra").waitFor();
    assert.equal(await page.getByTestId("entra-client-id").textContent(), s.clientId);
    assert.equal(await page.getByTestId("entra-token-endpoint").textContent(), `${s.origin}/oauth/token`);
    const text = (await page.getByTestId("setup-entra").textContent()) ?? "";
    for (const field of ["Tenant URL", "Token endpoint", "Client identifier", "Client secret"]) assert.ok(text.includes(field), field);
  });
});
