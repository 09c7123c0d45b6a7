import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { setTransport, type Catalog, type Estimate, type PlanPreview, type ServerOffers, type StepInfo, type Transport, type WizardAnswers, type WizardChange, type WizardOptions } from "../api";
import { WizardShell } from "./WizardShell";

const STEPS: StepInfo[] = ["organisation", "topology", "provider", "credentials", "components", "domain", "review"].map(
  (s, i) => ({ step: s as StepInfo["step"], number: i + 1, title: s[0]!.toUpperCase() + s.slice(1) }),
);

const DEFAULTS: WizardAnswers = {
  organisation: { name: "", headquarters: "", industry: "", size: "", compliance: [] },
  topology: "SOLO",
  ha: false,
  regions: [{ location: "fsn1", control_plane_type: "cpx42", worker_count: 0, worker_type: "" }],
  credentials: { token_validated: false, ssh_key_mode: "generate", ssh_public_key: "", ssh_fingerprint: "", ssh_allowed_cidrs: [], cluster_token: "same", cluster_token_validated: false },
  components: [],
  domain: { mode: "pool", pool_domain: "omani.works", subdomain: "", byo_domain: "", registrar: null, registrar_validated: false, admin_email: "", availability: null },
};

const OPTIONS: WizardOptions = {
  industries: ["Banking"], org_sizes: ["Under 100"], compliance_frameworks: ["GDPR"], pool_domains: ["omani.works"],
  registrars: [{ kind: "ovh", label: "OVH", credential_hint: "appKey:appSecret:consumerKey", propagation: "" }], nameservers: ["ns1.example"], reserved_subdomains: ["api"], max_workers: 50,
};
const OFFERS: ServerOffers = {
  source: { kind: "snapshot", taken_on: "2026-11-01" },
  locations: ["fsn1", "nbg1", "hel1"].map((name) => ({ name, city: name, country: "DE", network_zone: "eu-central" })),
  server_types: [{ name: "cpx42", cores: 8, memory_gb: 16, disk_gb: 320, cpu_type: "shared", architecture: "x86", category: "regular",
    prices: ["fsn1", "nbg1", "hel1"].map((location) => ({ location, hourly_eur: "0.0408", monthly_eur: "25.49" })) }],
  load_balancer: { name: "lb11", prices: [] },
};
const CATALOG: Catalog = { version: "test", families: [], components: [] };
const DATA = { options: OPTIONS, offers: OFFERS, catalog: CATALOG };
const PLAN: PlanPreview = {
  fqdn: "acme.omani.works", resources: [{ resource_type: "hcloud_server", count: 1 }, { resource_type: "hcloud_network", count: 1 }],
  add: 2, change: 0, remove: 0, hourly_eur: 0.0567, monthly_eur: 35.4, engine: "OpenTofu 1.10.6", simulated: false, seconds: 3.2, certificates: "production",
};
const ESTIMATE: Estimate = { regions: [], hourly_eur: 0, monthly_eur: 0, components: { memory_mib: 0, cpu_millis: 0 }, releases: 11, warning: null };

/** Stands in for the engine behind the transport: the name rule, a topology change, a draft store. */
function fakeEngine(extra: Record<string, (args: unknown) => unknown> = {}) {
  const saved: WizardAnswers[] = [];
  const t: Transport = {
    kind: "bridge",
    async call(cmd, args) {
      const own = extra[cmd];
      if (own) return own(args);
      if (cmd === "wizard_validate") {
        const { step, answers } = args as { step: string; answers: WizardAnswers };
        if (step === "organisation" && answers.organisation.name.trim().length < 2) {
          return [{ field: "organisation.name", message: "The organisation name needs at least 2 characters." }];
        }
        return [];
      }
      if (cmd === "wizard_estimate") return ESTIMATE;
      if (cmd === "plan_preview") return PLAN;
      if (cmd === "engine_check") return { demo: false, binary: { path: "/usr/bin/tofu", version: "1.10.6", engine: "opentofu" }, warning: null, error: null };
      if (cmd === "wizard_change") {
        const { answers, change } = args as unknown as { answers: WizardAnswers; change: WizardChange };
        if (change.type !== "topology") throw { code: "x", message: "unexpected change", field: null };
        const n = { SOLO: 1, DUAL: 2, TRIANGLE: 3 }[change.topology];
        const regions = Array.from({ length: n }, (_, i) => answers.regions[i] ?? { ...answers.regions[0]!, location: ["fsn1", "nbg1", "hel1"][i]! });
        return { answers: { ...answers, topology: change.topology, regions }, also_changed: [], note: null };
      }
      if (cmd === "draft_save") {
        saved.push(args as WizardAnswers);
        return null;
      }
      throw { code: "bad_request", message: `unexpected ${cmd}`, field: null };
    },
    listen: () => () => {},
  };
  setTransport(t);
  return saved;
}

