import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { setTransport, type DeploymentRecord, type ProvisionEvent, type Transport, type WizardAnswers } from "../api";
import { ProvisionPage } from "./ProvisionPage";

// jsdom has no ResizeObserver; the log view only sizes itself with it.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

const record = (status: DeploymentRecord["status"]): DeploymentRecord => ({
  id: "d-1",
  fqdn: "acme.omani.works",
  demo: { scenario: "happy_path", speed: 1, seed: 1 },
  created_at: "2026-12-03T10:00:00Z",
  updated_at: "2026-12-03T10:00:00Z",
  status,
  phase: "preflight",
  completed: [],
  answers: {} as WizardAnswers,
  outputs: { console_url: null, gitea_url: null, load_balancer_ips: [], control_plane_ips: [], kubeconfig_path: null, delegation: null, regions: [] },
  failure: null,
  engine: null,
});

const ev = (seq: number, kind: ProvisionEvent["kind"]): ProvisionEvent => ({
  deployment_id: "d-1",
  seq,
  at: "2026-12-03T10:00:00Z",
  phase: "preflight",
  kind,
});

describe("ProvisionPage", () => {
  it("reads the record again until it agrees with a run its events say was cancelled", async () => {
    // The run writes its last event before its record: the first reads after
    // phase_cancelled still say running.
    let reads = 0;
    let onEvent: ((e: ProvisionEvent) => void) | null = null;
    const t: Transport = {
      kind: "tauri",
      call: (cmd) => {
        if (cmd === "deployment_events") return Promise.resolve([ev(1, { type: "phase_started" })]);
        if (cmd === "deployment_get") {
          reads += 1;
          return Promise.resolve(record(reads < 4 ? "running" : "cancelled"));
        }
        return Promise.reject(new Error(`unexpected ${cmd}`));
      },
      listen: (_name, f) => {
        onEvent = f as (e: ProvisionEvent) => void;
        return () => {};
      },
    };
    setTransport(t);
    render(<ProvisionPage id="d-1" onBack={() => {}} />);
    await waitFor(() => expect(screen.getByTestId("run-status").textContent).toBe("running"));
    onEvent!(ev(2, { type: "phase_cancelled" }));
    await waitFor(() => expect(screen.getByTestId("run-status").textContent).toBe("cancelled"), { timeout: 3000 });
    expect(screen.getByTestId("stopped-card")).toBeTruthy();
    expect(reads).toBeGreaterThanOrEqual(4);
  });

  it("opens the console of a live Sovereign with its signed link, in the browser when the app could not", async () => {
    const done = { ...record("done"), demo: null, outputs: { ...record("done").outputs, console_url: "https://console.acme.omani.works" } };
    const calls: string[] = [];
    const t: Transport = {
      kind: "bridge",
      call: (cmd) => {
        calls.push(cmd);
        if (cmd === "deployment_events") return Promise.resolve([ev(1, { type: "done", console_url: "https://console.acme.omani.works" })]);
        if (cmd === "deployment_get") return Promise.resolve(done);
        if (cmd === "deployment_console_open")
          return Promise.resolve({
            console: "https://console.acme.omani.works",
            url: "https://console.acme.omani.works/auth/handover?token=a.b.c",
            opened: false,
            expires_at: "2026-12-03T10:05:00Z",
          });
        return Promise.reject(new Error(`unexpected ${cmd}`));
      },
      listen: () => () => {},
    };
    setTransport(t);
    const open = vi.spyOn(window, "open").mockImplementation(() => null);
    render(<ProvisionPage id="d-1" onBack={() => {}} />);
    await userEvent.click(await screen.findByRole("button", { name: "Open console" }));
    await waitFor(() => expect(open).toHaveBeenCalledWith("https://console.acme.omani.works/auth/handover?token=a.b.c", "_blank", "noopener,noreferrer"));
    expect(screen.getByTestId("handover-note").textContent).toContain("The sign-in link works once");
    open.mockRestore();
  });
});
