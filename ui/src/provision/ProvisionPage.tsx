import { useEffect, useMemo, useState } from "react";
import { call, listen, type ApiError, type DeploymentRecord, type ProvisionEvent } from "../api";
import { WipeDialog } from "../deployments/WipeDialog";
import { LogView } from "./LogView";
import { applyEvents, emptyRun, PHASES, type RunView } from "./runState";

function elapsed(s: number) {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

export function ProvisionPage({ id, onBack }: { id: string; onBack: () => void }) {
  const [record, setRecord] = useState<DeploymentRecord | null>(null);
  const [run, setRun] = useState<RunView>(emptyRun);
  const [error, setError] = useState<string | null>(null);
  const [compFilter, setCompFilter] = useState("");
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const [wiping, setWiping] = useState(false);

  // History first, then the live stream. Live events that arrive before the
  // history are held back, then applied after it; seq drops the overlap.
  useEffect(() => {
    let live = true;
    let held: ProvisionEvent[] | null = [];
    const off = listen("provision", (e) => {
      if (e.deployment_id !== id || !live) return;
      if (held) held.push(e);
      else setRun((r) => applyEvents(r, [e]));
    });
    call("deployment_events", { id, since_seq: 0 })
      .then((evs) => {
        if (!live) return;
        const early = held ?? [];
        held = null;
        setRun((r) => applyEvents(applyEvents(r, evs), early));
      })
      .catch((e: ApiError) => live && setError(e.message));
    return () => {
      live = false;
      off();
    };
  }, [id]);

  // The record follows the run's milestones (status, outputs).
  const phasesDone = Object.values(run.phases).filter((p) => p.state === "done").length;
  useEffect(() => {
    let live = true;
    call("deployment_get", { id })
      .then((r) => live && setRecord(r))
      .catch((e: ApiError) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [id, run.done, run.failure, phasesDone]);

  const running = record?.status === "running" && !run.done && !run.failure;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);

  const comps = useMemo(() => {
    const q = compFilter.trim().toLowerCase();
    return [...run.components.entries()].filter(([n, c]) => !q || n.includes(q) || c.state.includes(q));
  }, [run.components, compFilter]);

  const act = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
      setRecord(await call("deployment_get", { id }));
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
    }
  };

  const installed = [...run.components.values()].filter((c) => c.state === "installed").length;

  return (
    <section className="provision" aria-labelledby="run-title">
      <header className="run-head">
        <div>
          <h1 id="run-title" tabIndex={-1}>
            {record?.fqdn ?? "Deployment"}
          </h1>
          <p className="hint">
            {record?.demo ? `Demo run (simulated cloud, ×${record.demo.speed} speed) — nothing real is created. ` : ""}
            Status: <strong data-testid="run-status">{run.done ? "done" : (record?.status ?? "…")}</strong> · {id}
          </p>
        </div>
        <div className="inline">
          {running && (
            <button type="button" className="secondary" disabled={busy} onClick={() => void act(() => call("provision_cancel", { id }))}>
              Cancel run
            </button>
          )}
          <button type="button" className="secondary" onClick={onBack}>
            All deployments
          </button>
        </div>
      </header>
      {error && <p className="field-error" role="alert">{error}</p>}

      {run.failure && (
        <div className="failure-card" role="alert">
          <h2>{PHASES.find((p) => p.id === run.failure?.phase)?.title ?? "Wipe"} failed</h2>
          <p>{run.failure.error}</p>
          <p>
            <strong>What to do:</strong> {run.failure.hint}
          </p>
          <div className="inline">
            {record?.status !== "wipe_incomplete" && (
              <button type="button" className="primary" disabled={busy} onClick={() => void act(() => call("provision_resume", { id }))}>
                Retry this phase
              </button>
            )}
            {record && record.status !== "wiping" && record.status !== "wiped" && (
              <button type="button" className="secondary" disabled={busy} onClick={() => setWiping(true)}>
                {record.status === "wipe_incomplete" ? "Wipe again…" : "Wipe…"}
              </button>
            )}
          </div>
        </div>
      )}
      {!run.failure && record && (record.status === "interrupted" || record.status === "cancelled") && (
        <div className="failure-card" role="status">
          <h2>This run is {record.status}</h2>
          <p>It stopped during “{PHASES.find((p) => p.id === record.phase)?.title}”. Resume continues there; the cloud resources are named deterministically, so nothing is created twice.</p>
          <button type="button" className="primary" disabled={busy} onClick={() => void act(() => call("provision_resume", { id }))}>
            Resume
          </button>
        </div>
      )}
      {run.done && (
        <div className="done-card" role="status">
          <h2>Your Sovereign is ready</h2>
          <p>
            Console: <a href={run.done.consoleUrl} target="_blank" rel="noreferrer noopener">{run.done.consoleUrl}</a>
            {record?.outputs.gitea_url && (
              <>
                {" "}· Gitea: <a href={record.outputs.gitea_url} target="_blank" rel="noreferrer noopener">{record.outputs.gitea_url}</a>
              </>
            )}
          </p>
        </div>
      )}

      <div className="run-grid">
        <ol className="timeline" aria-label="Phases">
          {PHASES.map((p) => {
            const v = run.phases[p.id] ?? { state: "pending" };
            const secs = v.durationS ?? (v.state === "running" && v.startedAt ? (now - v.startedAt) / 1000 : undefined);
            return (
              <li key={p.id} className={`phase ${v.state}`} data-testid={`phase-${p.id}`} data-state={v.state}>
                <span className="phase-dot" aria-hidden="true" />
                <div className="phase-body">
                  <span className="phase-title">{p.title}</span>
                  <span className="phase-state">
                    {v.state}
                    {secs !== undefined && ` · ${elapsed(secs)}`}
                  </span>
                  {v.progress && v.state === "running" && (
                    <progress max={v.progress.total} value={v.progress.done} aria-label={`${p.title}: ${v.progress.label}`} />
                  )}
                </div>
              </li>
            );
          })}
        </ol>

        <div className="run-main">
          <section aria-labelledby="res-title">
            <h2 id="res-title">Cloud resources ({run.resources.size})</h2>
            <ul className="resources">
              {[...run.resources.entries()].map(([addr, r]) => (
                <li key={addr} className={`res ${r.state}`}>
                  <code>{addr}</code> <span className="pill">{r.state}</span>
                </li>
              ))}
            </ul>
          </section>
          <section aria-labelledby="comp-title">
            <header className="toolbar">
              <h2 id="comp-title">
                Components ({installed} of {run.components.size} installed)
              </h2>
              <label htmlFor="comp-filter" className="visually-hidden">
                Filter components
              </label>
              <input id="comp-filter" type="search" placeholder="Filter by name or state" value={compFilter} onChange={(e) => setCompFilter(e.target.value)} />
            </header>
            <ul className="comp-grid">
              {comps.map(([name, c]) => (
                <li key={name} className={`comp ${c.state}`} title={c.message} data-testid={`comp-${name}`}>
                  <span>{name}</span> <span className="pill">{c.state}</span>
                </li>
              ))}
            </ul>
          </section>
        </div>
      </div>
      <LogView lines={run.logs} />
      {wiping && record && (
        <WipeDialog
          id={id}
          fqdn={record.fqdn}
          onClose={() => {
            setWiping(false);
            void act(async () => undefined);
          }}
        />
      )}
    </section>
  );
}
