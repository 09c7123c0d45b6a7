import { cleanup, render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { EngineCheck, WizardAnswers } from "../../api";
import type { StepProps } from "../types";
import { ReviewStep } from "./ReviewStep";
import { setFakeTransport } from "../../test/fakeTransport";

const ANSWERS: WizardAnswers = {
  organisation: { name: "Omantel", headquarters: "", industry: "Mining", size: "", compliance: [] },
  topology: "SOLO",
  ha: false,
  regions: [{ location: "fsn1", control_plane_type: "cpx42", worker_count: 0, worker_type: "" }],
  credentials: { token_validated: true, ssh_key_mode: "generate", ssh_public_key: "", ssh_fingerprint: "", ssh_allowed_cidrs: ["203.0.113.0/24", "10.0.0.1"] },
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
