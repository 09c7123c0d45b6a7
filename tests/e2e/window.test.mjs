// The real window: the debug build of the app under Xvfb, driven through
// tauri-driver and WebKitWebDriver (W3C WebDriver over HTTP, no client library).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ELEMENT, startWindow, until } from "./webdriver.mjs";

const root = resolve(import.meta.dirname, "../..");
const app = process.env.CATALYST_BIN ?? join(root, "target/debug/catalyst-provisioner");
const shots = join(import.meta.dirname, "artifacts");
mkdirSync(shots, { recursive: true });

let win;

before(async () => {
  win = await startWindow(app);
});

after(async () => {
  await win?.stop();
});

test("the window opens on step 1 of the wizard, in demo mode", async () => {
  await until("step 1", async () => (await win.text("#step-title")) === "Organisation");
  assert.equal(await win.text(".step-count"), "Step 1 of 7");
  assert.match(await win.text("[data-testid=demo-banner]"), /nothing real is created/);
  const png = await win.wd("GET", "/screenshot");
  writeFileSync(join(shots, "window-step1.png"), Buffer.from(png, "base64"));
});

test("Next is reachable with the keyboard alone", async () => {
  const tab = { type: "key", id: "kbd", actions: [{ type: "keyDown", value: "\uE004" }, { type: "keyUp", value: "\uE004" }] };
  const seen = [];
  for (let i = 0; i < 40; i++) {
    await win.wd("POST", "/actions", { actions: [tab] });
    const el = (await win.wd("GET", "/element/active"))[ELEMENT];
    const text = (await win.wd("GET", `/element/${el}/text`)).trim();
    seen.push(text || (await win.wd("GET", `/element/${el}/name`)));
    if (text === "Next") return;
  }
  assert.fail(`Next never received focus; focus went through: ${seen.join(" | ")}`);
});
