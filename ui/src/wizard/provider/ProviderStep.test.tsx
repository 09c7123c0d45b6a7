import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Estimate, ServerOffers, WizardAnswers } from "../../api";
import type { StepProps } from "../types";
import { ProviderStep } from "./ProviderStep";

const price = (location: string) => ({ location, hourly_eur: "0.0408", monthly_eur: "25.49" });
const OFFERS: ServerOffers = {
  source: { kind: "snapshot", taken_on: "2026-11-01" },
  locations: ["fsn1", "ash"].map((name) => ({ name, city: name, country: "DE", network_zone: "eu-central" })),
  server_types: [
    { name: "cpx42", cores: 8, memory_gb: 16, disk_gb: 320, cpu_type: "shared", architecture: "x86", category: "regular", prices: [price("fsn1")] },
    { name: "cpx41", cores: 8, memory_gb: 16, disk_gb: 240, cpu_type: "shared", architecture: "x86", category: "regular", prices: [price("fsn1"), price("ash")] },
  ],
  load_balancer: { name: "lb11", prices: [price("fsn1"), price("ash")] },
};
const ANSWERS: WizardAnswers = {
  organisation: { name: "Omantel", headquarters: "", industry: "", size: "", compliance: [] },
  topology: "DUAL",
  ha: false,
  regions: [
    { location: "fsn1", control_plane_type: "cpx42", worker_count: 0, worker_type: "" },
    { location: "ash", control_plane_type: "cpx42", worker_count: 0, worker_type: "" },
  ],
  credentials: { token_validated: false, ssh_key_mode: "generate", ssh_public_key: "", ssh_fingerprint: "", ssh_allowed_cidrs: [], cluster_token: "same", cluster_token_validated: false },
  components: [],
  domain: { mode: "pool", pool_domain: "omani.works", subdomain: "", byo_domain: "", registrar: null, registrar_validated: false, admin_email: "", availability: null },
};
const fp = { memory_mib: 16384, cpu_millis: 8000 };
const region = (location: string, unpriced: string[]) => ({ location, control_planes: 1, hourly_eur: 0.05, monthly_eur: 30, capacity: fp, needed: fp, fits: true, unpriced });
const ESTIMATE: Estimate = { regions: [region("fsn1", []), region("ash", ["control plane cpx42"])], hourly_eur: 0.1, monthly_eur: 60, components: fp, releases: 12, warning: null };
const ENGINE_ERRORS: Record<string, string> = { "regions.1.control_plane_type": "cpx42 cannot be ordered in ash; choose another type or location." };

describe("ProviderStep", () => {
  it("flags a type not orderable in the region's location on its card at once, and lists what is not priced", () => {
    const props: StepProps = {
      answers: ANSWERS,
      data: { offers: OFFERS, estimate: ESTIMATE, catalog: { version: "t", families: [], components: [] }, options: { max_workers: 50 } } as unknown as StepProps["data"],
      update: () => {},
      change: async () => null,
      // Nothing touched yet: the usual lookup shows nothing.
      errorFor: () => undefined,
      errorNow: (f) => ENGINE_ERRORS[f],
      touch: () => {},
      goTo: () => {},
      announce: () => {},
      reloadOffers: () => {},
      explain: () => {},
    };
    render(<ProviderStep {...props} />);
    const select = screen.getByLabelText("Control-plane type", { selector: "#regions-1-control-plane-type" });
    expect(select.getAttribute("aria-invalid")).toBe("true");
    expect(document.getElementById("regions-1-control-plane-type-error")?.textContent).toBe("cpx42 cannot be ordered in ash; choose another type or location.");
    // Region 1 can order its type: no error shown there.
    expect(document.getElementById("regions-0-control-plane-type-error")).toBeNull();
    expect(screen.getByTestId("region-1-unpriced").textContent).toContain("control plane cpx42");
    expect(screen.queryByTestId("region-0-unpriced")).toBeNull();
  });
});
