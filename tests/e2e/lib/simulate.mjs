// `muster simulate` as a child process: realistic IdP traffic pushed into the server under test.
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot } from "./server.mjs";

/** Runs `muster simulate ... --json` as Okta; resolves with its summary once it exits 0. */
export function simulate(c, scenario, extra = []) {
  const bin = process.env.MUSTER_BIN ?? path.join(repoRoot, "target/debug/muster");
  const args = ["simulate", "--url", c.scimUrl, "--token", c.token, "--idp", "okta", "--scenario", scenario, "--json", ...extra];
  const child = spawn(bin, args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const done = new Promise((resolve, reject) => {
    child.once("exit", (code) => {
      if (code !== 0) return reject(new Error(`muster simulate ${scenario} exited ${code}\n${err}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").pop()));
      } catch (e) {
        reject(new Error(`muster simulate printed no JSON summary: ${e}\n${out}\n${err}`));
      }
    });
  });
  return { child, done };
}
