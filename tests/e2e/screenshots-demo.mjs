// Saves PNGs of the live demo (finished timeline) and the readiness report to docs/screenshots/ (demo.png, readiness.png).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { launchBrowser } from "./lib/browser.mjs";
import { admin, repoRoot, startServer } from "./lib/server.mjs";

const OUT = path.join(repoRoot, "docs/screenshots");


async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.waitForTimeout(400); // let relative times settle
  await page.screenshot({ path: file, fullPage: true });
  console.log(`wrote ${path.relative(repoRoot, file)}`);
}

mkdirSync(OUT, { recursive: true });
const server = await startServer();
const browser = await launchBrowser({ viewport: { width: 1280, height: 900 } });
const { page } = browser;
page.setDefaultTimeout(15_000);
try {
  await page.goto(server.console_url);
  await page.getByTestId("nav-demo").click();
  await page.getByTestId("demo-speed-4").click();
  await page.getByTestId("demo-start").click();
  await page.locator('[data-testid="demo-phase"][data-phase="finished"]').waitFor({ timeout: 90_000 });
  await shot(page, "demo.png");

  await page.getByTestId("demo-reset").click();
  await page.getByTestId("demo-reset-confirm").click();
  await page.locator('[data-testid="demo-phase"][data-phase="idle"]').waitFor();

  const c = await admin(server, "POST", "/connections", { name: "Acme Okta", idp: "okta" });
  await page.getByTestId("nav-readiness").click();
  await page.getByTestId("readiness-connection").selectOption(c.connection.id);
  await page.getByTestId("readiness-run").click();
  await page.getByTestId("readiness-summary").waitFor({ timeout: 60_000 });
  const toggle = page.locator('[data-testid="readiness-check"][data-outcome="pass"] [data-testid="readiness-check-toggle"]').first();
  await toggle.click();
  await page.getByTestId("readiness-evidence").waitFor();
  await shot(page, "readiness.png");
} finally {
  await browser.close();
  await server.stop();
}
