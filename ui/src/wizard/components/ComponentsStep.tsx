import type { StepProps } from "../types";

export function ComponentsStep({ answers }: StepProps) {
  return (
    <div>
      <p>The platform components installed on top of the mandatory base (Cilium, Flux, cert-manager, OpenBao, Keycloak, Gitea, PowerDNS).</p>
      <p className="hint">{answers.components.length} optional component(s) selected.</p>
    </div>
  );
}
