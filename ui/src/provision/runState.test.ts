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

describe("applyEvents", () => {
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
