// Desktop end-to-end: a user pushed over SCIM shows up in the real desktop window, a taken
// port still opens the window with a way to pick another, and a team's Muster server is
// added, switched to and back from through the console's server switcher, and signed in to
// with its identity provider through the system browser and a loopback redirect (RFC 8252).
// Run through tests/desktop/run.sh, which starts Xvfb and tauri-driver and sets the env below.
// Plain fetch calls to the W3C WebDriver API; no npm packages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { launchBrowser } from "../e2e/lib/browser.mjs";
import { freePort, newSigningKey, startProvider } from "../e2e/lib/oidc.mjs";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; run tests/desktop/run.sh`);
  return value;
};
const WD = env("WEBDRIVER_URL");
const APP = env("MUSTER_APP");
const CLI = env("MUSTER_CLI");
const DB = env("MUSTER_DB");
const PORT = env("MUSTER_PORT");
const SCREENSHOT = process.env.SCREENSHOT;
const ARTIFACTS = process.env.ARTIFACTS; // failure screenshot and page text go here
const OPENED_URLS = env("OPENED_URLS"); // the app's $BROWSER writes each URL it is asked to open here
const ORIGIN = `http://127.0.0.1:${PORT}`;
const W3C_ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

async function wd(method, path, body) {
  const res = await fetch(WD + path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json?.value?.error) {
    const err = new Error(`${method} ${path}: ${res.status} ${json?.value?.error ?? ""} ${json?.value?.message ?? ""}`);
    err.webdriver = json?.value?.error;
    throw err;
  }
  return json.value;
}

async function waitFor(what, fn, timeoutMs = 20_000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Launches the app in a WebDriver session, runs `fn` with helpers, and always ends the session
 * (which quits the app). On failure it keeps a screenshot and the page text in ARTIFACTS. */
async function withApp(name, fn) {
  const session = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: APP } } },
  });
  const sid = session.sessionId;
  const s = (path) => `/session/${sid}${path}`;
  const app = {
    exec: (script, args = []) => wd("POST", s("/execute/sync"), { script, args }),
    execAsync: (script, args = []) => wd("POST", s("/execute/async"), { script, args }),
    find: async (using, value) => (await wd("POST", s("/elements"), { using, value })).map((e) => e[W3C_ELEMENT]),
    bodyText: () => app.exec("return document.body ? document.body.innerText : ''"),
    element: (id, path, body) => wd("POST", s(`/element/${id}${path}`), body ?? {}),
    screenshot: async (file) => {
      const png = await wd("GET", s("/screenshot"));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, Buffer.from(png, "base64"));
    },
    /** Clicks the first interactable element any of `targets` finds. */
    clickFirst: async (targets) => {
      for (const [using, value] of targets) {
        for (const id of await app.find(using, value).catch(() => [])) {
          try {
            await app.element(id, "/click");
            return true;
          } catch {
            // not interactable (a hidden duplicate); try the next one
          }
        }
      }
      return false;
    },
    /** window.__MUSTER__ once the page has loaded (functions dropped). */
    muster: () =>
      waitFor("window.__MUSTER__", () =>
        app.exec("return document.readyState === 'complete' && window.__MUSTER__ ? JSON.parse(JSON.stringify(window.__MUSTER__)) : null"),
      ),
  };
  try {
    return await fn(app);
  } catch (e) {
    if (ARTIFACTS) {
      await app.screenshot(`${ARTIFACTS}/${name}-failure.png`).catch(() => {});
      const text = await app.bodyText().catch((err) => `(no page text: ${err.message})`);
      writeFileSync(`${ARTIFACTS}/${name}-failure.txt`, `${e.stack}\n\n--- page text ---\n${text}\n`);
      console.error(`desktop e2e: failure screenshot and page text in ${ARTIFACTS}`);
    }
    throw e;
  } finally {
    await wd("DELETE", `/session/${sid}`).catch((e) => console.error(`deleting session: ${e.message}`));
  }
}

/** Listens on 127.0.0.1:port (0 = any free port); retries while the previous app lets go of it. */
async function listen(port, timeoutMs = 10_000) {
  return waitFor(`127.0.0.1:${port} to be free`, () =>
    new Promise((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(Number(port), "127.0.0.1", () => resolve(server));
    }),
    timeoutMs,
  );
}

