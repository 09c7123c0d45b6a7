// The real window: the debug build of the app under Xvfb, driven through
// tauri-driver and WebKitWebDriver (W3C WebDriver over HTTP, no client library).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";

const root = resolve(import.meta.dirname, "../..");
const app = process.env.CATALYST_BIN ?? join(root, "target/debug/catalyst-provisioner");
const shots = join(import.meta.dirname, "artifacts");
mkdirSync(shots, { recursive: true });

const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

let driver;
let base;
let session;

async function wd(method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
  return json.value;
}

async function until(what, fn, ms = 30_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

before(async () => {
  const port = await freePort();
  const nativePort = await freePort();
  base = `http://127.0.0.1:${port}`;
  const home = mkdtempSync(join(tmpdir(), "catalyst-window-"));
  driver = spawn(
    process.env.TAURI_DRIVER ?? "tauri-driver",
    ["--port", String(port), "--native-port", String(nativePort), "--native-driver", process.env.WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver"],
    { env: { ...process.env, CATALYST_HOME: home }, stdio: ["ignore", "inherit", "inherit"] },
  );
  await until("tauri-driver", async () => (await fetch(`${base}/status`)).ok, 20_000);
  // The very first session on a fresh machine was once reset by WebKitWebDriver: retry once.
  const caps = { capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: app } } } };
  try {
    session = (await wd("POST", "/session", caps)).sessionId;
  } catch {
    session = (await wd("POST", "/session", caps)).sessionId;
  }
});

after(async () => {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  driver?.kill();
});

test("the window opens on step 1 of the wizard, in demo mode", async () => {
  const heading = await until("step 1", async () => {
    const el = await wd("POST", `/session/${session}/element`, { using: "css selector", value: "#step-title" });
    const text = await wd("GET", `/session/${session}/element/${el[ELEMENT]}/text`);
    return text === "Organisation" ? el : null;
  });
  assert.ok(heading);
  const count = await wd("POST", `/session/${session}/element`, { using: "css selector", value: ".step-count" });
  assert.equal(await wd("GET", `/session/${session}/element/${count[ELEMENT]}/text`), "Step 1 of 7");
  const banner = await wd("POST", `/session/${session}/element`, { using: "css selector", value: "[data-testid=demo-banner]" });
  assert.match(await wd("GET", `/session/${session}/element/${banner[ELEMENT]}/text`), /nothing real is created/);
  const png = await wd("GET", `/session/${session}/screenshot`);
  writeFileSync(join(shots, "window-step1.png"), Buffer.from(png, "base64"));
});

test("Next is reachable with the keyboard alone", async () => {
  const tab = { type: "key", id: "kbd", actions: [{ type: "keyDown", value: "\uE004" }, { type: "keyUp", value: "\uE004" }] };
  const seen = [];
  for (let i = 0; i < 40; i++) {
    await wd("POST", `/session/${session}/actions`, { actions: [tab] });
    const el = await wd("GET", `/session/${session}/element/active`);
    const text = (await wd("GET", `/session/${session}/element/${el[ELEMENT]}/text`)).trim();
    seen.push(text || (await wd("GET", `/session/${session}/element/${el[ELEMENT]}/name`)));
    if (text === "Next") return;
  }
  assert.fail(`Next never received focus; focus went through: ${seen.join(" | ")}`);
});
