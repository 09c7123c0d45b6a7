import { useState } from "react";
import { call, type ApiError, type Credentials } from "../../api";
import { describedBy, Field } from "../Field";

type Check = { state: "idle" | "checking" | "done"; ok?: boolean; message?: string };

/** Which Hetzner token the cluster keeps (its cloud controller creates load
 * balancers and volumes with it): the provisioning one, or its own. */
export function ClusterTokenSection(props: {
  c: Credentials;
  setCred: (patch: Partial<Credentials>) => void;
  error: string | undefined;
  touch: () => void;
  demo: boolean;
}) {
  const { c, setCred, demo } = props;
  const [token, setToken] = useState("");
  const [check, setCheck] = useState<Check>({ state: "idle" });

  const validate = async (value = token) => {
    if (!value.trim()) return;
    setCheck({ state: "checking" });
    try {
      const r = await call("cluster_token_check", { token: value });
      const ok = r.scope === "read_write";
      setCheck({ state: "done", ok, message: r.message });
      setCred({ cluster_token_validated: ok });
      if (ok) setToken("");
    } catch (e) {
      setCheck({ state: "done", ok: false, message: (e as ApiError).message });
      setCred({ cluster_token_validated: false });
    }
  };
  const err = (check.state === "done" && !check.ok ? check.message : undefined) ?? props.error;

  return (
    <section aria-labelledby="cluster-token-title">
      <h2 id="cluster-token-title">The cluster&apos;s Hetzner token</h2>
      <p className="hint">
        The Sovereign keeps a token in <code>kube-system/hcloud</code> for its cloud controller (load balancers, node addresses), its volumes and its autoscaler. It
        reaches the cluster over SSH only.
      </p>
      <fieldset className="cards two">
        <legend>Which token the cluster keeps</legend>
        <label className={`card${c.cluster_token === "separate" ? " selected" : ""}`}>
          <input type="radio" name="cluster-token" checked={c.cluster_token === "separate"} onChange={() => setCred({ cluster_token: "separate" })} />
          <span className="card-title">Its own token (recommended)</span>
          <span className="card-text">A second read &amp; write token of the same project: revoke it without stopping this app, and the app&apos;s token never lives in the cluster.</span>
        </label>
        <label className={`card${c.cluster_token === "same" ? " selected" : ""}`}>
          <input type="radio" name="cluster-token" checked={c.cluster_token === "same"} onChange={() => setCred({ cluster_token: "same", cluster_token_validated: false })} />
          <span className="card-title">The provisioning token</span>
          <span className="card-text">The token above, copied into the cluster.</span>
        </label>
      </fieldset>
      {c.cluster_token === "separate" && (
        <>
          <Field id="credentials-cluster-token" label="The cluster's token (read & write)" error={err} hint="Generate it in the same project (Security → API tokens), named for this Sovereign. Kept in the OS keyring until the run stores it in the cluster.">
            <div className="inline">
              <input
                id="credentials-cluster-token"
                type="password"
                value={token}
                autoComplete="off"
                spellCheck={false}
                placeholder={c.cluster_token_validated ? "A validated token is in the keyring" : "Paste the cluster's token"}
                aria-invalid={!!err}
                aria-describedby={describedBy("credentials-cluster-token", err, "x")}
                onChange={(e) => {
                  setToken(e.target.value);
                  setCheck({ state: "idle" });
                }}
                onBlur={props.touch}
                onKeyDown={(e) => {
                  if (e.key === "Enter") {
                    e.preventDefault();
                    void validate();
                  }
                }}
              />
              <button
                type="button"
                className="primary"
                aria-label="Validate the cluster's token"
                disabled={!token.trim() || check.state === "checking"}
                onClick={() => void validate()}
              >
                {check.state === "checking" ? "Checking…" : "Validate"}
              </button>
              {demo && (
                <button type="button" className="secondary" aria-label="Use the demo token for the cluster" onClick={() => void validate("demo-token")}>
                  Use the demo token
                </button>
              )}
            </div>
          </Field>
          <p className="availability" role="status" aria-live="polite">
            {check.state === "done" && check.ok && <span className="ok">{check.message}</span>}
            {check.state === "idle" && c.cluster_token_validated && <span className="ok">The cluster&apos;s own token is validated and kept in the OS keyring.</span>}
          </p>
        </>
      )}
    </section>
  );
}
