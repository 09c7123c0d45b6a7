import { useState } from "react";
import { call, type ApiError, type DeploymentSummary } from "../api";
import { Dialog } from "../Dialog";

/**
 * Forget removes a deployment from this computer. After a clean wipe that is
 * all; otherwise the operator must acknowledge that cloud resources may
 * remain (and bill) before the engine agrees.
 */
export function ForgetDialog({ d, onClose }: { d: DeploymentSummary; onClose: (forgotten: boolean) => void }) {
  const clean = d.status === "wiped" || d.demo;
  const [ack, setAck] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const name = d.fqdn || d.id;
  const forget = async () => {
    setBusy(true);
    setError(null);
    try {
      await call("deployment_forget", { id: d.id, cloud_may_remain: !clean && ack });
      onClose(true);
    } catch (e) {
      setError((e as ApiError).message);
      setBusy(false);
    }
  };
  const can = !busy && (clean || ack);
  return (
    <Dialog titleId="forget-title" bodyId="forget-body" onCancel={busy ? null : () => onClose(false)} onSubmit={can ? () => void forget() : undefined}>
        <h2 id="forget-title">Forget {name}?</h2>
        <p id="forget-body">
          {clean
            ? "This removes its record, log and report from this computer."
            : `${name} was not wiped clean: servers and other resources labelled catalyst.openova.io/sovereign=${d.fqdn} may still exist and be billed. Forgetting it removes the state a wipe needs.`}
        </p>
        {!clean && (
          <p>
            <input id="forget-ack" type="checkbox" checked={ack} onChange={(e) => setAck(e.target.checked)} />{" "}
            <label htmlFor="forget-ack">I understand cloud resources may remain; I will remove them myself.</label>
          </p>
        )}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="button" className="secondary" data-initial-focus onClick={() => onClose(false)}>
            Keep it
          </button>
          <button type="submit" className="danger" disabled={!can}>
            Forget
          </button>
        </div>
    </Dialog>
  );
}
