// The real window: the debug build of the app under Xvfb, driven through
// tauri-driver and WebKitWebDriver (W3C WebDriver over HTTP, no client library).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import yaml from "js-yaml";
import { ELEMENT, screenshot, startWindow, until } from "./webdriver.mjs";

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
  // The default size fits a 1366×768 laptop screen with its panel.
  const rect = await win.wd("GET", "/window/rect");
  assert.ok(rect.width <= 1366 && rect.height <= 728, `the window opens at ${rect.width}×${rect.height}`);
  const colours = screenshot(join(shots, "window-step1.png"));
  assert.ok(colours >= 16, `the screen holds ${colours} colours: the window did not paint`);
});

// Accelerated compositing cost ~100 MB idle and most of a big log's growth
// (adapters/tauri.rs): the app turns it off, and logs what WebKit holds after.
test("the window paints without accelerated compositing", async () => {
  const logs = join(win.home, "logs");
  const policy = await until("the policy in the app's log", () => {
    for (const f of readdirSync(logs)) {
      for (const line of readFileSync(join(logs, f), "utf8").split("\n")) {
        if (!line.includes("hardware acceleration policy")) continue;
        return JSON.parse(line).fields.policy;
      }
    }
    return undefined;
  }, 20_000);
  assert.equal(policy, "Never");
  // And from process start (the policy alone came late and cost start-up):
  // WebKit's web process inherits the switch the app set in main().
  const webProcesses = readdirSync("/proc").filter((p) => /^\d+$/.test(p)).flatMap((pid) => {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("WebKitWebProcess")) return [];
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      return env.includes(`CATALYST_HOME=${win.home}`) ? [env] : [];
    } catch {
      return []; // gone, or not ours
    }
  });
  assert.ok(webProcesses.length > 0, "no WebKitWebProcess of this window found");
  for (const env of webProcesses) assert.ok(env.includes("WEBKIT_DISABLE_COMPOSITING_MODE=1"), "compositing was not off from the start");
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

// The window's event path (an IPC channel, not Tauri events): subscribed the
// way the page's transport does, the whole of a demo run arrives, in order.
// It takes the page's channel over: only tests that need no page events follow.
test("a demo run's events reach the window through the event channel, in order", async () => {
  const answers = yaml.load(readFileSync(join(root, "examples/answers.demo.yaml"), "utf8"));
  await win.wd("POST", "/timeouts", { script: 120_000 });
  const got = await win.wd("POST", "/execute/async", {
    script: `const [answers, done] = arguments;
      const T = window.__TAURI_INTERNALS__;
      const seqs = [];
      let batches = 0;
      const cb = T.transformCallback((raw) => {
        const batch = raw && typeof raw === "object" && "message" in raw ? raw.message : raw;
        if (!Array.isArray(batch)) return done({ error: "not a batch: " + JSON.stringify(raw).slice(0, 200) });
        batches++;
        for (const e of batch) {
          seqs.push(Number(e.seq));
          if (e.kind.type === "done") done({ seqs, batches });
          if (e.kind.type === "phase_failed") done({ error: e.kind.error });
        }
      });
      T.invoke("events_subscribe", { channel: "__CHANNEL__:" + cb })
        .then(() => T.invoke("api", { call: { cmd: "provision_start", args: { answers, scenario: null, speed: 60 } } }))
        .catch((e) => done({ error: JSON.stringify(e) }));`,
    args: [answers],
  });
  assert.equal(got.error, undefined, got.error);
  assert.ok(got.seqs.length > 40, `only ${got.seqs.length} events`);
  assert.deepEqual(got.seqs, Array.from({ length: got.seqs.length }, (_, i) => i + 1), "every event once, in seq order");
});

// The native "Save as…" dialog (rfd, GTK) for real: asked for the demo run's
// event log with no path, the app opens it; xdotool types a path into it
// through the X server as a person would, and the file is written there.
test("Export event log opens the native Save dialog and writes where the operator typed", async () => {
  const out = join(mkdtempSync(join(tmpdir(), "catalyst-save-")), "events typed here.jsonl");
  const runs = await win.wd("POST", "/execute/async", {
    script: `const done = arguments[0];
      window.__TAURI_INTERNALS__.invoke("api", { call: { cmd: "deployments_list" } }).then(done, (e) => done({ error: e }));`,
    args: [],
  });
  assert.ok(Array.isArray(runs) && runs.length > 0, `no deployment to export: ${JSON.stringify(runs)}`);
  const exported = win.wd("POST", "/execute/async", {
    script: `const [id, done] = arguments;
      window.__TAURI_INTERNALS__.invoke("api", { call: { cmd: "deployment_events_export", args: { id, path: null } } }).then(done, (e) => done({ error: e }));`,
    args: [runs[0].id],
  });
  const x = (...args) => execFileSync("xdotool", args, { encoding: "utf8", timeout: 10_000 });
  // Found by name it may not be mapped yet, and focusing an unmapped window is
  // an X error (BadMatch): wait until it is visible and takes the focus.
  await until("the Save dialog, shown and focused", () => {
    const dialog = x("search", "--onlyvisible", "--name", "^Export the event log$").trim().split("\n")[0];
    x("windowfocus", "--sync", dialog);
    return dialog;
  }, 20_000);
  x("key", "--clearmodifiers", "ctrl+a");
  x("type", "--delay", "20", out);
  x("key", "Return");
  const got = await exported;
  assert.equal(got.error, undefined, JSON.stringify(got.error));
  assert.equal(got.path, out);
  const lines = readFileSync(out, "utf8").trim().split("\n");
  assert.equal(lines.length, got.events + 1, "a header line and one line per event");
  assert.equal(statSync(out).mode & 0o777, 0o600, "written for the operator only");
});
