import { useEffect, useState } from "react";
import { call, type PlanPreview, type WizardAnswers } from "../../api";
import { euro } from "../types";

/** What a Hetzner resource type is, in the operator's words. */
const KIND: Record<string, string> = {
  hcloud_server: "Servers",
  hcloud_load_balancer: "Load balancers",
  hcloud_load_balancer_network: "Load balancer network attachments",
  hcloud_load_balancer_service: "Load balancer services (ports)",
  hcloud_load_balancer_target: "Load balancer targets",
  hcloud_network: "Private networks",
  hcloud_network_subnet: "Subnets",
  hcloud_firewall: "Firewalls",
  hcloud_ssh_key: "SSH keys",
  hcloud_primary_ip: "Primary IPs",
  hcloud_volume: "Volumes",
};

export type Confirmation = { confirmed: boolean; set: (yes: boolean) => void };

/**
 * "What will be created": the engine's plan of these answers, asked when
 * Review opens. Live: OpenTofu's init and plan in a scratch dir (nothing is
 * created); demo: the simulated cloud's list. In live mode Provision needs
 * the box below ticked, which names the count and the cost.
 */
/** A failed plan's diagnostic, with the answer it is about when the engine knows it. */
export type PlanIssue = { field: string; message: string };

export function PlanSection(props: {
  answers: WizardAnswers;
  demo: boolean;
  confirmation?: Confirmation;
  /** Hears of a failed plan's diagnostic about an answer (null when there is none). */
  onIssue?: (issue: PlanIssue | null) => void;
  /** The title of the section that shows a diagnostic about `field`, if any. */
  sectionOf?: (field: string) => string | null;
}) {
  const { answers, demo, confirmation, onIssue, sectionOf } = props;
  // The engine's answer, tagged with what it answered (these answers, this round).
  const [result, setResult] = useState<{ of: WizardAnswers; round: number; plan?: PlanPreview; error?: string; field?: string | null } | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    call("plan_preview", { answers })
      .then((plan) => live && setResult({ of: answers, round, plan }))
      .catch((e: { message?: string; field?: string | null }) => live && setResult({ of: answers, round, error: e.message ?? String(e), field: e.field }));
    return () => {
      live = false;
    };
  }, [answers, round]);
  const current = result && result.of === answers && result.round === round ? result : null;
  const plan = current?.plan ?? null;
  const error = current?.error ?? null;
  // Said once: in the section of the step it is about (the diagnostic), pointed at from here.
  const issueField = error && current?.field ? current.field : null;
  const placedIn = issueField ? (sectionOf?.(issueField) ?? null) : null;
  useEffect(() => {
    onIssue?.(issueField && error ? { field: issueField, message: error } : null);
  }, [onIssue, issueField, error]);
  const planning = !current;
  const again = () => {
    confirmation?.set(false);
    setRound((r) => r + 1);
  };
  return (
    <section className="review-section plan-section" aria-labelledby="review-plan" aria-busy={planning}>
      <header>
        <h2 id="review-plan">What will be created</h2>
        {!planning && (
          <button type="button" className="link" onClick={again}>
            Plan again
          </button>
        )}
      </header>
      {planning && (
        <p className="muted" role="status">
          {demo ? "Listing what the simulated cloud creates…" : "Planning with the infrastructure engine (init from the bundled provider mirror, then plan; nothing is created)…"}
        </p>
      )}
      {error && (
        <div className="field-error" role="alert" data-testid="plan-error">
          <p>{placedIn ? `The plan failed, so Provision waits: the engine's diagnostic is under ${placedIn} above.` : `The plan failed, so Provision waits: ${error}`}</p>
        </div>
      )}
      {plan && (
        <>
          <table className="plan-table" data-testid="plan-table">
            <caption className="muted">
              {plan.simulated ? "Simulated cloud: nothing real is created." : `Planned by ${plan.engine} in ${plan.seconds.toFixed(1)} s; nothing was created.`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Resource</th>
                <th scope="col">Count</th>
              </tr>
            </thead>
            <tbody>
              {plan.resources.map((r) => (
                <tr key={r.resource_type}>
                  <td>
                    {KIND[r.resource_type] ?? r.resource_type} <code className="muted">{r.resource_type}</code>
                  </td>
                  <td>{r.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p data-testid="plan-summary">
            {plan.add} to add, {plan.change} to change, {plan.remove} to destroy · about {euro(plan.hourly_eur, 4)}/hour, {euro(plan.monthly_eur)}/month (net)
          </p>
          <p data-testid="plan-certificates" className={plan.certificates === "staging" ? "warning" : "muted"}>
            {plan.certificates === "staging"
              ? "Certificates: Let's Encrypt staging (Settings). Browsers will not trust them; for test Sovereigns made again and again on one domain."
              : "Certificates: Let's Encrypt production (trusted by browsers; at most five per set of names a week)."}
          </p>
          {!demo && confirmation && (
            <label className="confirm">
              <input type="checkbox" checked={confirmation.confirmed} onChange={(e) => confirmation.set(e.target.checked)} data-testid="plan-confirm" /> I understand Provision creates these {plan.add} resources at Hetzner for {plan.fqdn}, billed about {euro(plan.hourly_eur, 4)}/hour ({euro(plan.monthly_eur)}/month) until they are wiped.
            </label>
          )}
        </>
      )}
    </section>
  );
}
