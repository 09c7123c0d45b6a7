import { cleanup, render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { WizardAnswers, WizardChange } from "../../api";
import { setFakeTransport } from "../../test/fakeTransport";
import type { StepProps } from "../types";
import { DomainStep } from "./DomainStep";

const ANSWERS: WizardAnswers = {
  organisation: { name: "Omantel", headquarters: "", industry: "", size: "", compliance: [] },
  topology: "SOLO",
  ha: false,
  regions: [{ location: "fsn1", control_plane_type: "cpx42", worker_count: 0, worker_type: "" }],
  credentials: { token_validated: true, ssh_key_mode: "generate", ssh_public_key: "", ssh_fingerprint: "", ssh_allowed_cidrs: [], cluster_token: "same", cluster_token_validated: false },
  components: [],
  domain: { mode: "pool", pool_domain: "omani.works", subdomain: "omantel-prod", byo_domain: "", registrar: null, registrar_validated: false, admin_email: "", availability: null },
};
const OPTIONS = { pool_domains: ["omani.works"], registrars: [], nameservers: ["ns1.example"] };

function renderStep(changes: WizardChange[], explained: Record<string, string | null> = {}) {
  const props: StepProps = {
    answers: ANSWERS,
    data: { options: OPTIONS } as unknown as StepProps["data"],
    update: () => {},
    change: async (c) => {
      changes.push(c);
      return null;
    },
    errorFor: () => undefined,
    errorNow: () => undefined,
    touch: () => {},
    goTo: () => {},
    announce: () => {},
    reloadOffers: () => {},
    explain: (field, why) => {
      explained[field] = why;
    },
  };
  render(<DomainStep {...props} />);
}

/** A transport whose only answer is PDM's failure with `code`. */
function pdmFailing(code: string) {
  setFakeTransport({
    domain_check: () => {
      throw { code, message: `The pool-domain-manager failed (${code}).`, field: "domain.subdomain" };
    },
  });
}

describe("DomainStep", () => {
  it("offers the own-domain modes whenever PDM cannot answer", async () => {
    for (const code of ["pdm_unreachable", "pdm_unconfigured", "pdm_unavailable", "pdm_unauthorized", "pdm_server_error"]) {
      pdmFailing(code);
      const changes: WizardChange[] = [];
      renderStep(changes);
      const offer = await screen.findByRole("button", { name: "Use my own domain instead" }, { timeout: 2000 });
      expect(screen.getByText(`The pool-domain-manager failed (${code}).`, { exact: false })).toBeTruthy();
      await userEvent.setup().click(offer);
      expect(changes).toEqual([{ type: "domain_mode", mode: "byo_manual" }]);
      cleanup();
    }
  });

  it("gives PDM's failure, not the engine's \"Checking whether…\", as the reason Next is blocked", async () => {
    pdmFailing("pdm_unreachable");
    const explained: Record<string, string | null> = {};
    renderStep([], explained);
    await screen.findByRole("button", { name: "Use my own domain instead" }, { timeout: 2000 });
    expect(explained["domain.subdomain"]).toBe("The pool-domain-manager failed (pdm_unreachable). Try again later, or use your own domain instead.");
    cleanup();
    // Gone with the step: the next step's Next is not blocked by it.
    expect(explained["domain.subdomain"]).toBeNull();
  });

  it("does not offer them for an answer about the name itself", async () => {
    pdmFailing("invalid_subdomain");
    renderStep([]);
    await screen.findByText(/pool-domain-manager failed \(invalid_subdomain\)/, undefined, { timeout: 2000 });
    expect(screen.queryByRole("button", { name: "Use my own domain instead" })).toBeNull();
  });
});