describe("WizardShell", () => {
  it("keeps Next focusable but blocked with the engine's reason until step 1 is valid", async () => {
    fakeEngine();
    const user = userEvent.setup();
    render(<WizardShell steps={STEPS} initial={DEFAULTS} note={null} data={DATA} />);
    expect(screen.getByText("Step 1 of 7")).toBeTruthy();
    const next = screen.getByRole("button", { name: "Next" });
    await waitFor(() => expect(screen.getByText("The organisation name needs at least 2 characters.")).toBeTruthy());
    expect(next.getAttribute("aria-disabled")).toBe("true");
    await user.click(next);
    // Still on step 1, and the error is now shown next to the field.
    expect(screen.getByText("Step 1 of 7")).toBeTruthy();
    expect(screen.getByLabelText("Organisation name").getAttribute("aria-invalid")).toBe("true");

    await user.type(screen.getByLabelText("Organisation name"), "Omantel");
    await waitFor(() => expect(next.getAttribute("aria-disabled")).toBe("false"));
    await user.keyboard("{Enter}");
    await waitFor(() => expect(screen.getByText("Step 2 of 7")).toBeTruthy());
  });

  it("lets the operator jump back to completed steps only", async () => {
    fakeEngine();
    const user = userEvent.setup();
    render(<WizardShell steps={STEPS} initial={{ ...DEFAULTS, organisation: { ...DEFAULTS.organisation, name: "Omantel" } }} note={null} data={DATA} />);
    const stepper = screen.getByRole("navigation", { name: "Wizard steps" });
    const buttons = stepper.querySelectorAll("button");
    expect(buttons).toHaveLength(7);
    expect((buttons[2] as HTMLButtonElement).disabled).toBe(true);
    await waitFor(() => expect(screen.getByRole("button", { name: "Next" }).getAttribute("aria-disabled")).toBe("false"));
    await user.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(screen.getByText("Step 2 of 7")).toBeTruthy());
    await user.click(buttons[0] as HTMLButtonElement);
    expect(screen.getByText("Step 1 of 7")).toBeTruthy();
    expect(screen.getByLabelText("Organisation name")).toHaveProperty("value", "Omantel");
  });

  it("asks before Start over, by keyboard, and offers Undo that brings the answers back", async () => {
    let cleared = 0;
    const saved = fakeEngine({ draft_clear: () => ((cleared += 1), null), wizard_defaults: () => DEFAULTS });
    const user = userEvent.setup();
    render(<WizardShell steps={STEPS} initial={{ ...DEFAULTS, organisation: { ...DEFAULTS.organisation, name: "Omantel" } }} note={null} data={DATA} />);
    await user.click(screen.getByRole("button", { name: "Start over" }));
    const dialog = screen.getByRole("alertdialog", { name: "Start over?" });
    // The safe choice has the focus; Escape keeps everything.
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Keep my answers" }));
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(cleared).toBe(0);
    expect(screen.getByLabelText("Organisation name")).toHaveProperty("value", "Omantel");
    // Asked again and confirmed: cleared, then Undo restores (and the draft follows).
    await user.click(screen.getByRole("button", { name: "Start over" }));
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Start over" }));
    await waitFor(() => expect(screen.getByLabelText("Organisation name")).toHaveProperty("value", ""));
    expect(cleared).toBe(1);
    await user.click(screen.getByTestId("undo-start-over"));
    expect(screen.getByLabelText("Organisation name")).toHaveProperty("value", "Omantel");
    await waitFor(() => expect(saved.at(-1)?.organisation.name).toBe("Omantel"), { timeout: 2000 });
    expect(screen.queryByTestId("undo-start-over")).toBeNull();
  });

  it("saves the draft shortly after typing, never on first paint", async () => {
    const saved = fakeEngine();
    const user = userEvent.setup();
    render(<WizardShell steps={STEPS} initial={DEFAULTS} note={null} data={DATA} />);
    await act(() => new Promise((r) => setTimeout(r, 400)));
    expect(saved).toHaveLength(0);
    await user.type(screen.getByLabelText("Organisation name"), "Om");
    await waitFor(() => expect(saved.at(-1)?.organisation.name).toBe("Om"), { timeout: 2000 });
  });

  it("shows the live server types and prices once a read-write token is validated", async () => {
    const LIVE: ServerOffers = {
      ...OFFERS,
      source: { kind: "live", fetched_at: "2026-11-23T05:00:00Z" },
      server_types: [...OFFERS.server_types, { ...OFFERS.server_types[0]!, name: "ccx53", cores: 32, memory_gb: 128 }],
    };
    let offerCalls = 0;
    let scope = "read_only";
    fakeEngine({
      server_offers: () => {
        offerCalls += 1;
        return LIVE;
      },
      token_check: () => ({ scope, message: scope === "read_write" ? "Token accepted." : "This token can only read." }),
    });
    const user = userEvent.setup();
    const initial = { ...DEFAULTS, organisation: { ...DEFAULTS.organisation, name: "Omantel" } };
    render(<WizardShell steps={STEPS} initial={initial} note={null} data={DATA} />);
    for (const n of [2, 3]) {
      await waitFor(() => expect(screen.getByRole("button", { name: "Next" }).getAttribute("aria-disabled")).toBe("false"));
      await user.click(screen.getByRole("button", { name: "Next" }));
      await waitFor(() => expect(screen.getByText(`Step ${n} of 7`)).toBeTruthy());
    }
    expect(screen.getByText(/catalog as of 2026-11-01/)).toBeTruthy();
    expect(screen.queryByText(/ccx53/)).toBeNull();
    await waitFor(() => expect(screen.getByRole("button", { name: "Next" }).getAttribute("aria-disabled")).toBe("false"));
    await user.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(screen.getByText("Step 4 of 7")).toBeTruthy());
    const token = screen.getByLabelText("API token (read & write)");
    // A read-only token brings nothing new.
    await user.type(token, "ro");
    await user.click(screen.getByRole("button", { name: "Validate" }));
    await waitFor(() => expect(screen.getByText("This token can only read.")).toBeTruthy());
    expect(offerCalls).toBe(0);
    scope = "read_write";
    await user.type(token, "rw");
    await user.click(screen.getByRole("button", { name: "Validate" }));
    await waitFor(() => expect(offerCalls).toBe(1));
    await user.click(screen.getByRole("button", { name: "Back" }));
    await waitFor(() => expect(screen.getByText("Step 3 of 7")).toBeTruthy());
    expect(screen.getByText(/Live prices and availability, read 2026-11-23T05:00:00Z/)).toBeTruthy();
    expect(screen.getByRole("option", { name: /^ccx53 — 32 vCPU/ })).toBeTruthy();
  });

  it("asks for the offers again at start when the restored draft has a validated token", async () => {
    let offerCalls = 0;
    fakeEngine({ server_offers: () => (offerCalls += 1, OFFERS) });
    render(<WizardShell steps={STEPS} initial={{ ...DEFAULTS, credentials: { ...DEFAULTS.credentials, token_validated: true } }} note={null} data={DATA} />);
    await waitFor(() => expect(offerCalls).toBe(1));
    fakeEngine({ server_offers: () => (offerCalls += 1, OFFERS) });
    render(<WizardShell steps={STEPS} initial={DEFAULTS} note={null} data={DATA} />);
    await act(() => new Promise((r) => setTimeout(r, 100)));
    expect(offerCalls).toBe(1);
  });

  it("puts the engine's refusal of Provision next to the section of its field", async () => {
    fakeEngine({
      provision_start: () => {
        throw { code: "invalid_answers", message: "\"acme.omani.works\" is already used by a live Sovereign; choose another subdomain. (1 problem(s) in the answers)", field: "domain.subdomain" };
      },
    });
    const user = userEvent.setup();
    const initial = { ...DEFAULTS, organisation: { ...DEFAULTS.organisation, name: "Omantel" } };
    render(<WizardShell steps={STEPS} initial={initial} note={null} data={DATA} demo />);
    for (const n of [2, 3, 4, 5, 6, 7]) {
      await waitFor(() => expect(screen.getByRole("button", { name: "Next" }).getAttribute("aria-disabled")).toBe("false"));
      await user.click(screen.getByRole("button", { name: "Next" }));
      await waitFor(() => expect(screen.getByText(`Step ${n} of 7`)).toBeTruthy());
    }
    await waitFor(() => expect(screen.getByRole("button", { name: "Provision" }).getAttribute("aria-disabled")).toBe("false"));
    await user.click(screen.getByRole("button", { name: "Provision" }));
    const domain = screen.getByRole("region", { name: "Domain" });
    await waitFor(() => expect(within(domain).getByRole("alert").textContent).toContain("is already used by a live Sovereign"));
    // Once, in its section: not repeated below the form.
    expect(screen.getAllByText(/is already used by a live Sovereign/)).toHaveLength(1);
  });

  it("in live mode holds Provision until the plan's cost is confirmed, and a change withdraws the tick", async () => {
    let started = 0;
    fakeEngine({ provision_start: () => (started += 1, { id: "d-1" }) });
    const user = userEvent.setup();
    const initial = { ...DEFAULTS, organisation: { ...DEFAULTS.organisation, name: "Omantel" } };
    render(<WizardShell steps={STEPS} initial={initial} note={null} data={DATA} demo={false} />);
    for (const n of [2, 3, 4, 5, 6, 7]) {
      await waitFor(() => expect(screen.getByRole("button", { name: "Next" }).getAttribute("aria-disabled")).toBe("false"));
      await user.click(screen.getByRole("button", { name: "Next" }));
      await waitFor(() => expect(screen.getByText(`Step ${n} of 7`)).toBeTruthy());
    }
    const provision = screen.getByRole("button", { name: "Provision" });
    const plan = await screen.findByRole("region", { name: "What will be created" });
    await waitFor(() => expect(within(plan).getByTestId("plan-summary").textContent).toContain("2 to add"));
    expect(provision.getAttribute("aria-disabled")).toBe("true");
    expect(screen.getByText(/Tick the box under “What will be created” first/)).toBeTruthy();
    await user.click(provision);
    expect(started).toBe(0);
    const tick = within(plan).getByRole("checkbox");
    expect(tick.parentElement?.textContent).toContain("creates these 2 resources at Hetzner for acme.omani.works, billed about €0.0567/hour (€35.40/month)");
    await user.click(tick);
    await waitFor(() => expect(provision.getAttribute("aria-disabled")).toBe("false"));
    // Going back and changing anything asks again.
    await user.click(screen.getByRole("button", { name: "Edit Organisation" }));
    await user.type(screen.getByLabelText("Organisation name"), "!");
    for (const n of [2, 3, 4, 5, 6, 7]) {
      await waitFor(() => expect(screen.getByRole("button", { name: "Next" }).getAttribute("aria-disabled")).toBe("false"));
      await user.click(screen.getByRole("button", { name: "Next" }));
      await waitFor(() => expect(screen.getByText(`Step ${n} of 7`)).toBeTruthy());
    }
    await screen.findByTestId("plan-summary");
    expect(screen.getByRole("button", { name: "Provision" }).getAttribute("aria-disabled")).toBe("true");
    expect((screen.getByRole("checkbox") as HTMLInputElement).checked).toBe(false);
    await user.click(screen.getByRole("checkbox"));
    await waitFor(() => expect(screen.getByRole("button", { name: "Provision" }).getAttribute("aria-disabled")).toBe("false"));
    await user.click(screen.getByRole("button", { name: "Provision" }));
    await waitFor(() => expect(started).toBe(1));
  });

  it("topology change resizes the region list", async () => {
    fakeEngine();
    const user = userEvent.setup();
    const initial = { ...DEFAULTS, organisation: { ...DEFAULTS.organisation, name: "Omantel" } };
    render(<WizardShell steps={STEPS} initial={initial} note={null} data={DATA} />);
    await waitFor(() => expect(screen.getByRole("button", { name: "Next" }).getAttribute("aria-disabled")).toBe("false"));
    await user.click(screen.getByRole("button", { name: "Next" }));
    await user.click(await screen.findByLabelText(/TRIANGLE/));
    await user.click(screen.getByRole("button", { name: "Next" }));
    await waitFor(() => expect(screen.getByText("Step 3 of 7")).toBeTruthy());
    expect(screen.getAllByRole("heading", { name: /^Region \d/ })).toHaveLength(3);
  });
});