test("a user provisioned over SCIM appears in the desktop window", { timeout: 90_000 }, async () => {
  // The connection is made through the CLI on the same database file the app opens.
  const created = execFileSync(CLI, ["connection", "create", "--db", DB, "--name", "Desktop", "--idp", "okta"], {
    timeout: 30_000,
    encoding: "utf8",
  });
  const conn = JSON.parse(created.trim().split("\n").filter((l) => l.startsWith("{")).pop());
  assert.ok(conn.id && conn.token, `connection create printed ${created}`);

  await withApp("provisioned-user", async (app) => {
    // The shell injected the handoff before the page loaded.
    const muster = await app.muster();
    assert.equal(muster.startup_error, undefined, `startup error: ${JSON.stringify(muster.startup_error)}`);
    assert.equal(muster.api, `${ORIGIN}/api`);
    assert.equal(muster.scim_base, `${ORIGIN}/scim/v2`);
    assert.match(muster.secret, /^[0-9a-f]{64}$/);

    const userName = `dana.${Date.now().toString(36)}@example.com`;
    const res = await fetch(`${ORIGIN}/scim/v2/${conn.id}/Users`, {
      method: "POST",
      headers: { authorization: `Bearer ${conn.token}`, "content-type": "application/scim+json" },
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
        userName,
        name: { givenName: "Dana", familyName: "Desktop" },
        emails: [{ value: userName, type: "work", primary: true }],
        active: true,
      }),
      signal: AbortSignal.timeout(15_000),
    });
    assert.equal(res.status, 201, await res.text());

    // The window's origin may call the admin API with the injected secret (CORS, origin check).
    const viaWebview = await app.execAsync(
      `const done = arguments[arguments.length - 1];
       const m = window.__MUSTER__;
       fetch(m.api + "/connections/" + arguments[0] + "/users?q=" + encodeURIComponent(arguments[1]),
             { headers: { authorization: "Bearer " + m.secret } })
         .then(r => r.json().then(j => done({ status: r.status, body: j })))
         .catch(e => done({ error: String(e) }));`,
      [conn.id, userName],
    );
    assert.equal(viaWebview.status, 200, JSON.stringify(viaWebview));
    assert.equal(viaWebview.body.items?.[0]?.user_name, userName, JSON.stringify(viaWebview.body));

    // Navigate like a person: open the connection, then its Users tab.
    const connectionTargets = [
      ["css selector", `[data-testid="connection-row"][data-id="${conn.id}"] [data-testid="connection-link"]`],
      ["css selector", `a[href*="${conn.id}"]`],
      ["xpath", `//*[self::a or self::button or @role='link'][normalize-space(.)='Desktop']`],
    ];
    const usersTabTargets = [
      ["css selector", '[data-testid="tab-users"]'],
      ["xpath", `//*[self::a or self::button or @role='tab'][starts-with(normalize-space(.), 'Users')]`],
    ];
    await waitFor("the connection 'Desktop' in the window", () => app.bodyText().then((t) => t.includes("Desktop")), 30_000);
    await waitFor("a click on the 'Desktop' connection", () => app.clickFirst(connectionTargets), 10_000);
    await waitFor("a click on the Users tab", () => app.clickFirst(usersTabTargets), 10_000);
    // The user must be in the users grid itself, not only in the overview's provisioning log.
    const gridText = () =>
      app.exec(
        `const rows = document.querySelectorAll('[data-testid="user-row"]');
         return location.pathname.endsWith("/users") && rows.length
           ? Array.from(rows).map((r) => r.innerText).join("\\n") : "";`,
      );
    await waitFor(`${userName} in the users grid`, () => gridText().then((t) => t.includes(userName)), 20_000);
    // A screenshot right after a click can show the old state; the grid is there, let it paint.
    await sleep(500);
    if (SCREENSHOT) await app.screenshot(SCREENSHOT);
  });
});

