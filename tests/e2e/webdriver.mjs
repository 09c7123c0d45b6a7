// A minimal W3C WebDriver client for the real-window suites: starts
// tauri-driver (which drives WebKitWebDriver), opens a session on the app
// binary, and offers the few commands the specs use. No client library.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export const freePort = () =>
  new Promise((ok) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });

/** Retries `fn` until it returns something truthy, or fails after `ms`. */
export async function until(what, fn, ms = 30_000) {
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

/**
 * The X screen as a PNG (ImageMagick's `import`), and how many colours it
 * holds. Not WebDriver's screenshot: WebKitWebDriver takes it from a
 * compositing frame, and the app paints without compositing
 * (adapters/tauri.rs), so that call waited out its 60 s. The screen shows
 * what the operator sees; a window that painted nothing is one or two colours.
 */
export function screenshot(file) {
  execFileSync("import", ["-window", "root", file], { timeout: 30_000 });
  return Number(execFileSync("identify", ["-format", "%k", file], { encoding: "utf8" }));
}

/** Starts tauri-driver with the app binary under a throw-away CATALYST_HOME. */
export async function startWindow(app, home = mkdtempSync(join(tmpdir(), "catalyst-window-"))) {
  const port = await freePort();
  const nativePort = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // Its own process group (detached), so stop() can end the driver, WebKitWebDriver
  // and the app together; output to a log file, never our stdout: a survivor
  // holding the test runner's pipe kept a CI run from ever finishing.
  const logDir = join(import.meta.dirname, "artifacts");
  mkdirSync(logDir, { recursive: true });
  const log = openSync(join(logDir, `tauri-driver-${port}.log`), "w");
  const driver = spawn(
    process.env.TAURI_DRIVER ?? "tauri-driver",
    ["--port", String(port), "--native-port", String(nativePort), "--native-driver", process.env.WEBKIT_DRIVER ?? "/usr/bin/WebKitWebDriver"],
    { env: { ...process.env, CATALYST_HOME: home }, stdio: ["ignore", log, log], detached: true },
  );
  const exited = new Promise((ok) => driver.once("exit", ok));
  const killGroup = (signal) => {
    try {
      process.kill(-driver.pid, signal);
    } catch {
      // already gone
    }
  };
  const wd = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
    return json.value;
  };
  const caps = { capabilities: { alwaysMatch: { browserName: "wry", "tauri:options": { application: app } } } };
  let session;
  try {
    await until("tauri-driver", async () => (await fetch(`${base}/status`)).ok, 20_000);
    try {
      session = (await wd("POST", "/session", caps)).sessionId;
    } catch {
      // The first session on a fresh machine was once reset by WebKitWebDriver: retry once.
      session = (await wd("POST", "/session", caps)).sessionId;
    }
  } catch (e) {
    killGroup("SIGKILL");
    throw e;
  }
  const s = (path) => `/session/${session}${path}`;
  const find = async (selector) => (await wd("POST", s("/element"), { using: "css selector", value: selector }))[ELEMENT];
  return {
    home,
    wd: (method, path, body) => wd(method, s(path), body),
    find,
    text: async (selector) => wd("GET", s(`/element/${await find(selector)}/text`)),
    stop: async () => {
      await wd("DELETE", s("")).catch(() => {});
      killGroup("SIGTERM");
      const gone = await Promise.race([exited.then(() => true), new Promise((ok) => setTimeout(() => ok(false), 3000))]);
      // WebKitWebDriver or the app may outlive tauri-driver: end the group for sure.
      killGroup("SIGKILL");
      if (!gone) await exited;
    },
  };
}
