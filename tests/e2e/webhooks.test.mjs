// Webhooks end to end against the real `muster serve`: an endpoint created in the console (secret shown once), a server-wide one, deliveries verified by an independent implementation (the `standardwebhooks` npm package) in a receiver on a loopback port, a receiver that answers 500 first and gets the same webhook-id again, and the console's delivery log with resend.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { launchBrowser } from "./lib/browser.mjs";
import { startReceiver } from "./lib/receiver.mjs";
import { oktaUser, scim } from "./lib/scim.mjs";
import { admin as adminCall, startServer } from "./lib/server.mjs";
import { eventually } from "./lib/wait.mjs";

describe("signed webhooks against muster serve", () => {
  let server;
  let browser;
  let page;
  let receiver;
  const s = { id: "", scimUrl: "", token: "", endpoint: "", secret: "" };
  const pageErrors = [];
  const admin = (method, p, body) => adminCall(server, method, p, body);

  before(async () => {
    server = await startServer();
    const created = await admin("POST", "/connections", { name: "Acme Okta", idp: "okta" });
    s.id = created.connection.id;
    s.scimUrl = created.connection.scim_url;
    s.token = created.token;
    // The first delivery is answered 500 once; the retry (about 5 s later) gets 200.
    receiver = await startReceiver({ failFirst: 1 });
    browser = await launchBrowser();
    page = browser.page;
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.setDefaultTimeout(15_000);
    await page.goto(server.console_url);
    await page.getByTestId("connection-row").first().waitFor();
    await page.goto(new URL(`/connections/${s.id}/webhooks`, server.console_url).href);
    await page.getByTestId("webhooks-screen").waitFor();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.stop();
  });

  test("the console refuses a URL that is not http(s), and creates an endpoint whose secret it shows once", async () => {
    await page.getByTestId("webhooks-empty").waitFor();
    // Not http(s), and Muster's own address: refused by the server, its message shown.
    await page.getByTestId("webhook-url").fill("ftp://files.example.com/hook");
    await page.getByTestId("webhook-create").click();
    await eventually(async () => /http:\/\//.test(await page.getByTestId("webhook-create-error").textContent()), 5000, "the scheme refusal");
    await page.getByTestId("webhook-url").fill(new URL("/hook", server.console_url).href);
    await page.getByTestId("webhook-create").click();
    await eventually(async () => /itself/.test(await page.getByTestId("webhook-create-error").textContent()), 5000, "the self-URL refusal");
    assert.equal((await admin("GET", `/connections/${s.id}/webhooks`)).endpoints.length, 0);
    await page.getByTestId("webhook-url").fill(receiver.url);
    await page.getByTestId("webhook-create").click();
    const secret = (await page.getByTestId("webhook-secret").textContent()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    s.secret = secret;
    receiver.setSecret(secret);
    await page.getByTestId("webhook-secret-done").click();
    await page.getByTestId("webhook-row").waitFor();
    const list = await admin("GET", `/connections/${s.id}/webhooks`);
    assert.equal(list.endpoints.length, 1);
    s.endpoint = list.endpoints[0].id;
    assert.ok(!JSON.stringify(list).includes(secret.slice(6)), "the list never shows the secret");
    assert.ok(!(await page.content()).includes(secret.slice(6)), "the secret is gone from the page once saved");
  });

  test("a provisioned user is delivered signed (verified by standardwebhooks), retried after a 500 with the same webhook-id", async () => {
    await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Ada", family: "Lovelace", email: "ada@acme.example", externalId: "00u-ada" }));
    const got = await eventually(() => receiver.received.length >= 2 && receiver.received, 20_000, "the retry after the 500");
    assert.deepEqual(
      got.map((r) => [r.verified, r.answered]),
      [
        [true, 500],
        [true, 200],
      ],
      JSON.stringify(got.map((r) => r.error)),
    );
    assert.equal(got[0].id, got[1].id, "a retry keeps the webhook-id");
    assert.equal(got[1].payload.type, "user.created");
    assert.equal(got[1].payload.data.connection_id, s.id);
    assert.equal(got[1].payload.data.kind, "user.created");
    assert.equal(got[1].payload.data.data.userName, "ada@acme.example");
    assert.equal(typeof got[1].payload.data.seq, "number");
    assert.match(got[1].payload.timestamp, /^\d{4}-\d{2}-\d{2}T/);
  });

  test("the console's delivery log shows both attempts, and resend sends the same webhook-id again", async () => {
    await page.getByTestId("webhook-show-log").click();
    const row = page.getByTestId("delivery-row").first();
    await eventually(async () => (await row.getAttribute("data-state")) === "delivered", 10_000, "the delivered row");
    assert.equal((await row.getByTestId("delivery-attempts").textContent()).trim(), "2");
    await row.getByTestId("delivery-attempts").getByRole("button").click();
    const log = await page.getByTestId("delivery-attempt-log").textContent();
    assert.match(log, /HTTP 500/);
    assert.match(log, /receiver says no \(test\)/);
    assert.match(log, /HTTP 200/);
    const messageId = await row.getAttribute("data-message-id");
    await row.getByTestId("delivery-resend").click();
    await page.getByTestId("delivery-note").waitFor();
    const third = await eventually(() => receiver.received[2], 10_000, "the resent delivery");
    assert.equal(third.id, messageId);
    assert.equal(third.verified, true, third.error);
    assert.equal(third.answered, 200);
    await eventually(async () => (await page.getByTestId("delivery-row").count()) === 2, 10_000, "the resend in the log");
    const audit = await admin("GET", `/connections/${s.id}/audit`);
    const actions = audit.map((a) => a.action);
    assert.ok(actions.includes("webhook_created") && actions.includes("webhook_resent"), actions.join(", "));
    assert.deepEqual(pageErrors, []);
  });

  test("a server-wide endpoint made on the Webhooks screen receives the events of every connection", async () => {
    const everyone = await startReceiver();
    try {
      await page.getByTestId("nav-webhooks").click();
      await page.getByTestId("webhooks-empty").waitFor();
      await page.getByTestId("webhook-url").fill(everyone.url);
      await page.getByTestId("webhook-create").click();
      everyone.setSecret((await page.getByTestId("webhook-secret").textContent()).trim());
      await page.getByTestId("webhook-secret-done").click();
      const other = await admin("POST", "/connections", { name: "Globex Okta", idp: "okta" });
      await scim(other.connection.scim_url, other.token, "POST", "/Users", oktaUser({ given: "Hedy", family: "Lamarr", email: "hedy@globex.example", externalId: "00u-hedy" }));
      const got = await eventually(() => everyone.received[0], 10_000, "the server-wide delivery");
      assert.equal(got.verified, true, got.error);
      assert.equal(got.payload.data.connection_id, other.connection.id);
      assert.equal((await admin("GET", "/webhooks")).endpoints.length, 1);
      assert.equal((await admin("GET", `/connections/${s.id}/webhooks`)).endpoints.length, 1, "the connection's own list is apart");
    } finally {
      await everyone.stop();
    }
  });

  test("while the endpoint fails, the connection's overview says so and SCIM keeps answering", async () => {
    await receiver.stop();
    const t0 = Date.now();
    await scim(s.scimUrl, s.token, "POST", "/Users", oktaUser({ given: "Grace", family: "Hopper", email: "grace@acme.example", externalId: "00u-grace" }));
    assert.ok(Date.now() - t0 < 2000, "SCIM did not wait for the receiver");
    const detail = await eventually(async () => {
      const d = await admin("GET", `/connections/${s.id}`);
      return d.connection.health_notices.some((n) => n.includes("failing since")) && d;
    }, 10_000, "the failing-webhook notice");
    assert.ok(detail.connection.health_notices.some((n) => n.includes(receiver.url)), JSON.stringify(detail.connection.health_notices));
  });
});
