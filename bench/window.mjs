// The window figures of bench/run.sh, run under Xvfb. Prints one JSON line.
//
//   node bench/window.mjs start --bin BIN [--runs N] [--idle-ms MS]
//     Starts BIN (the app or the bare window) N times with a fresh
//     CATALYST_HOME and CATALYST_BENCH_MARK=1; start-up = spawn → the
//     "first-paint" mark the page reports (ui/src/benchMark.ts), read from
//     the process's stdout. MS later, RSS and PSS of its process tree.
//   node bench/window.mjs biglog --bin APP --answers JSON --lines N
//     Opens the app through WebKitWebDriver (only to drive it: start a demo
//     run and open its live page), with CATALYST_DEMO_LOG_LINES=N so the run
//     streams N extra log lines; measures the tree idle on step 1, then once
//     the page shows every line.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, until } from "../tests/e2e/webdriver.mjs";

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : dflt;
};
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const nowMs = () => performance.timeOrigin + performance.now();

/** pid → ppid for every process. */
function parents() {
  const map = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      // The command name may hold spaces or parentheses: ppid follows the last ')'.
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      map.set(Number(d), Number(rest[1]));
    } catch {
      // gone meanwhile
    }
  }
  return map;
}

function descendants(root) {
  const pp = parents();
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [p, parent] of pp) if (parent === out[i]) out.push(p);
  return out;
}

