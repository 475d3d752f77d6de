// Starts the real `muster serve` on a free loopback port with a temp database and the built console; stops it after.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Spawns `${MUSTER_BIN:-target/debug/muster} serve --db <tmp>/muster.db --bind 127.0.0.1:0 --console ui/dist`
 * (`bind` for a known port, plus `extraArgs`) and resolves with the JSON line it prints: { scim_base, admin, console_url, admin_secret, db, ... } plus stop().
 */
export async function startServer({ timeoutMs = 30_000, extraArgs = [], bind = "127.0.0.1:0" } = {}) {
  const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
  const consoleDir = path.join(repoRoot, "ui/dist");
  if (!existsSync(path.join(consoleDir, "index.html"))) {
    throw new Error(`ui/dist/index.html missing: run \`npm ci && npm run build\` in ui/ first`);
  }
  if (!process.env.MUSTER_BIN && !existsSync(bin)) {
    throw new Error(`${bin} missing: build it with \`cargo build -p muster-server\` or set MUSTER_BIN`);
  }
  const dir = mkdtempSync(path.join(tmpdir(), "muster-e2e-"));
  const child = spawn(bin, ["serve", "--db", path.join(dir, "muster.db"), "--bind", bind, "--console", consoleDir, ...extraArgs], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" },
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
    if (process.env.MUSTER_E2E_VERBOSE) process.stderr.write(d);
  });

  const info = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`muster serve printed no JSON line within ${timeoutMs} ms\n${stderr}`)), timeoutMs);
    child.once("exit", (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`muster serve exited early (code ${code}, signal ${sig})\n${stderr}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const t = line.trim();
      if (!t.startsWith("{")) return;
      try {
        const parsed = JSON.parse(t);
        clearTimeout(timer);
        resolve(parsed);
      } catch {
        // not our line
      }
    });
  });
  for (const k of ["scim_base", "admin", "console_url"]) {
    if (typeof info[k] !== "string") throw new Error(`muster serve JSON line lacks "${k}": ${JSON.stringify(info)}`);
  }
  const secret = info.admin_secret ?? new URL(info.console_url).hash.replace(/^#secret=/, "");

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { ...info, secret, stop, stderr: () => stderr };
}

/** Calls the admin API of a server from startServer(); throws on a non-2xx answer. */
export async function admin(server, method, p, body) {
  const res = await fetch(`${server.admin}${p}`, {
    method,
    headers: { Authorization: `Bearer ${server.secret}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${p} -> ${res.status}: ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}
