// Folds a deployment's events into what the live page shows. Pure, so a
// reload (history from events.jsonl) and the live stream give the same page.
import type { Phase, ProvisionEvent } from "../api";
import { appendLines, emptyLog, type LogLine, type LogList } from "./logList";

export type { LogLine } from "./logList";

export const PHASES: { id: Phase; title: string }[] = [
  { id: "preflight", title: "Preflight checks" },
  { id: "reserve_domain", title: "Reserve the domain" },
  { id: "tofu_init", title: "Prepare OpenTofu" },
  { id: "tofu_plan", title: "Plan the cloud resources" },
  { id: "tofu_apply", title: "Create the cloud resources" },
  { id: "dns_commit", title: "Point DNS at the load balancer" },
  { id: "cloud_init", title: "Install k3s, Cilium and Flux" },
  { id: "kubeconfig", title: "Fetch the kubeconfig" },
  { id: "bootstrap", title: "Install the platform components" },
  { id: "console", title: "Wait for the console" },
];

export type PhaseView = {
  state: "pending" | "running" | "done" | "failed" | "cancelled";
  startedAt?: number;
  durationS?: number;
  progress?: { done: number; total: number; label: string };
};

/** The cluster phases a multi-region run follows in every region at once. */
export const REGION_PHASES: Phase[] = ["cloud_init", "kubeconfig", "bootstrap"];

/** Where one region stands in one cluster phase. */
export type RegionPhaseView = {
  state: "running" | "done" | "failed" | "stopped";
  detail: string;
  progress?: { done: number; total: number; label: string };
};

/** One region of a multi-region run: its cluster phases and its components (names without the region). */
export type RegionView = {
  phases: Record<string, RegionPhaseView>;
  components: Map<string, { state: string; message: string }>;
};

export type RunView = {
  lastSeq: number;
  phases: Record<string, PhaseView>;
  resources: Map<string, { action: string; state: string; elapsed: number }>;
  components: Map<string, { state: string; message: string }>;
  /** By location, in the order the run first spoke of them; empty in a one-region run. */
  regions: Map<string, RegionView>;
  logs: LogList;
  failure: { phase: Phase; error: string; hint: string } | null;
  done: { consoleUrl: string } | null;
};

export function emptyRun(): RunView {
  return { lastSeq: 0, phases: {}, resources: new Map(), components: new Map(), regions: new Map(), logs: emptyLog, failure: null, done: null };
}

function regionState(s: string): RegionPhaseView["state"] {
  return s === "done" || s === "failed" || s === "stopped" ? s : "running";
}

/** A region's own component name: "hel1/cilium" is "cilium" in hel1's column. */
function ownName(name: string, region: string): string {
  return name.startsWith(`${region}/`) ? name.slice(region.length + 1) : name;
}

/** Applies events in seq order; events already applied are ignored (history + live overlap). */
export function applyEvents(prev: RunView, events: ProvisionEvent[]): RunView {
  const fresh = events.filter((e) => Number(e.seq) > prev.lastSeq);
  if (fresh.length === 0) return prev;
  const next: RunView = {
    ...prev,
    phases: { ...prev.phases },
    resources: new Map(prev.resources),
    components: new Map(prev.components),
    regions: new Map(prev.regions),
  };
  const touched = new Set<string>();
  const region = (loc: string): RegionView => {
    const had = next.regions.get(loc);
    if (had && touched.has(loc)) return had;
    // Copied once per batch, so a view handed out before stays as it was.
    const copy: RegionView = had ? { phases: { ...had.phases }, components: new Map(had.components) } : { phases: {}, components: new Map() };
    next.regions.set(loc, copy);
    touched.add(loc);
    return copy;
  };
  const lines: LogLine[] = [];
  for (const e of fresh) {
    next.lastSeq = Number(e.seq);
    const k = e.kind;
    if (e.region) {
      const r = region(e.region);
      const was = r.phases[e.phase];
      if (k.type === "region") {
        r.phases[e.phase] = { state: regionState(k.state), detail: k.detail, progress: k.state === "running" ? undefined : was?.progress };
        continue;
      }
      if (k.type === "progress") {
        r.phases[e.phase] = { state: was?.state ?? "running", detail: was?.detail ?? "", progress: { done: Number(k.done), total: Number(k.total), label: k.label } };
        continue;
      }
      if (k.type === "component") r.components.set(ownName(k.name, e.region), { state: k.state, message: k.message });
    }
    const p = (next.phases[e.phase] ??= { state: "pending" });
    switch (k.type) {
      case "phase_started":
        next.phases[e.phase] = { state: "running", startedAt: Date.parse(e.at) };
        if (next.failure?.phase === e.phase) next.failure = null;
        break;
      case "phase_finished":
        next.phases[e.phase] = { ...p, state: "done", durationS: k.duration_s };
        break;
      case "phase_failed":
        next.phases[e.phase] = { ...p, state: "failed" };
        next.failure = { phase: e.phase, error: k.error, hint: k.hint };
        lines.push({ seq: Number(e.seq), at: e.at, level: "error", source: "app", line: k.error });
        break;
      case "phase_cancelled":
        next.phases[e.phase] = { ...p, state: "cancelled" };
        break;
      case "progress":
        next.phases[e.phase] = { ...p, progress: { done: Number(k.done), total: Number(k.total), label: k.label } };
        break;
      case "resource":
        next.resources.set(k.address, { action: k.action, state: k.state, elapsed: k.elapsed_s });
        break;
      case "component":
        next.components.set(k.name, { state: k.state, message: k.message });
        break;
      case "log":
        lines.push({ seq: Number(e.seq), at: e.at, level: k.level, source: k.source, line: k.line });
        break;
      case "done":
        next.done = { consoleUrl: k.console_url };
        break;
      case "region":
        // Without a region it says nothing (region events carry one).
        break;
    }
  }
  next.logs = appendLines(prev.logs, lines);
  return next;
}
