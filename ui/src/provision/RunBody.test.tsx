import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { ProvisionEvent } from "../api";
import { RunBody } from "./RunBody";
import { applyEvents, emptyRun } from "./runState";

// jsdom has no ResizeObserver; the log view only sizes itself with it.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

const ev = (seq: number, phase: ProvisionEvent["phase"], kind: ProvisionEvent["kind"], region?: string): ProvisionEvent => ({
  deployment_id: "d-1",
  seq,
  at: "2026-11-22T10:00:00Z",
  phase,
  region,
  kind,
});

describe("RunBody", () => {
  it("shows a multi-region run's regions side by side, each with its own components", () => {
    const run = applyEvents(emptyRun(), [
      ev(1, "cloud_init", { type: "phase_started" }),
      ev(2, "cloud_init", { type: "region", state: "done", detail: "cloud-init finished after 212 s (23 log lines)." }, "fsn1"),
      ev(3, "cloud_init", { type: "region", state: "running", detail: "Following cloud-init" }, "hel1"),
      ev(4, "cloud_init", { type: "progress", done: 3, total: 4, label: "[hel1] stage modules-config" }, "hel1"),
      ev(5, "bootstrap", { type: "component", name: "cilium", state: "installed", message: "" }, "fsn1"),
      ev(6, "bootstrap", { type: "component", name: "hel1/cilium", state: "pending", message: "" }, "hel1"),
    ]);
    render(<RunBody run={run} now={Date.parse("2026-11-22T10:01:00Z")} />);
    const table = screen.getByTestId("regions");
    expect(within(table).getAllByRole("columnheader").map((h) => h.textContent)).toEqual(["Phase", "Region 1 · fsn1", "Region 2 · hel1"]);
    expect(screen.getByTestId("region-fsn1-cloud_init").dataset.state).toBe("done");
    expect(screen.getByTestId("region-hel1-cloud_init").dataset.state).toBe("running");
    expect(screen.getByRole("progressbar", { name: "hel1, Install k3s, Cilium and Flux: [hel1] stage modules-config" })).toBeTruthy();
    expect(screen.getByTestId("region-hel1-bootstrap").dataset.state).toBe("pending");
    const hel1 = screen.getByRole("region", { name: "Components in hel1" });
    expect(within(hel1).getByText("0 of 1 installed", { exact: false })).toBeTruthy();
    expect(within(hel1).getByTestId("comp-hel1/cilium").textContent).toContain("cilium");
    const fsn1 = screen.getByRole("region", { name: "Components in fsn1" });
    expect(within(fsn1).getByTestId("comp-cilium").textContent).toContain("installed");
  });

  it("shows no regions table for a one-region run", () => {
    const run = applyEvents(emptyRun(), [ev(1, "cloud_init", { type: "phase_started" })]);
    render(<RunBody run={run} now={0} />);
    expect(screen.queryByTestId("regions")).toBeNull();
  });
});
