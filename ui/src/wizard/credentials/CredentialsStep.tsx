import type { StepProps } from "../types";

export function CredentialsStep({ answers }: StepProps) {
  return (
    <div>
      <p>The Hetzner API token and the admin SSH key. The token is kept in the OS keyring, never in a file.</p>
      <p className="hint">
        Token: {answers.credentials.token_validated ? "validated" : "not validated"} · SSH key:{" "}
        {answers.credentials.ssh_fingerprint || "none yet"}
      </p>
    </div>
  );
}
