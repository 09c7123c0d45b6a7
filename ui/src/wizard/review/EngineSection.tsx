import { useEffect, useState } from "react";
import { call, type EngineCheck } from "../../api";

/**
 * Which IaC engine the live run will use, asked when Review opens: a missing
 * OpenTofu, or a Terraform named in Settings (its state is not encrypted),
 * is said here rather than first in preflight. Nothing in demo mode.
 */
export function EngineSection() {
  const [check, setCheck] = useState<EngineCheck | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    call("engine_check")
      .then((c) => live && setCheck(c))
      .catch((e: { message?: string }) => live && setFailed(e.message ?? String(e)));
    return () => {
      live = false;
    };
  }, []);
  if (check?.demo) return null;
  if (!check && !failed) return null;
  const bin = check?.binary;
  const error = failed ?? check?.error;
  return (
    <section className="review-section" aria-labelledby="review-engine">
      <header>
        <h2 id="review-engine">Infrastructure engine</h2>
      </header>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {check?.warning && (
        <p className="warning" role="alert" data-testid="engine-warning">
          {check.warning}
        </p>
      )}
      <dl className="review">
        <dt>Engine</dt>
        <dd data-testid="engine-name">{bin ? `${bin.engine === "terraform" ? "Terraform" : "OpenTofu"} ${bin.version}` : "none found"}</dd>
        {bin && (
          <>
            <dt>Path</dt>
            <dd>{bin.path}</dd>
            <dt>State</dt>
            <dd>{bin.engine === "opentofu" ? "encrypted (state and plan)" : "plain text on this machine"}</dd>
          </>
        )}
      </dl>
    </section>
  );
}
