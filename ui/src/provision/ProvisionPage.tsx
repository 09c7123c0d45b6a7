import { useEffect, useState } from "react";
import { call, listen, type ApiError, type DeploymentRecord, type ProvisionEvent, type WipeReport } from "../api";
import { RunBody } from "./RunBody";
import { WipeDialog } from "../deployments/WipeDialog";
import { ConfirmDialog } from "../Dialog";
import { Message } from "../Message";
import { applyEvents, emptyRun, PHASES, type RunView } from "./runState";

export function ProvisionPage({ id, onBack }: { id: string; onBack: () => void }) {
  const [record, setRecord] = useState<DeploymentRecord | null>(null);
  const [run, setRun] = useState<RunView>(emptyRun);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [now, setNow] = useState(() => Date.now());
  const [saved, setSaved] = useState<string | null>(null);
  const [wiping, setWiping] = useState(false);
  const [askCancel, setAskCancel] = useState(false);
  const [report, setReport] = useState<WipeReport | null>(null);

  // History first, then the live stream, folded in order on one promise
  // chain. A live batch that does not follow what was folded (events sent
  // before the subscription took, or a lagging event bus) first reads the
  // missing ones from the event log; seq drops any overlap.
  useEffect(() => {
    let live = true;
    let applied = 0;
    const fold = (evs: ProvisionEvent[]) => {
      const last = evs.at(-1);
      if (!live || !last) return;
      applied = Math.max(applied, Number(last.seq));
      setRun((r) => applyEvents(r, evs));
    };
    const report = (e: ApiError) => {
      if (live) setError(e.message);
    };
    let chain: Promise<void> = call("deployment_events", { id, since_seq: 0 }).then(fold, report);
    // Live events are folded in batches (at most every 50 ms): one fold per
    // event re-rendered the page 100 000 times over a big log.
    let queue: ProvisionEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | null = null;
    const flush = () => {
      timer = null;
      const batch = queue;
      queue = [];
      chain = chain.then(async () => {
        const first = batch[0];
        if (!live || !first) return;
        if (Number(first.seq) > applied + 1) fold(await call("deployment_events", { id, since_seq: applied }));
        fold(batch);
      }).catch(report);
    };
    const off = listen("provision", (e) => {
      if (e.deployment_id !== id || !live) return;
      queue.push(e);
      timer ??= setTimeout(flush, 50);
    });
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
      off();
    };
  }, [id]);

  // The record follows the run's milestones (status, outputs).
  const phasesDone = Object.values(run.phases).filter((p) => p.state === "done").length;
  const cancelled = Object.values(run.phases).some((p) => p.state === "cancelled");
  const ended = !!run.done || !!run.failure || cancelled;
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // The run's last event is written before its record: a record read in
    // between still says running, so it is read again until it agrees.
    const get = (tries: number) => {
      call("deployment_get", { id })
        .then((r) => {
          if (!live) return;
          setRecord(r);
          if (ended && r.status === "running" && tries > 0) timer = setTimeout(() => get(tries - 1), 200);
        })
        .catch((e: ApiError) => live && setError(e.message));
    };
    get(25);
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [id, run.done, run.failure, phasesDone, ended]);

  // The record is the truth once it moved past the run (a wipe, an interruption):
  // the run's own "done" only speaks for a record that still says done or running.
  const gone = record?.status === "wiped" || record?.status === "wiping" || record?.status === "wipe_incomplete";
  const status = gone || !run.done ? (record?.status ?? "…") : "done";
  const ready = !!run.done && !gone;
  useEffect(() => {
    if (record?.status !== "wiped") return;
    let live = true;
    call("deployment_wipe_report", { id })
      .then((r) => live && setReport(r))
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [id, record?.status]);
  const running = record?.status === "running" && !run.done && !run.failure;
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [running]);

  // The first login: a one-time token signed with this Sovereign's handover key.
  const [handover, setHandover] = useState<string | null>(null);
  const openConsole = async () => {
    setError(null);
    try {
      const h = await call("deployment_console_open", { id });
      if (!h.opened) window.open(h.url, "_blank", "noopener,noreferrer");
      const until = new Date(h.expires_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      setHandover(`The console opened in your browser, signed in as the admin. The sign-in link works once, until ${until}; open it again here for a new one.`);
    } catch (e) {
      setHandover(null);
      setError((e as ApiError).message);
    }
  };

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

  // Saved where the operator picked (window) or in the exports folder (browser); a cancelled dialog says nothing.
  const save = (what: string, f: () => Promise<{ path: string | null }>) =>
    void act(async () => {
      setSaved(null);
      const r = await f();
      if (r.path) setSaved(`${what} saved to ${r.path}`);
    });

  return (
    <section className="provision" aria-labelledby="run-title">
      <header className="run-head">
        <div>
          <h1 id="run-title" tabIndex={-1}>
            {record?.fqdn ?? "Deployment"}
          </h1>
          <p className="hint">
            {record?.demo ? `Demo run (simulated cloud, ×${record.demo.speed} speed) — nothing real is created. ` : ""}
            Status: <strong data-testid="run-status">{status.replace("_", " ")}</strong> · {id}
          </p>
        </div>
        <div className="inline">
          {running && (
            <button type="button" className="secondary" disabled={busy} onClick={() => setAskCancel(true)}>
              Cancel run…
            </button>
          )}
          {run.lastSeq > 0 && (
            <button type="button" className="secondary" disabled={busy} onClick={() => save("Event log", () => call("deployment_events_export", { id, path: null }))}>
              Export event log
            </button>
          )}
          <button type="button" className="secondary" onClick={onBack}>
            All deployments
          </button>
        </div>
      </header>
      {error && <p className="field-error" role="alert">{error}</p>}
      {saved && (
        <p className="hint" role="status" data-testid="saved-note">
          {saved}
        </p>
      )}

      {run.failure && (
        <div className="failure-card" role="alert">
          <h2>{PHASES.find((p) => p.id === run.failure?.phase)?.title ?? "Wipe"} failed</h2>
          <p>
            <Message text={run.failure.error} />
          </p>
          <p>
            <strong>What to do:</strong> <Message text={run.failure.hint} />
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
            <button
              type="button"
              className="secondary"
              disabled={busy}
              onClick={() => save("Diagnostics (no secrets in them)", () => call("deployment_diagnostics", { id, path: null }))}
            >
              Export diagnostics…
            </button>
          </div>
        </div>
      )}
      {!run.failure && record && (record.status === "interrupted" || record.status === "cancelled") && (
        <div className="failure-card stopped-card" role="status" data-testid="stopped-card">
          <h2>This run is {record.status}</h2>
          <p>It stopped during “{PHASES.find((p) => p.id === record.phase)?.title}”. Resume continues there; the cloud resources are named deterministically, so nothing is created twice. Wipe removes what was created so far.</p>
          <div className="inline">
            <button type="button" className="primary" disabled={busy} onClick={() => void act(() => call("provision_resume", { id }))}>
              Resume
            </button>
            <button type="button" className="secondary" disabled={busy} onClick={() => setWiping(true)}>
              Wipe…
            </button>
          </div>
        </div>
      )}
      {record?.status === "wiped" && (
        <div className="done-card wiped-card" role="status" data-testid="wiped-card">
          <h2>This Sovereign was wiped</h2>
          {report ? (
            <p>
              {report.deleted.length} resource{report.deleted.length === 1 ? "" : "s"} removed
              {report.finished_at ? ` (finished ${report.finished_at})` : ""}; the cloud was swept and found empty
              {report.dns_released ? ", and the name was released" : ""}. Nothing of it runs or is billed any more; its
              console, Gitea and kubeconfig are gone with it.
            </p>
          ) : (
            <p>Nothing of it runs or is billed any more; its console, Gitea and kubeconfig are gone with it.</p>
          )}
        </div>
      )}
      {record?.status === "wiping" && (
        <div className="failure-card" role="status">
          <h2>Wiping…</h2>
          <p>The wipe is removing what this Sovereign created; its events follow below.</p>
        </div>
      )}
      {ready && run.done && (
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
          {record && record.outputs.regions.length > 1 && (
            <p data-testid="done-regions">
              Regions:{" "}
              {record.outputs.regions.map((r, i) => (
                <span key={r.location}>
                  {i > 0 && " · "}
                  <strong>{r.location}</strong> (control plane {r.control_plane_ips[0] ?? "?"})
                </span>
              ))}
              . The kubeconfig has a context for each, named after it.
            </p>
          )}
          {record?.outputs.delegation && (
            <p className="hint" data-testid="delegation" data-visible={record.outputs.delegation.visible}>
              {record.outputs.delegation.visible ? "✓ " : "⚠ "}
              {record.outputs.delegation.message}
            </p>
          )}
          <div className="inline">
            {record && !record.demo && (
              <button type="button" className="primary" disabled={busy} onClick={() => void openConsole()}>
                Open console
              </button>
            )}
            {record?.outputs.kubeconfig_path && (
              <button type="button" className={record.demo ? "primary" : "secondary"} disabled={busy} onClick={() => save("Kubeconfig", () => call("deployment_kubeconfig_save", { id, path: null }))}>
                Save kubeconfig…
              </button>
            )}
          </div>
          {handover && (
            <p className="hint" role="status" data-testid="handover-note">
              {handover}
            </p>
          )}
        </div>
      )}

      <RunBody run={run} now={now} wiped={record?.status === "wiped"} interrupted={record?.status === "interrupted"} />
      {askCancel && (
        <ConfirmDialog
          id="cancel-run"
          title="Cancel this run?"
          body={
            <p>
              The current step stops at its next safe point (OpenTofu saves its state first). What was created stays: Resume carries on
              from that step, Wipe removes it.
            </p>
          }
          keep="Keep running"
          confirm="Cancel the run"
          danger
          busy={busy}
          onKeep={() => setAskCancel(false)}
          onConfirm={() => {
            setAskCancel(false);
            void act(() => call("provision_cancel", { id }));
          }}
        />
      )}
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
