import { useState } from "react";
import { call, type ApiError, type WipeReport } from "../api";
import { Dialog } from "../Dialog";

/**
 * Wipe asks for the FQDN typed in full; a Sovereign still converging is
 * asked about a second time (the engine says so with `still_converging`);
 * then the report: what was deleted, retried and left, and why.
 */
export function WipeDialog({ id, fqdn, onClose }: { id: string; fqdn: string; onClose: (report: WipeReport | null) => void }) {
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [converging, setConverging] = useState<string | null>(null);
  const [report, setReport] = useState<WipeReport | null>(null);
  const wipe = async (convergingOk: boolean) => {
    setBusy(true);
    setError(null);
    try {
      setReport(await call("deployment_wipe", { id, confirm: typed, converging_ok: convergingOk }));
    } catch (e) {
      const err = e as ApiError;
      if (err.code === "still_converging") {
        setConverging(err.message);
      } else {
        setError(err.message);
      }
    } finally {
      setBusy(false);
    }
  };
  const matches = typed.trim() === fqdn;
  // Escape keeps it (or closes the report); nothing interrupts a wipe under way.
  const cancel = busy ? null : () => onClose(report);
  // Enter wipes only from the typed name; the second question is answered by a button.
  const submit = report ? () => onClose(report) : !converging && matches && !busy ? () => void wipe(false) : undefined;
  return (
    <Dialog titleId="wipe-title" bodyId="wipe-body" onCancel={cancel} onSubmit={submit} stage={report ? "report" : converging ? "converging" : "ask"}>
        <h2 id="wipe-title">Wipe {fqdn}?</h2>
        {report ? (
          <div id="wipe-body" role="status">
            <p>
              {report.clean ? "The cloud is empty: " : "The cloud could not be proven empty, so the state is kept: "}
              {report.deleted.length} resource(s) deleted
              {report.retried.length > 0 ? `, ${report.retried.length} retried` : ""}
              {report.dns_released ? ", the domain released" : ""}.
            </p>
            {report.left.length > 0 && (
              <>
                <p>Left, with why (Wipe again carries on):</p>
                <ul data-testid="wipe-left">
                  {report.left.map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                </ul>
              </>
            )}
            {report.errors.length > 0 && (
              <ul className="field-error">
                {report.errors.map((l) => (
                  <li key={l}>{l}</li>
                ))}
              </ul>
            )}
            {report.deleted.length > 0 && (
              <details>
                <summary>Deleted</summary>
                <ul data-testid="wipe-deleted">
                  {report.deleted.map((l) => (
                    <li key={l}>{l}</li>
                  ))}
                </ul>
              </details>
            )}
            <div className="dialog-actions">
              <button type="submit" className="primary" data-initial-focus>
                Close
              </button>
            </div>
          </div>
        ) : converging ? (
          <>
            <p id="wipe-body" role="alert">
              {converging}
            </p>
            {error && (
              <p className="field-error" role="alert">
                {error}
              </p>
            )}
            <div className="dialog-actions">
              <button type="button" className="secondary" data-initial-focus onClick={() => onClose(null)}>
                Keep it
              </button>
              <button type="button" className="danger" disabled={busy} onClick={() => void wipe(true)}>
                {busy ? "Wiping…" : "Wipe anyway"}
              </button>
            </div>
          </>
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
              <button type="button" className="secondary" onClick={() => onClose(null)}>
                Keep it
              </button>
              <button type="submit" className="danger" disabled={!matches || busy}>
                {busy ? "Wiping…" : "Wipe"}
              </button>
            </div>
          </>
        )}
    </Dialog>
  );
}
