import { useEffect, useState } from "react";
import { call, type ApiError, type DeploymentSummary } from "../api";
import { WipeDialog } from "./WipeDialog";

export function DeploymentsPage({ onOpen, onNew }: { onOpen: (id: string) => void; onNew: () => void }) {
  const [list, setList] = useState<DeploymentSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [wiping, setWiping] = useState<DeploymentSummary | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const reload = () =>
    call("deployments_list")
      .then(setList)
      .catch((e: ApiError) => setError(e.message));
  useEffect(() => {
    void reload();
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
        <table className="deployments">
          <thead>
            <tr>
              <th scope="col">Sovereign</th>
              <th scope="col">Status</th>
              <th scope="col">Phase</th>
              <th scope="col">Started</th>
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
                <td>{d.status ?? "unreadable"}</td>
                <td>{d.phase ?? "—"}</td>
                <td>{d.created_at ? new Date(d.created_at).toLocaleString() : "—"}</td>
                <td className="inline">
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
                  {d.status && d.status !== "running" && d.status !== "wiped" && !d.problem && (
                    <button type="button" className="secondary small" onClick={() => setWiping(d)}>
                      Wipe…
                    </button>
                  )}
                  {(d.status === "interrupted" || d.status === "failed" || d.status === "cancelled") && (
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
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
    </section>
  );
}
