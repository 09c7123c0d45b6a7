import { describe, expect, it } from "vitest";
import type { ProvisionEvent } from "../api";
import { toArray } from "./logList";
import { applyEvents, emptyRun } from "./runState";

const ev = (seq: number, phase: ProvisionEvent["phase"], kind: ProvisionEvent["kind"]): ProvisionEvent => ({
  deployment_id: "d",
  seq,
  at: "2026-11-22T00:00:00Z",
  phase,
  kind,
});

const inRegion = (region: string, e: ProvisionEvent): ProvisionEvent => ({ ...e, region });

describe("applyEvents", () => {
  it("keeps each region's cluster phases and components apart, the phase's own progress untouched", () => {
    const first = applyEvents(emptyRun(), [
      ev(1, "cloud_init", { type: "phase_started" }),
      inRegion("fsn1", ev(2, "cloud_init", { type: "region", state: "running", detail: "Following cloud-init" })),
      inRegion("hel1", ev(3, "cloud_init", { type: "region", state: "running", detail: "Following cloud-init" })),
      inRegion("hel1", ev(4, "cloud_init", { type: "progress", done: 2, total: 4, label: "[hel1] stage" })),
      inRegion("hel1", ev(5, "cloud_init", { type: "region", state: "failed", detail: "In region 2 (hel1): cloud-init failed" })),
      inRegion("fsn1", ev(6, "cloud_init", { type: "region", state: "stopped", detail: "Stopped: region 2 failed." })),
    ]);
    expect([...first.regions.keys()]).toEqual(["fsn1", "hel1"]);
    expect(first.regions.get("hel1")?.phases.cloud_init).toMatchObject({ state: "failed", progress: { done: 2, total: 4 } });
    expect(first.regions.get("fsn1")?.phases.cloud_init).toMatchObject({ state: "stopped", detail: "Stopped: region 2 failed." });
    expect(first.phases.cloud_init?.progress).toBeUndefined();
    const hel1Before = first.regions.get("hel1");

    const next = applyEvents(first, [
      inRegion("fsn1", ev(7, "bootstrap", { type: "component", name: "cilium", state: "installed", message: "" })),
      inRegion("hel1", ev(8, "bootstrap", { type: "component", name: "hel1/cilium", state: "installing", message: "" })),
    ]);
    expect(next.regions.get("hel1")?.components.get("cilium")?.state).toBe("installing");
    expect(next.regions.get("fsn1")?.components.get("cilium")?.state).toBe("installed");
    expect(next.components.get("hel1/cilium")?.state).toBe("installing");
    // A view handed out before is not changed by a later batch.
    expect(hel1Before?.components.size).toBe(0);
  });

  it("shows a cancelled phase as cancelled, not as running", () => {
    const r = applyEvents(emptyRun(), [ev(1, "tofu_apply", { type: "phase_started" }), ev(2, "tofu_apply", { type: "phase_cancelled" })]);
    expect(r.phases.tofu_apply?.state).toBe("cancelled");
    expect(r.failure).toBeNull();
  });

  it("folds phases, resources, components, logs and the end", () => {
    const r = applyEvents(emptyRun(), [
      ev(1, "preflight", { type: "phase_started" }),
      ev(2, "preflight", { type: "progress", done: 1, total: 2, label: "token" }),
      ev(3, "preflight", { type: "phase_finished", duration_s: 1.5 }),
      ev(4, "tofu_apply", { type: "resource", address: "hcloud_server.cp", action: "create", state: "created", elapsed_s: 3 }),
      ev(5, "bootstrap", { type: "component", name: "cilium", state: "installed", message: "" }),
      ev(6, "bootstrap", { type: "log", level: "warn", source: "flux", line: "slow" }),
      ev(7, "done", { type: "done", console_url: "https://console.x" }),
    ]);
    expect(r.phases.preflight).toMatchObject({ state: "done", durationS: 1.5 });
    expect(r.resources.get("hcloud_server.cp")?.state).toBe("created");
    expect(r.components.get("cilium")?.state).toBe("installed");
    expect(toArray(r.logs).map((l) => l.line)).toEqual(["slow"]);
    expect(r.done?.consoleUrl).toBe("https://console.x");
    expect(r.lastSeq).toBe(7);
  });

  it("ignores events it already applied, so history and live can overlap", () => {
    const a = applyEvents(emptyRun(), [ev(1, "preflight", { type: "log", level: "info", source: "s", line: "one" })]);
    const b = applyEvents(a, [ev(1, "preflight", { type: "log", level: "info", source: "s", line: "one" }), ev(2, "preflight", { type: "log", level: "info", source: "s", line: "two" })]);
    expect(toArray(b.logs).map((l) => l.line)).toEqual(["one", "two"]);
    expect(applyEvents(b, [])).toBe(b);
  });

  it("a failure shows until the phase starts again (retry)", () => {
    let r = applyEvents(emptyRun(), [ev(1, "tofu_apply", { type: "phase_started" }), ev(2, "tofu_apply", { type: "phase_failed", error: "quota", hint: "raise it" })]);
    expect(r.failure?.error).toBe("quota");
    expect(r.phases.tofu_apply?.state).toBe("failed");
    r = applyEvents(r, [ev(3, "tofu_apply", { type: "phase_started" })]);
    expect(r.failure).toBeNull();
    expect(r.phases.tofu_apply?.state).toBe("running");
  });
});
