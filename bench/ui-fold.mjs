// Why the live page falls behind a big log: times the page's event fold
// (ui/src/provision/runState.ts applyEvents) over N log events applied one
// call per event, as ProvisionPage does for live events, and in batches of
// 1 000. Usage: node bench/ui-fold.mjs COMPILED_RUNSTATE_JS N. Prints JSON.
import { pathToFileURL } from "node:url";

const [file, n] = [process.argv[2], Number(process.argv[3] ?? 20000)];
const { applyEvents, emptyRun } = await import(pathToFileURL(file).href);
const ev = (seq) => ({
  deployment_id: "d",
  seq,
  at: "2026-11-23T00:00:00Z",
  phase: "cloud_init",
  kind: { type: "log", level: "info", source: "cloud-init", line: `line ${seq}` },
});
const all = Array.from({ length: n }, (_, i) => ev(i + 1));
let r = emptyRun();
let t = performance.now();
for (const e of all) r = applyEvents(r, [e]);
const oneByOne = performance.now() - t;
r = emptyRun();
t = performance.now();
for (let i = 0; i < n; i += 1000) r = applyEvents(r, all.slice(i, i + 1000));
const batched = performance.now() - t;
console.log(JSON.stringify({ events: n, one_by_one_ms: oneByOne, batches_of_1000_ms: batched }));
