import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setTransport, type ProvisionEvent, type Replay, type Transport } from "../api";
import { ReplayPage } from "./ReplayPage";

// jsdom has no ResizeObserver; the log view only sizes itself with it.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

const ev = (seq: number, phase: ProvisionEvent["phase"], kind: ProvisionEvent["kind"]): ProvisionEvent => ({
  deployment_id: "d-1",
  seq,
  at: `2026-11-22T10:00:0${seq}Z`,
  phase,
  kind,
});

const REPLAY: Replay = {
  header: {
    format: "catalyst-provisioner/event-log",
    version: 1,
    recorded_at: "2026-11-22T10:00:00Z",
    exported_at: "2026-11-22T11:00:00Z",
    fqdn: "rec.omani.works",
    app_version: "0.1.0",
    demo: true,
    status: "failed",
    events: 3,
  },
  speed: 10,
  events: [
    ev(1, "tofu_apply", { type: "phase_started" }),
    ev(2, "tofu_apply", { type: "log", level: "error", source: "tofu", line: "server limit" }),
    ev(3, "tofu_apply", { type: "phase_failed", error: "quota reached", hint: "raise the limit" }),
  ],
  offsets_ms: [0, 20, 40],
};

describe("ReplayPage", () => {
  it("plays the recorded events read-only under the replay banner", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    const t: Transport = {
      kind: "tauri",
      call: (cmd, args) => {
        calls.push({ cmd, args });
        return Promise.resolve(REPLAY);
      },
      listen: () => () => {},
    };
    setTransport(t);
    render(<ReplayPage />);
    const file = new File(['{"format":"catalyst-provisioner/event-log"}\n'], "run.events.jsonl");
    await userEvent.upload(screen.getByLabelText("Event log"), file);
    await userEvent.selectOptions(screen.getByLabelText("Speed"), "30");
    await userEvent.click(screen.getByRole("button", { name: "Play" }));
    await waitFor(() => expect(screen.getByTestId("replay-banner").textContent).toContain("event 3 of 3"));
    const banner = screen.getByTestId("replay-banner").textContent;
    expect(banner).toContain("Replay — recorded on");
    expect(banner).toContain("the run was failed when exported");
    expect(screen.getByText("The recorded run failed here")).toBeTruthy();
    expect(screen.getByTestId("phase-tofu_apply").dataset.state).toBe("failed");
    // The file's text went to the engine with the chosen speed; nothing else was called.
    expect(calls).toEqual([{ cmd: "replay_load", args: { text: '{"format":"catalyst-provisioner/event-log"}\n', path: null, speed: 30 } }]);
    // Read-only: the recorded failure offers no action.
    for (const name of [/retry/i, /resume/i, /wipe/i, /cancel/i]) {
      expect(screen.queryByRole("button", { name })).toBeNull();
    }
  });
});
