// The INSTALLED app (the binary extracted from the .deb, path in CATALYST_BIN)
// reaches its first screen: started under Xvfb by tauri-driver +
// WebKitWebDriver, it must show step 1 of the wizard in demo mode, with the
// UI served from inside the binary. Prints the time from launch to that screen.
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { screenshot, startWindow, until } from "../e2e/webdriver.mjs";

const app = process.env.CATALYST_BIN;
const shots = resolve(import.meta.dirname, "../e2e/artifacts");

let win;

after(async () => {
  await win?.stop();
});

test("the installed binary opens on step 1 of the wizard, in demo mode", async (t) => {
  assert.ok(app, "CATALYST_BIN must name the installed binary");
  const home = process.env.CATALYST_HOME ?? mkdtempSync(join(tmpdir(), "catalyst-bundle-"));
  const started = Date.now();
  win = await startWindow(app, home);
  await until("step 1", async () => (await win.text("#step-title")) === "Organisation", 60_000);
  const ms = Date.now() - started;
  t.diagnostic(`first screen after ${(ms / 1000).toFixed(1)} s (launch to step 1 shown)`);
  console.log(`bundle: installed app showed its first screen ${(ms / 1000).toFixed(1)} s after launch`);

  assert.equal(await win.text(".step-count"), "Step 1 of 7");
  assert.match(await win.text("[data-testid=demo-banner]"), /nothing real is created/);
  // Served by the binary itself over the custom protocol, not a dev server.
  const url = await win.wd("GET", "/url");
  assert.match(url, /^tauri:\/\/localhost(\/|$)/, `the installed app loaded ${url}`);

  mkdirSync(shots, { recursive: true });
  const colours = screenshot(join(shots, "bundle-step1.png"));
  assert.ok(colours >= 16, `the screen holds ${colours} colours: the window did not paint`);
});