test("a taken port still opens the window, and another port can be picked", { timeout: 60_000 }, async () => {
  const squatter = await listen(PORT); // MUSTER_BIND's port, held by someone else
  const spare = await listen(0);
  const sparePort = spare.address().port;
  await new Promise((r) => spare.close(r));
  try {
    await withApp("addr-in-use", async (app) => {
      const muster = await app.muster();
      assert.equal(muster.startup_error?.kind, "addr_in_use", JSON.stringify(muster));
      assert.equal(muster.startup_error.addr, `127.0.0.1:${PORT}`);
      assert.equal(muster.api, undefined);

      // Pick another port through the console's screen or, until it has one, the shell's fallback.
      const which = await waitFor("a startup error screen", () =>
        app.exec(`return document.querySelector('[data-testid="startup-error"]') ? "console"
          : document.querySelector('[data-testid="desktop-startup-fallback"]') ? "fallback" : null`),
      );
      if (which === "fallback") {
        assert.match(await app.bodyText(), new RegExp(`Port ${PORT} is in use`));
        const [input] = await app.find("css selector", '[data-testid="desktop-port-input"]');
        await app.element(input, "/clear");
        await app.element(input, "/value", { text: String(sparePort) });
        assert.ok(await app.clickFirst([["css selector", '[data-testid="desktop-port-submit"]']]));
      } else {
        const moved = await app.execAsync(
          `const done = arguments[arguments.length - 1];
           window.__MUSTER__.setServerAddress(arguments[0]).then(done, (e) => done({ error: e }));`,
          [`127.0.0.1:${sparePort}`],
        );
        assert.equal(moved.api, `http://127.0.0.1:${sparePort}/api`, JSON.stringify(moved));
        await app.exec("location.reload()");
      }

      // After the move (and the reload), the console runs against the new port.
      const after = await waitFor("the handoff for the new port", async () => {
        const m = await app.muster();
        return m.api === `http://127.0.0.1:${sparePort}/api` && m;
      });
      assert.equal(after.startup_error, undefined);
      assert.equal(after.scim_base, `http://127.0.0.1:${sparePort}/scim/v2`);
      await waitFor("the connections list", () => app.bodyText().then((t) => t.includes("Desktop")), 20_000);
      const info = await fetch(`http://127.0.0.1:${sparePort}/api/info`, {
        headers: { authorization: `Bearer ${after.secret}` },
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(info.status, 200);
      // Remembered for the next launch.
      const settings = JSON.parse(readFileSync(`${dirname(DB)}/settings.json`, "utf8"));
      assert.equal(settings.server_address, `127.0.0.1:${sparePort}`);
    });
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});

/** `muster serve` on a free loopback port with its own database; resolves with its start-up
 * line ({addr, admin, admin_secret, …}) and a stop function. */
async function musterServe(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), "muster-team-"));
  const db = join(dir, "team.db");
  const child = spawn(CLI, ["serve", "--db", db, "--bind", "127.0.0.1:0", ...extraArgs.map((a) => a.replaceAll("{dir}", dir))], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const line = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("muster serve printed nothing in 20 s")), 20_000);
      child.once("exit", (code) => reject(new Error(`muster serve exited with ${code}`)));
      createInterface({ input: child.stdout }).once("line", (l) => {
        clearTimeout(timer);
        resolve(l);
      });
    });
    return { ...JSON.parse(line), db, dir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The native window's title, asked from the page through Tauri's window API. */
function nativeTitle(app) {
  return app.execAsync(
    `const done = arguments[arguments.length - 1];
     window.__TAURI_INTERNALS__.invoke("plugin:window|title", { label: "main" })
       .then(done, (e) => done({ error: String(e) }));`,
  );
}

test("a team server is added through the switcher, switched to and back", { timeout: 120_000 }, async () => {
  const team = await musterServe();
  // A server with a self-signed certificate: the probe must name the problem and never add it.
  const certDir = mkdtempSync(join(tmpdir(), "muster-cert-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    "-keyout", join(certDir, "key.pem"), "-out", join(certDir, "cert.pem"),
  ], { stdio: "ignore" });
  const selfSigned = await musterServe(["--tls-cert", join(certDir, "cert.pem"), "--tls-key", join(certDir, "key.pem")]);
  const teamUrl = `http://${team.addr}`;
  try {
    await withApp("team-server", async (app) => {
      const switcher = () => app.exec(`const b = document.querySelector('[data-testid="server-switcher"]');
        return b ? { current: b.dataset.current, kind: b.dataset.kind, text: b.innerText } : null;`);
      const openMenu = async () => {
        await waitFor("the server switcher", () => app.clickFirst([["css selector", '[data-testid="server-switcher"]']]));
        await waitFor("the server menu", () => app.exec(`return !!document.querySelector('[data-testid="server-option"]')`));
      };
      const type = async (testId, text) => {
        const [input] = await waitFor(`input ${testId}`, () => app.find("css selector", `[data-testid="${testId}"]`).then((ids) => ids.length && ids));
        await app.element(input, "/clear");
        await app.element(input, "/value", { text });
      };
      const probeResult = () =>
        waitFor("the probe's result", () =>
          app.exec(`const r = document.querySelector('[data-testid="add-server-probe-result"]');
            const e = document.querySelector('[data-testid="add-server-error"]');
            return r ? { result: r.dataset.result, problem: r.dataset.problem, text: r.innerText }
              : e ? { refused: e.innerText } : null;`),
          20_000,
        );

      // On This computer: the switcher says so, and so does the window title.
      await waitFor("the connections list", () => app.bodyText().then((t) => t.includes("Desktop")), 30_000);
      const local = await waitFor("the switcher", switcher);
      assert.equal(local.current, "local");
      assert.match(local.text, /This computer/);
      assert.equal(await nativeTitle(app), "Muster — This computer");

      await openMenu();
      assert.ok(await app.clickFirst([["css selector", '[data-testid="server-add"]']]));

      // Plain http:// to a remote host is refused before anything is sent.
      await type("add-server-url", "http://muster.example.com");
      assert.ok(await app.clickFirst([["css selector", '[data-testid="add-server-probe"]']]));
      const clear = await probeResult();
      assert.match(clear.refused ?? "", /use https:\/\//, JSON.stringify(clear));

      // A self-signed certificate: a certificate problem, unknown issuer, and no way to add it.
      await type("add-server-url", `https://${selfSigned.addr}`);
      assert.ok(await app.clickFirst([["css selector", '[data-testid="add-server-probe"]']]));
      const cert = await probeResult();
      assert.equal(cert.result, "certificate", JSON.stringify(cert));
      assert.equal(cert.problem, "unknown_issuer");
      assert.match(cert.text, /Certificate problem/);
      assert.equal(await app.exec(`return document.querySelector('[data-testid="add-server-submit"]').disabled`), true);

      // The team server (plain http is fine on loopback): OK, then added and switched to.
      await type("add-server-url", `${teamUrl}/`);
      await type("add-server-name", "Team");
      assert.ok(await app.clickFirst([["css selector", '[data-testid="add-server-probe"]']]));
      const ok = await probeResult();
      assert.equal(ok.result, "ok", JSON.stringify(ok));
      assert.match(ok.text, /Muster \d+\.\d+\.\d+/);
      assert.ok(await app.clickFirst([["css selector", '[data-testid="add-server-submit"]']]));

      const remote = await waitFor("the window on the team server", async () => {
        const m = await app.muster();
        return m.api === `${teamUrl}/api` && m;
      });
      assert.equal(remote.secret, undefined, "a team server gets no secret from the shell");
      assert.deepEqual(remote.server, { kind: "remote", name: "Team", url: teamUrl });
      assert.equal(await nativeTitle(app), `Muster — ${team.addr}`);
      assert.equal(await app.exec("return document.title"), `Muster — ${team.addr}`);
      const onTeam = await waitFor("the switcher on the team server", async () => {
        const s = await switcher();
        return s?.current === teamUrl && s;
      });
      assert.match(onTeam.text, /Team/);
      // The console talks to the team server (CSP and the server's CORS let it): its sign-in
      // screen, or until the console has one, the server's answer.
      const talking = await waitFor("the console talking to the team server", () =>
        app.exec(`const r = document.querySelector('[data-testid="remote-server"]');
          if (r) return r.dataset.reach === "ok" ? "remote-server" : null;
          return document.querySelector('[data-testid="signin-screen"], [data-testid="sign-in"]') ? "signin" : null;`),
      );
      assert.ok(talking);
      const settings = JSON.parse(readFileSync(`${dirname(DB)}/settings.json`, "utf8"));
      assert.deepEqual(settings.servers, [{ url: teamUrl, name: "Team" }]);
      assert.equal(settings.current_server, teamUrl);

      // Back to This computer: the embedded server's connections again, with its secret.
      await openMenu();
      assert.ok(await app.clickFirst([["css selector", '[data-testid="server-option"][data-id="local"]']]));
      const back = await waitFor("the window back on This computer", async () => {
        const m = await app.muster();
        return m.api === `${ORIGIN}/api` && m;
      });
      assert.match(back.secret, /^[0-9a-f]{64}$/);
      assert.equal(back.server.kind, "local");
      await waitFor("the embedded server's connections", () => app.bodyText().then((t) => t.includes("Desktop")), 20_000);
      assert.equal(await nativeTitle(app), "Muster — This computer");
      assert.equal((await waitFor("the switcher", switcher)).current, "local");

      // Removed: gone from the menu and from the settings file.
      await openMenu();
      assert.ok(await app.clickFirst([["css selector", `[data-testid="server-remove"][data-id="${teamUrl}"]`]]));
      await waitFor("the team server gone from the menu", () =>
        app.exec(`return document.querySelectorAll('[data-testid="server-option"]').length === 1`),
      );
      const after = JSON.parse(readFileSync(`${dirname(DB)}/settings.json`, "utf8"));
      assert.deepEqual(after.servers, []);
      assert.equal(after.current_server, undefined);
    });
  } finally {
    await team.stop();
    await selfSigned.stop();
    rmSync(certDir, { recursive: true, force: true });
  }
});

test("a team server's identity provider signs the admin in through the system browser", { timeout: 150_000 }, async () => {
  // The provider knows the desktop app as a native client: its loopback redirect may use any port.
  const provider = await startProvider({
    port: await freePort(),
    redirectUri: "http://127.0.0.1/callback",
    applicationType: "native",
    keys: [await newSigningKey("desktop")],
  });
  const team = await musterServe(["--oidc-issuer", provider.issuer, "--oidc-client-id", "muster-console"]);
  const teamUrl = `http://${team.addr}`;
  const ADA = "ada.admin@contoso.example";
  execFileSync(CLI, ["admin", "add", "--db", team.db, "--email", ADA, "--role", "admin"], { encoding: "utf8" });
  writeFileSync(OPENED_URLS, "");
  let browser;
  try {
    await withApp("oidc-sign-in", async (app) => {
      const type = async (testId, text) => {
        const [input] = await waitFor(`input ${testId}`, () => app.find("css selector", `[data-testid="${testId}"]`).then((ids) => ids.length && ids));
        await app.element(input, "/clear");
        await app.element(input, "/value", { text });
      };
      await waitFor("the server switcher", () => app.clickFirst([["css selector", '[data-testid="server-switcher"]']]), 30_000);
      await waitFor("the add-server item", () => app.clickFirst([["css selector", '[data-testid="server-add"]']]));
      await type("add-server-url", teamUrl);
      await type("add-server-name", "Team");
      assert.ok(await app.clickFirst([["css selector", '[data-testid="add-server-probe"]']]));
      await waitFor("the probe's OK", () =>
        app.exec(`return document.querySelector('[data-testid="add-server-probe-result"]')?.dataset.result === "ok"`),
      );
      assert.ok(await app.clickFirst([["css selector", '[data-testid="add-server-submit"]']]));
      await waitFor("the team server's identity-provider button", () =>
        app.clickFirst([["css selector", '[data-testid="sign-in-oidc"]']]), 30_000);

      // The app asked the system browser to open the provider, and shows the same address.
      const opened = await waitFor("the app to open the system browser", () => readFileSync(OPENED_URLS, "utf8").trim());
      const shown = await waitFor("the address shown in the window", () =>
        app.exec(`return document.querySelector('[data-testid="oidc-browser-url"]')?.innerText ?? null`));
      assert.equal(shown.trim(), opened);
      const auth = new URL(opened);
      assert.equal(auth.origin, provider.issuer);
      assert.equal(auth.searchParams.get("code_challenge_method"), "S256");
      const redirect = new URL(auth.searchParams.get("redirect_uri"));
      assert.equal(redirect.hostname, "127.0.0.1", "a loopback redirect, by IP (RFC 8252 §8.3)");
      assert.notEqual(redirect.port, "", "on a port the app chose");

      // The person signs in at the provider in their browser, which comes back to the app's loopback port.
      browser = await launchBrowser();
      const page = browser.page;
      page.setDefaultTimeout(15_000);
      await page.goto(opened);
      await page.locator("input[name=login]").fill(ADA);
      await page.locator("input[name=password]").fill("any password: the provider's dev login checks none");
      await page.locator("button[type=submit]").click();
      await page.locator("button[type=submit]").click();
      await page.waitForURL((u) => u.origin === redirect.origin);
      assert.match(await page.locator("body").innerText(), /close this tab/);

      // The window is signed in on the team server, as Ada with her role.
      const role = await waitFor("the window signed in", () =>
        app.exec(`return document.querySelector('[data-testid="user-role"]')?.innerText ?? null`), 30_000);
      assert.equal(role, "admin");
      const audit = await fetch(`${team.admin}/audit?action=signin`, { headers: { Authorization: `Bearer ${team.admin_secret}` } }).then((r) => r.json());
      assert.equal(audit.rows.length, 1, JSON.stringify(audit));
      assert.equal(audit.rows[0].detail, "oidc");
      assert.equal(audit.rows[0].actor_email, ADA);
    });
  } finally {
    await browser?.close();
    await team.stop();
    await provider.stop();
  }
});
