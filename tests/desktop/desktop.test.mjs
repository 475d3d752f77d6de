// Desktop end-to-end: a user pushed over SCIM shows up in the real desktop window.
// Run through tests/desktop/run.sh, which starts Xvfb and tauri-driver and sets the env below.
// Plain fetch calls to the W3C WebDriver API; no npm packages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

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

test("a user provisioned over SCIM appears in the desktop window", { timeout: 150_000 }, async () => {
  // The connection is made through the CLI on the same database file the app opens.
  const created = execFileSync(CLI, ["connection", "create", "--db", DB, "--name", "Desktop", "--idp", "okta"], {
    timeout: 30_000,
    encoding: "utf8",
  });
  const conn = JSON.parse(created.trim().split("\n").filter((l) => l.startsWith("{")).pop());
  assert.ok(conn.id && conn.token, `connection create printed ${created}`);

  const session = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: APP } } },
  });
  const sid = session.sessionId;
  const s = (path) => `/session/${sid}${path}`;
  const exec = (script, args = []) => wd("POST", s("/execute/sync"), { script, args });
  const find = async (using, value) => {
    const els = await wd("POST", s("/elements"), { using, value });
    return els.map((e) => e[W3C_ELEMENT]);
  };
  const bodyText = () => exec("return document.body ? document.body.innerText : ''");

  try {
    // The shell injected the handoff before the page loaded.
    const muster = await waitFor("window.__MUSTER__", () =>
      exec("return document.readyState === 'complete' && window.__MUSTER__ ? JSON.parse(JSON.stringify(window.__MUSTER__)) : null"),
    );
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
    const viaWebview = await wd("POST", s("/execute/async"), {
      script: `const done = arguments[arguments.length - 1];
        const m = window.__MUSTER__;
        fetch(m.api + "/connections/" + arguments[0] + "/users?q=" + encodeURIComponent(arguments[1]),
              { headers: { authorization: "Bearer " + m.secret } })
          .then(r => r.json().then(j => done({ status: r.status, body: j })))
          .catch(e => done({ error: String(e) }));`,
      args: [conn.id, userName],
    });
    assert.equal(viaWebview.status, 200, JSON.stringify(viaWebview));
    assert.equal(viaWebview.body.items?.[0]?.user_name, userName, JSON.stringify(viaWebview.body));

    // Navigate like a person: open the connection, then its users tab, until the user shows.
    const connectionTargets = [
      ["css selector", `[data-testid="connection-row"][data-id="${conn.id}"] [data-testid="connection-link"]`],
      ["css selector", `a[href*="${conn.id}"]`],
      ["xpath", `//*[self::a or self::button or self::td or self::tr or @role='link' or @role='row'][normalize-space(.)='Desktop' or .//*[normalize-space(text())='Desktop']]`],
    ];
    const usersTabTargets = [
      ["css selector", '[data-testid="tab-users"]'],
      ["xpath", `//*[self::a or self::button or @role='tab'][starts-with(normalize-space(.), 'Users')]`],
    ];
    const clickFirst = async (targets) => {
      for (const [using, value] of targets) {
        const ids = await find(using, value).catch(() => []);
        for (const id of ids) {
          try {
            await wd("POST", s(`/element/${id}/click`), {});
            return true;
          } catch {
            // not interactable (hidden duplicate); try the next one
          }
        }
      }
      return false;
    };
    await waitFor("the connection 'Desktop' in the window", () => bodyText().then((t) => t.includes("Desktop")), 30_000);
    await waitFor("a click on the 'Desktop' connection", () => clickFirst(connectionTargets), 10_000);
    await waitFor("a click on the Users tab", () => clickFirst(usersTabTargets), 10_000);
    // The user must be in the users grid itself, not only in the overview's provisioning log.
    const rowText = () =>
      exec(
        `const rows = document.querySelectorAll('[data-testid="user-row"]');
         return location.pathname.endsWith("/users") && rows.length
           ? Array.from(rows).map((r) => r.innerText).join("\\n") : "";`,
      );
    const rows = await waitFor(`${userName} in the users grid`, () => rowText().then((t) => t.includes(userName) && t), 20_000).catch(
      async (e) => {
        // A console without data-testid="user-row": fall back to the page text on the users tab.
        const text = await bodyText();
        if ((await exec("return location.pathname")).endsWith("/users") && text.includes(userName)) return text;
        throw e;
      },
    );
    assert.ok(rows.includes(userName));
    // Let the grid settle before the screenshot (a screenshot right after a click can show the old state).
    await new Promise((r) => setTimeout(r, 500));

    if (SCREENSHOT) {
      const png = await wd("GET", s("/screenshot"));
      mkdirSync(dirname(SCREENSHOT), { recursive: true });
      writeFileSync(SCREENSHOT, Buffer.from(png, "base64"));
    }
  } catch (e) {
    if (ARTIFACTS) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const png = await wd("GET", s("/screenshot")).catch(() => null);
      if (png) writeFileSync(`${ARTIFACTS}/failure.png`, Buffer.from(png, "base64"));
      const text = await bodyText().catch((err) => `(no page text: ${err.message})`);
      writeFileSync(`${ARTIFACTS}/failure.txt`, `${e.stack}\n\n--- page text ---\n${text}\n`);
      console.error(`desktop e2e: failure screenshot and page text in ${ARTIFACTS}`);
    }
    throw e;
  } finally {
    // The app exits when its session ends.
    await wd("DELETE", `/session/${sid}`).catch((e) => console.error(`deleting session: ${e.message}`));
  }
});