/** RSS and PSS (kB) summed over a process and all its descendants (WebKit's processes). */
function treeMem(root) {
  let rss = 0;
  let pss = 0;
  const names = [];
  const byProc = {};
  for (const p of descendants(root)) {
    try {
      const t = readFileSync(`/proc/${p}/smaps_rollup`, "utf8");
      rss += Number(/^Rss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
      const one = Number(/^Pss:\s+(\d+)/m.exec(t)?.[1] ?? 0);
      pss += one;
      const name = readFileSync(`/proc/${p}/comm`, "utf8").trim();
      names.push(name);
      byProc[name] = (byProc[name] ?? 0) + one;
    } catch {
      // gone meanwhile, or a kernel thread without smaps
    }
  }
  return { rss_kb: rss, pss_kb: pss, procs: names, pss_kb_by_proc: byProc };
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

async function stop(child) {
  const exited = new Promise((ok) => (child.exitCode !== null || child.signalCode !== null ? ok() : child.once("exit", ok)));
  killGroup(child.pid, "SIGTERM");
  const gone = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
  killGroup(child.pid, "SIGKILL");
  if (!gone) await exited;
}

async function startOnce(bin, idleMs) {
  const home = mkdtempSync(join(tmpdir(), "catalyst-bench-home-"));
  const err = openSync(join(home, "stderr.log"), "w");
  const t0 = nowMs();
  const child = spawn(bin, [], {
    env: { ...process.env, CATALYST_HOME: home, CATALYST_BENCH_MARK: "1" },
    stdio: ["ignore", "pipe", err],
    detached: true, // its own process group: the app and WebKit's processes end together
  });
  try {
    const markNs = await new Promise((ok, fail) => {
      let buf = "";
      const timer = setTimeout(() => fail(new Error(`${bin}: no first-paint mark in 60 s`)), 60_000);
      child.stdout.on("data", (d) => {
        buf += d;
        const m = /CATALYST_BENCH_MARK first-paint (\d+)/.exec(buf);
        if (m) {
          clearTimeout(timer);
          ok(BigInt(m[1]));
        }
      });
      child.once("exit", (code) => fail(new Error(`${bin} exited (${code}) before the mark; see ${home}/stderr.log`)));
    });
    const ms = Number(markNs / 1000n) / 1000 - t0;
    await sleep(idleMs);
    const mem = treeMem(child.pid);
    await stop(child);
    rmSync(home, { recursive: true, force: true });
    return { start_ms: ms, ...mem };
  } catch (e) {
    await stop(child);
    throw e;
  }
}

async function biglog(app, answers, lines) {
  const home = mkdtempSync(join(tmpdir(), "catalyst-bench-biglog-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = openSync(join(home, "webdriver.log"), "w");
  // WebKitWebDriver starts the app as its child; Tauri allows automation
  // only with TAURI_WEBVIEW_AUTOMATION=true.
  const driver = spawn(process.env.WEBKIT_DRIVER ?? "WebKitWebDriver", [`--port=${port}`], {
    env: { ...process.env, TAURI_WEBVIEW_AUTOMATION: "true", CATALYST_HOME: home, CATALYST_DEMO_LOG_LINES: String(lines) },
    stdio: ["ignore", log, log],
    detached: true,
  });
  const wd = async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(Number(process.env.BENCH_WD_TIMEOUT_MS ?? 60_000)),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
    return json.value;
  };
  try {
    await until("WebKitWebDriver", async () => (await fetch(`${base}/status`)).ok, 20_000);
    const caps = { capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: app, args: [] } } } };
    const session = (await wd("POST", "/session", caps)).sessionId;
    const exec = (script, args = []) => wd("POST", `/session/${session}/execute/sync`, { script, args });
    const execAsync = (script, args = []) => wd("POST", `/session/${session}/execute/async`, { script, args });
    await until("wizard step 1", () => exec("return !!document.querySelector('form.step #step-title')"), 60_000);
    const appPid = descendants(driver.pid).find((p) => {
      try {
        return readlinkSync(`/proc/${p}/exe`) === resolve(app);
      } catch {
        return false;
      }
    });
    if (!appPid) throw new Error("the app's process was not found under WebKitWebDriver");
    await sleep(3000);
    const idle = treeMem(appPid);
    const started = Date.now();
    const id = await execAsync(
      `const [answers, done] = arguments;
       window.__TAURI_INTERNALS__.invoke("api", { call: { cmd: "provision_start", args: { answers, scenario: null, speed: 60 } } })
         .then((s) => { window.location.hash = "#/run/" + s.id; done(s.id); }, (e) => done("ERROR " + JSON.stringify(e)));`,
      [answers],
    );
    if (String(id).startsWith("ERROR")) throw new Error(`provision_start: ${id}`);
    let total = 0;
    let status = "running";
    let peak = { rss_kb: 0, pss_kb: 0 };
    let answered = 0;
    const limitS = Number(process.env.BENCH_BIGLOG_TIMEOUT_S ?? 600);
    const deadline = Date.now() + limitS * 1000;
    // While the page is busy a script may wait long for its turn: a poll that
    // times out is retried; memory is sampled meanwhile (peak).
    const poll = (script, args) => Promise.race([execAsync(script, args).catch(() => undefined), sleep(10_000).then(() => undefined)]);
    while (Date.now() < deadline) {
      const m = treeMem(appPid);
      if (m.pss_kb > peak.pss_kb) peak = { rss_kb: m.rss_kb, pss_kb: m.pss_kb };
      const got = await poll(
        `const [id, done] = arguments;
         const c = document.querySelector('[data-testid=log-count]');
         window.__TAURI_INTERNALS__.invoke("api", { call: { cmd: "deployment_get", args: { id } } })
           .then((r) => done([r.status, c ? c.textContent : ""]), () => done(["error", ""]));`,
        [id],
      );
      if (got) {
        answered++;
        status = got[0];
        const t = /(\d+) of (\d+) lines/.exec(got[1]);
        if (t) total = Number(t[2]);
        if (status !== "running" && total >= lines) break;
      }
      await sleep(1000);
    }
    const drainS = (Date.now() - started) / 1000;
    await sleep(5000);
    const after = treeMem(appPid);
    const settle = [];
    for (let i = 0; i < Number(process.env.BENCH_SETTLE_SAMPLES ?? 0); i++) {
      await sleep(5000);
      settle.push(treeMem(appPid).pss_kb_by_proc);
    }
    await wd("DELETE", `/session/${session}`).catch(() => {});
    const finished = total >= lines && status !== "running";
    return { lines_asked: lines, lines_shown: total, finished, limit_s: limitS, status, seconds_to_show: drainS, polls_answered: answered, idle, peak, after, settle };
  } finally {
    await stop(driver);
    rmSync(home, { recursive: true, force: true });
  }
}

const mode = argv[0];
if (mode === "start") {
  const bin = opt("--bin");
  const runs = Number(opt("--runs", "5"));
  const idleMs = Number(opt("--idle-ms", "3000"));
  const out = [];
  for (let i = 0; i < runs; i++) out.push(await startOnce(bin, idleMs));
  console.log(JSON.stringify({ bin, runs: out }));
} else if (mode === "biglog") {
  const answers = JSON.parse(readFileSync(opt("--answers"), "utf8"));
  console.log(JSON.stringify(await biglog(opt("--bin"), answers, Number(opt("--lines", "100000")))));
} else {
  console.error("usage: node bench/window.mjs start|biglog ...");
  process.exit(2);
}
