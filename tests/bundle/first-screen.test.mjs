// The INSTALLED app (the binary extracted from the .deb, path in CATALYST_BIN)
// reaches its first screen: started under Xvfb by tauri-driver +
// WebKitWebDriver, it must show step 1 of the wizard in demo mode, with the
// UI served from inside the binary. Prints the time from launch to that screen.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import assert from "node:assert/strict";

const app = process.env.CATALYST_BIN;
const shots = resolve(import.meta.dirname, "../e2e/artifacts");
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

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

async function until(what, fn, ms) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ""}`);
}

async function text(selector) {
  const el = await wd("POST", `/session/${session}/element`, { using: "css selector", value: selector });
  return wd("GET", `/session/${session}/element/${el[ELEMENT]}/text`);
}

after(async () => {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
  driver?.kill();
});

test("the installed binary opens on step 1 of the wizard, in demo mode", async (t) => {
  assert.ok(app, "CATALYST_BIN must name the installed binary");
  const port = await freePort();
  const nativePort = await freePort();
  base = `http://127.0.0.1:${port}`;
  const home = process.env.CATALYST_HOME ?? mkdtempSync(join(tmpdir(), "catalyst-bundle-"));
  driver = spawn(
    process.env.TAURI_DRIVER ?? "tauri-driver",
    ["--port", String(port), "--native-port", String(nativePort), "--native-driver", process.env.WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver"],
    { env: { ...process.env, CATALYST_HOME: home }, stdio: ["ignore", "inherit", "inherit"] },
  );
  await until("tauri-driver", async () => (await fetch(`${base}/status`)).ok, 20_000);

  const started = Date.now();
  const caps = { capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: app } } } };
  try {
    session = (await wd("POST", "/session", caps)).sessionId;
  } catch {
    // The first session on a fresh machine was once reset by WebKitWebDriver.
    session = (await wd("POST", "/session", caps)).sessionId;
  }
  await until("step 1", async () => (await text("#step-title")) === "Organisation", 60_000);
  const ms = Date.now() - started;
  t.diagnostic(`first screen after ${(ms / 1000).toFixed(1)} s (launch to step 1 shown)`);
  console.log(`bundle: installed app showed its first screen ${(ms / 1000).toFixed(1)} s after launch`);

  assert.equal(await text(".step-count"), "Step 1 of 7");
  assert.match(await text("[data-testid=demo-banner]"), /nothing real is created/);
  // Served by the binary itself over the custom protocol, not a dev server.
  const url = await wd("GET", `/session/${session}/url`);
  assert.match(url, /^tauri:\/\/localhost(\/|$)/, `the installed app loaded ${url}`);

  mkdirSync(shots, { recursive: true });
  const png = await wd("GET", `/session/${session}/screenshot`);
  writeFileSync(join(shots, "bundle-step1.png"), Buffer.from(png, "base64"));
});
