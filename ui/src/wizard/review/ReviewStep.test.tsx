import { cleanup, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import userEvent from "@testing-library/user-event";
import type { EngineCheck, PlanPreview, WizardAnswers } from "../../api";
import { PlanSection } from "./PlanSection";
import type { StepProps } from "../types";
import { ReviewStep } from "./ReviewStep";
import { setFakeTransport } from "../../test/fakeTransport";

const ANSWERS: WizardAnswers = {
  organisation: { name: "Omantel", headquarters: "", industry: "Mining", size: "", compliance: [] },
  topology: "SOLO",
  ha: false,
  regions: [{ location: "fsn1", control_plane_type: "cpx42", worker_count: 0, worker_type: "" }],
  credentials: { token_validated: true, ssh_key_mode: "generate", ssh_public_key: "", ssh_fingerprint: "", ssh_allowed_cidrs: ["203.0.113.0/24", "10.0.0.1"], cluster_token: "same", cluster_token_validated: false },
  components: [],
  domain: { mode: "pool", pool_domain: "omani.works", subdomain: "acme", byo_domain: "", registrar: null, registrar_validated: false, admin_email: "", availability: null },
};

function renderWith(errors: Record<string, string>) {
  const props: StepProps = {
    answers: ANSWERS,
    data: { catalog: { version: "t", families: [], components: [] }, estimate: null } as unknown as StepProps["data"],
    update: () => {},
    change: async () => null,
    errorFor: (f) => errors[f],
    errorNow: (f) => errors[f],
    touch: () => {},
    goTo: () => {},
    announce: () => {},
    reloadOffers: () => {},
    explain: () => {},
  };
  render(<ReviewStep {...props} />);
}

describe("ReviewStep", () => {
  it("shows an organisation industry, size or compliance error in the Organisation section", () => {
    for (const field of ["organisation.industry", "organisation.size", "organisation.compliance"]) {
      renderWith({ [field]: `problem with ${field}` });
      const section = screen.getAllByRole("region", { name: "Organisation" }).at(-1)!;
      expect(within(section).getByRole("alert").textContent).toBe(`problem with ${field}`);
    }
  });

  it("shows an SSH range error (any line) in the Credentials section", () => {
    renderWith({ "credentials.ssh_allowed_cidrs.1": "Add the prefix length: 10.0.0.1/32 for this one address." });
    const section = screen.getByRole("region", { name: "Credentials" });
    expect(within(section).getByRole("alert").textContent).toBe("Add the prefix length: 10.0.0.1/32 for this one address.");
  });
});

describe("ReviewStep engine section", () => {
  const engine = (answer: EngineCheck) =>
    setFakeTransport({
      engine_check: () => answer,
    });

  it("names a Terraform from Settings and warns that its state is plain text", async () => {
    engine({
      demo: false,
      binary: { path: "/usr/local/bin/terraform", version: "1.11.4", engine: "terraform" },
      warning: "Terraform 1.11.4 does not encrypt state: …",
      error: null,
    });
    renderWith({});
    const section = await screen.findByRole("region", { name: "Infrastructure engine" });
    expect(within(section).getByTestId("engine-name").textContent).toBe("Terraform 1.11.4");
    expect(within(section).getByRole("alert").textContent).toContain("does not encrypt state");
    expect(within(section).getByText("plain text on this machine")).toBeTruthy();
  });

  it("says why no engine was found, and nothing at all in demo mode", async () => {
    engine({ demo: false, binary: null, warning: null, error: "OpenTofu (tofu) was not found" });
    renderWith({});
    const section = await screen.findByRole("region", { name: "Infrastructure engine" });
    expect(within(section).getByRole("alert").textContent).toContain("was not found");
    cleanup();
    engine({ demo: true, binary: null, warning: null, error: null });
    renderWith({});
    await new Promise((r) => setTimeout(r, 20));
    expect(screen.queryByRole("region", { name: "Infrastructure engine" })).toBeNull();
  });
});

describe("Review's plan", () => {
  const PLAN: PlanPreview = {
    fqdn: "acme.omani.works",
    resources: [
      { resource_type: "hcloud_load_balancer", count: 1 },
      { resource_type: "hcloud_server", count: 3 },
    ],
    add: 4, change: 0, remove: 0, hourly_eur: 0.1234, monthly_eur: 77, engine: "OpenTofu 1.10.6", simulated: false, seconds: 4.2, certificates: "staging",
  };

  it("lists what the engine plans by type, with the cost, and asks for the tick in live mode", async () => {
    setFakeTransport({ plan_preview: () => PLAN });
    const ticks: boolean[] = [];
    render(<PlanSection answers={ANSWERS} demo={false} confirmation={{ confirmed: false, set: (y) => ticks.push(y) }} />);
    const table = await screen.findByTestId("plan-table");
    expect(within(table).getByText("Servers")).toBeTruthy();
    expect(within(table).getByText("hcloud_server").closest("tr")?.textContent).toContain("3");
    expect(table.querySelector("caption")?.textContent).toBe("Planned by OpenTofu 1.10.6 in 4.2 s; nothing was created.");
    expect(screen.getByTestId("plan-summary").textContent).toBe("4 to add, 0 to change, 0 to destroy · about €0.1234/hour, €77.00/month (net)");
    // Settings chose Let's Encrypt staging: Review says so, as a warning.
    expect(screen.getByTestId("plan-certificates").textContent).toMatch(/^Certificates: Let's Encrypt staging \(Settings\)\. Browsers will not trust them/);
    expect(screen.getByTestId("plan-certificates").className).toBe("warning");
    await userEvent.setup().click(screen.getByTestId("plan-confirm"));
    expect(ticks).toEqual([true]);
  });

  it("shows the simulated list without a tick in demo mode", async () => {
    setFakeTransport({ plan_preview: () => ({ ...PLAN, simulated: true, engine: "the simulated cloud" }) });
    render(<PlanSection answers={ANSWERS} demo={true} confirmation={{ confirmed: false, set: () => {} }} />);
    expect((await screen.findByTestId("plan-table")).querySelector("caption")?.textContent).toBe("Simulated cloud: nothing real is created.");
    expect(screen.queryByRole("checkbox")).toBeNull();
  });

  it("says why a plan failed, offers no tick, and plans again on request", async () => {
    let calls = 0;
    setFakeTransport({
      plan_preview: () => {
        calls += 1;
        if (calls === 1) throw { code: "plan_failed", message: "Error: server type cpx99 not found (with hcloud_server.cp). Fix the answers.", field: null };
        return PLAN;
      },
    });
    const ticks: boolean[] = [];
    render(<PlanSection answers={ANSWERS} demo={false} confirmation={{ confirmed: true, set: (y) => ticks.push(y) }} />);
    const alert = await screen.findByTestId("plan-error");
    expect(alert.textContent).toContain("The plan failed, so Provision waits: Error: server type cpx99 not found");
    expect(screen.queryByRole("checkbox")).toBeNull();
    await userEvent.setup().click(screen.getByRole("button", { name: "Plan again" }));
    await screen.findByTestId("plan-table");
    expect(calls).toBe(2);
    expect(ticks).toEqual([false]);
  });

  it("shows a failed plan's diagnostic in the section of the step it is about, and points at it", async () => {
    setFakeTransport({
      plan_preview: () => {
        throw { code: "plan_failed", message: "Error: server type cpx99 not found (with hcloud_server.cp). Fix the answers.", field: "regions.0.control_plane_type" };
      },
      engine_check: () => ({ demo: false, binary: null, warning: null, error: null }) as unknown as EngineCheck,
    });
    renderWith({});
    const provider = screen.getByRole("region", { name: "Provider" });
    expect(await within(provider).findByText(/The plan: Error: server type cpx99 not found/)).toBeTruthy();
    const alert = await screen.findByTestId("plan-error");
    expect(alert.textContent).toBe("The plan failed, so Provision waits: the engine's diagnostic is under Provider above.");
  });
});
