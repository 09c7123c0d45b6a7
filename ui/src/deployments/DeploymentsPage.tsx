import { useEffect, useState } from "react";
import { call, type ApiError, type DeploymentSummary } from "../api";
import { ForgetDialog } from "./ForgetDialog";
import { WipeDialog } from "./WipeDialog";
import { PHASES } from "../provision/runState";

/** "3 min", "2 h 5 min", "4 d 1 h" since an RFC 3339 time. */
export function age(since: string, now: number): string {
  const t = Date.parse(since);
  if (Number.isNaN(t)) return "—";
  const min = Math.max(0, Math.floor((now - t) / 60_000));
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const resumable = new Set(["interrupted", "failed", "cancelled"]);
/** A wipe is offered unless one is going or the cloud was proven empty. */
const wipeable = (d: DeploymentSummary) => !!d.status && d.status !== "wiping" && d.status !== "wiped" && !d.problem;

export function DeploymentsPage({ onOpen, onNew }: { onOpen: (id: string) => void; onNew: () => void }) {
  const [list, setList] = useState<DeploymentSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [wiping, setWiping] = useState<DeploymentSummary | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [forgetting, setForgetting] = useState<DeploymentSummary | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const reload = () =>
    call("deployments_list")
      .then(setList)
      .catch((e: ApiError) => setError(e.message));
  useEffect(() => {
    void reload();
    // Ages and statuses move on while the list is open.
    const t = setInterval(() => {
      setNow(Date.now());
      void reload();
    }, 30_000);
    return () => clearInterval(t);
  }, []);

  return (
    <section aria-labelledby="dep-title">
      <header className="run-head">
        <h1 id="dep-title">Deployments</h1>
        <button type="button" className="primary" onClick={onNew}>
          New Sovereign
        </button>
      </header>
      {error && <p className="field-error" role="alert">{error}</p>}
      {saved && <p className="hint" role="status">{saved}</p>}
      {list && list.length === 0 && <p>No deployments yet.</p>}
      {list && list.length > 0 && (
        <div className="table-wrap">
        <table className="deployments">
          <thead>
            <tr>
              <th scope="col">Sovereign</th>
              <th scope="col">Status</th>
              <th scope="col">Phase</th>
              <th scope="col">Started</th>
              <th scope="col">Age</th>
              <th scope="col">€/h</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id}>
                <td>
                  {d.fqdn || d.id} {d.demo && <span className="pill">demo</span>}
                  {d.problem && <p className="field-error">{d.problem}</p>}
                </td>
                <td data-testid={`status-${d.id}`}>{d.status?.replace("_", " ") ?? "unreadable"}</td>
                <td>{d.phase ? (PHASES.find((p) => p.id === d.phase)?.title ?? d.phase) : "—"}</td>
                <td>{d.created_at ? new Date(d.created_at).toLocaleString() : "—"}</td>
                <td>{d.created_at ? age(d.created_at, now) : "—"}</td>
                <td title={d.eur_per_hour != null ? "List-price estimate while the servers exist" : undefined}>
                  {d.eur_per_hour != null ? `€${d.eur_per_hour.toFixed(3)}` : "—"}
                </td>
                {/* A cell stays a table cell (the row aligns); its buttons wrap inside it. */}
                <td className="actions">
                  <div className="row-actions">
                  {!d.problem && (
                    <button type="button" className="secondary small" onClick={() => onOpen(d.id)}>
                      Open
                    </button>
                  )}
                  {d.status === "done" && (
                    <button
                      type="button"
                      className="secondary small"
                      onClick={() =>
                        void call("deployment_kubeconfig_save", { id: d.id, path: null })
                          .then((r) => r.path && setSaved(`Kubeconfig of ${d.fqdn} saved to ${r.path}`))
                          .catch((e: ApiError) => setError(e.message))
                      }
                    >
                      Save kubeconfig…
                    </button>
                  )}
                  {d.status && resumable.has(d.status) && (
                    <button
                      type="button"
                      className="primary small"
                      onClick={() =>
                        void call("provision_resume", { id: d.id })
                          .then(() => onOpen(d.id))
                          .catch((e: ApiError) => setError(e.message))
                      }
                    >
                      Resume
                    </button>
                  )}
                  {wipeable(d) && (
                    <button type="button" className="secondary small" onClick={() => setWiping(d)}>
                      Wipe…
                    </button>
                  )}
                  {d.status !== "running" && d.status !== "wiping" && (
                    <button type="button" className="secondary small" onClick={() => setForgetting(d)}>
                      Forget…
                    </button>
                  )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        </div>
      )}
      {wiping && (
        <WipeDialog
          id={wiping.id}
          fqdn={wiping.fqdn}
          onClose={() => {
            setWiping(null);
            void reload();
          }}
        />
      )}
      {forgetting && (
        <ForgetDialog
          d={forgetting}
          onClose={() => {
            setForgetting(null);
            void reload();
          }}
        />
      )}
    </section>
  );
}
