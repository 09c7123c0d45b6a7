import type { StepProps } from "../types";

export function DomainStep({ answers }: StepProps) {
  return (
    <div>
      <p>Where the Sovereign answers: a subdomain of a pool domain, or your own domain.</p>
      <p className="hint">Pool domain: {answers.domain.pool_domain}</p>
    </div>
  );
}
