import { useCallback, useState, type ReactNode } from "react";
import { euro, type StepProps } from "../types";
import { EngineSection } from "./EngineSection";
import { PlanSection, type PlanIssue } from "./PlanSection";

/** The section (by step) a plan diagnostic about `field` belongs to. */
function stepOf(field: string): { step: number; title: string } | null {
  if (field.startsWith("regions")) return { step: 2, title: "Provider" };
  if (field.startsWith("credentials")) return { step: 3, title: "Credentials" };
  if (field.startsWith("domain")) return { step: 5, title: "Domain" };
  return null;
}

const NONE = "— not set —";

function Section(props: { title: string; step: number; goTo: (s: number) => void; children: ReactNode; error?: string }) {
  return (
    <section className="review-section" aria-labelledby={`review-${props.step}`}>
      <header>
        <h2 id={`review-${props.step}`}>{props.title}</h2>
        <button type="button" className="link" onClick={() => props.goTo(props.step)} aria-label={`Edit ${props.title}`}>
          Edit
        </button>
      </header>
      {props.error && (
        <p className="field-error" role="alert">
          {props.error}
        </p>
      )}
      <dl className="review">{props.children}</dl>
    </section>
  );
}

export function ReviewStep({ answers: a, data, goTo, errorFor, demo, confirmation }: StepProps) {
  const { estimate, catalog } = data;
  const fqdn =
    a.domain.mode === "pool" ? (a.domain.subdomain ? `${a.domain.subdomain}.${a.domain.pool_domain}` : "") : a.domain.byo_domain;
  const picked = catalog.components.filter((c) => c.tier !== "mandatory" && a.components.includes(c.id));
  // A failed plan's diagnostic, shown in the section of the step it is about.
  const [planIssue, setPlanIssue] = useState<PlanIssue | null>(null);
  const sectionOf = useCallback((field: string) => stepOf(field)?.title ?? null, []);
  const planAt = (step: number) => (planIssue && stepOf(planIssue.field)?.step === step ? `The plan: ${planIssue.message}` : undefined);
  const firstError = (prefixes: string[], step?: number) => {
    for (const p of prefixes) {
      const e = errorFor(p);
      if (e) return e;
    }
    return step === undefined ? undefined : planAt(step);
  };
  const regionFields = a.regions.flatMap((_, i) => ["location", "control_plane_type", "worker_count", "worker_type"].map((k) => `regions.${i}.${k}`));
  return (
    <div className="review-grid">
      <Section title="Organisation" step={0} goTo={goTo} error={firstError(["organisation.name", "organisation.headquarters", "organisation.industry", "organisation.size", "organisation.compliance"])}>
        <dt>Name</dt>
        <dd>{a.organisation.name || NONE}</dd>
        <dt>Headquarters</dt>
        <dd>{a.organisation.headquarters || NONE}</dd>
        <dt>Industry · size</dt>
        <dd>{[a.organisation.industry, a.organisation.size].filter(Boolean).join(" · ") || NONE}</dd>
        <dt>Compliance</dt>
        <dd>{a.organisation.compliance.join(", ") || "none"}</dd>
      </Section>
      <Section title="Topology" step={1} goTo={goTo} error={firstError(["regions"])}>
        <dt>Layout</dt>
        <dd>
          {a.topology} · {a.regions.length} region{a.regions.length > 1 ? "s" : ""}
        </dd>
        <dt>High availability</dt>
        <dd>{a.ha ? "On — 3 control planes forming one etcd cluster per region" : "Off — 1 control plane per region"}</dd>
      </Section>
      <Section title="Provider" step={2} goTo={goTo} error={firstError(regionFields, 2)}>
        {a.regions.map((r, i) => (
          <div key={i} className="review-row">
            <dt>Region {i + 1}</dt>
            <dd>
              Hetzner {r.location} · control plane {a.ha ? "3 × " : ""}
              {r.control_plane_type} · {r.worker_count > 0 ? `${r.worker_count} × ${r.worker_type} workers` : "no workers"}
              {estimate?.regions[i] && ` · ${euro(estimate.regions[i].hourly_eur, 4)}/h`}
            </dd>
          </div>
        ))}
        <dt>Total cost</dt>
        <dd data-testid="review-total">{estimate ? `${euro(estimate.hourly_eur, 4)}/h · ${euro(estimate.monthly_eur)}/month (net)` : NONE}</dd>
      </Section>
      <Section title="Credentials" step={3} goTo={goTo} error={firstError(["credentials.token", "credentials.cluster_token", "credentials.ssh_public_key", ...a.credentials.ssh_allowed_cidrs.map((_, i) => `credentials.ssh_allowed_cidrs.${i}`)], 3)}>
        <dt>Hetzner token</dt>
        <dd>{a.credentials.token_validated ? "•••••••• validated, kept in the OS keyring" : "not validated"}</dd>
        <dt>The cluster&apos;s token</dt>
        <dd data-testid="review-cluster-token">
          {a.credentials.cluster_token === "separate"
            ? a.credentials.cluster_token_validated
              ? "its own, validated, kept in the OS keyring"
              : "its own, not validated"
            : "the provisioning token"}
        </dd>
        <dt>Admin SSH key</dt>
        <dd>
          {a.credentials.ssh_fingerprint || (a.credentials.ssh_public_key ? "pasted key" : NONE)}
          {a.credentials.ssh_key_mode === "generate" && a.credentials.ssh_fingerprint ? " (generated)" : ""}
          {a.credentials.ssh_key_mode === "paste" && a.credentials.ssh_fingerprint ? " (pasted; the run logs in through your SSH agent)" : ""}
        </dd>
        <dt>SSH reachable from</dt>
        <dd>{a.credentials.ssh_allowed_cidrs.length ? a.credentials.ssh_allowed_cidrs.join(", ") : "anywhere (key-only)"}</dd>
      </Section>
      <Section title="Components" step={4} goTo={goTo} error={firstError(["components"])}>
        <dt>Selected</dt>
        <dd>
          {a.components.length} of {catalog.components.length} ({picked.length} chosen besides the always-included)
        </dd>
        <dt>Chosen</dt>
        <dd>{picked.map((c) => c.name).join(", ") || "only the always-included ones"}</dd>
        {estimate && estimate.releases !== a.components.length && (
          <>
            <dt>Installed by the run</dt>
            <dd data-testid="releases">
              {estimate.releases}: these {a.components.length} and {estimate.releases - a.components.length} of the bootstrap kit the cluster itself needs (the run page counts all {estimate.releases})
            </dd>
          </>
        )}
        <dt>Footprint</dt>
        <dd>
          {estimate
            ? `${(estimate.components.memory_mib / 1024).toFixed(1)} GB memory · ${(estimate.components.cpu_millis / 1000).toFixed(1)} vCPU${estimate.warning ? " — does not fit, see Provider" : " — fits"}`
            : NONE}
        </dd>
      </Section>
      <Section title="Domain" step={5} goTo={goTo} error={firstError(["domain.subdomain", "domain.pool_domain", "domain.byo_domain", "domain.registrar", "domain.registrar_credential", "domain.admin_email"], 5)}>
        <dt>Mode</dt>
        <dd>{a.domain.mode === "pool" ? "Pool domain" : a.domain.mode === "byo_manual" ? "Own domain, nameservers changed by hand" : `Own domain via ${a.domain.registrar ?? "registrar"} API`}</dd>
        <dt>Sovereign</dt>
        <dd>{fqdn ? `console.${fqdn}` : NONE}</dd>
        <dt>Admin email</dt>
        <dd>{a.domain.admin_email || NONE}</dd>
      </Section>
      <EngineSection />
      <PlanSection answers={a} demo={demo ?? false} confirmation={confirmation} onIssue={setPlanIssue} sectionOf={sectionOf} />
    </div>
  );
}
