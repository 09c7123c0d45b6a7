import { useState } from "react";
import { call, type ApiError, type WipeReport } from "../api";

/** Wipe asks for the FQDN typed in full, then shows the report. */
export function WipeDialog({ id, fqdn, onClose }: { id: string; fqdn: string; onClose: (report: WipeReport | null) => void }) {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [report, setReport] = useState<WipeReport | null>(null);
  const wipe = async () => {
    setBusy(true);
    setError(null);
    try {
      setReport(await call("deployment_wipe", { id, confirm: typed }));
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="dialog-backdrop">
      <div role="alertdialog" aria-modal="true" aria-labelledby="wipe-title" aria-describedby="wipe-body" className="dialog">
        <h2 id="wipe-title">Wipe {fqdn}?</h2>
        {report ? (
          <div id="wipe-body" role="status">
            <p>
              {report.clean ? "The cloud is empty: " : "Not everything could be removed: "}
              {report.deleted.length} resource(s) deleted{report.dns_released ? ", the domain released" : ""}.
            </p>
            {report.left.length > 0 && (
              <ul>
                {report.left.map((l) => (
                  <li key={l}>{l}</li>
                ))}
              </ul>
            )}
            <div className="dialog-actions">
              <button type="button" className="primary" autoFocus onClick={() => onClose(report)}>
                Close
              </button>
            </div>
          </div>
        ) : (
          <>
            <p id="wipe-body">
              This deletes every server, load balancer, network, firewall and key of this Sovereign and releases its domain. It cannot be undone. Type <strong>{fqdn}</strong> to confirm.
            </p>
            <div className="field">
              <label htmlFor="wipe-confirm">Sovereign name</label>
              <input id="wipe-confirm" value={typed} autoComplete="off" spellCheck={false} onChange={(e) => setTyped(e.target.value)} aria-describedby={error ? "wipe-error" : undefined} />
              {error && (
                <p className="field-error" id="wipe-error" role="alert">
                  {error}
                </p>
              )}
            </div>
            <div className="dialog-actions">
              <button type="button" className="secondary" autoFocus onClick={() => onClose(null)}>
                Keep it
              </button>
              <button type="button" className="danger" disabled={typed.trim() !== fqdn || busy} onClick={() => void wipe()}>
                {busy ? "Wiping…" : "Wipe"}
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
