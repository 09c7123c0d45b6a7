// A recorded run shown again, read-only: the engine reads the exported
// event log and says when each event is due at the chosen speed; this page
// only waits and folds them like the live page. Nothing is stored, nothing
// runs, and there are no actions (no Retry, Resume, Wipe or Cancel).
import { useEffect, useRef, useState } from "react";
import { call, transportKind, type ApiError, type Replay } from "../api";
import { RunBody } from "./RunBody";
import { applyEvents, emptyRun, type RunView } from "./runState";
import { Message } from "../Message";

const SPEEDS = [1, 5, 10, 30, 60, 300];
const MB = 1024 * 1024;
// The engine refuses more than 64 MB; the browser bridge carries one message
// of at most 16 MB (a websocket frame), so bigger logs are replayed from the CLI.
/** FileReader rather than `File.text()`: older WebKitGTK webviews lack the latter. */
const readText = (f: File) =>
  new Promise<string>((ok, fail) => {
    const r = new FileReader();
    r.onload = () => ok(String(r.result));
    r.onerror = () => fail(new Error(`${f.name} could not be read`));
    r.readAsText(f);
  });
const maxBytes = () => (transportKind() === "bridge" ? 16 * MB : 64 * MB);

export function ReplayPage() {
  const [replay, setReplay] = useState<Replay | null>(null);
  const [run, setRun] = useState<RunView>(emptyRun);
  const [played, setPlayed] = useState(0);
  const [speed, setSpeed] = useState(10);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const file = useRef<HTMLInputElement>(null);

  // Plays the replay: each event at its offset from the start.
  useEffect(() => {
    if (!replay) return;
    const t0 = performance.now();
    let i = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      const due = performance.now() - t0;
      const start = i;
      while (i < replay.events.length && (replay.offsets_ms[i] ?? 0) <= due) i++;
      if (i > start) {
        const batch = replay.events.slice(start, i);
        setRun((r) => applyEvents(r, batch));
        setPlayed(i);
      }
      if (i < replay.events.length) {
        timer = setTimeout(tick, Math.max(0, (replay.offsets_ms[i] ?? 0) - (performance.now() - t0)));
      }
    };
    tick();
    return () => clearTimeout(timer);
  }, [replay]);

  const open = async () => {
    const f = file.current?.files?.[0];
    if (!f) {
      setError("Choose an exported event log first.");
      return;
    }
    if (f.size > maxBytes()) {
      setError(`${f.name} is larger than ${maxBytes() / MB} MB; replay it with \`catalyst-provisioner replay FILE\`.`);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const r = await call("replay_load", { text: await readText(f), path: null, speed });
      // A fresh page for each play; the effect then plays `r` from the start.
      setRun(emptyRun());
      setPlayed(0);
      setReplay(r);
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
    }
  };

  const total = replay?.events.length ?? 0;
  const last = played > 0 ? replay?.events[played - 1] : undefined;
  const now = last ? Date.parse(last.at) : 0;
  const recorded = replay ? new Date(replay.header.recorded_at).toLocaleString() : "";

  return (
    <section className="provision" aria-labelledby="replay-title">
      <header className="run-head">
        <div>
          <h1 id="replay-title" tabIndex={-1}>
            {replay ? replay.header.fqdn : "Replay a recorded run"}
          </h1>
          <p className="hint">
            Shows an event log exported from a deployment (“Export event log”, or <code>catalyst-provisioner events ID --export FILE</code>) as
            it happened, at the speed you choose. Nothing is run, created or stored.
          </p>
        </div>
      </header>
      <div className="toolbar">
        <label htmlFor="replay-file">Event log</label>
        <input id="replay-file" ref={file} type="file" accept=".jsonl,.json,application/json,text/plain" />
        <label htmlFor="replay-speed">Speed</label>
        <select id="replay-speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
          {SPEEDS.map((s) => (
            <option key={s} value={s}>
              ×{s}
            </option>
          ))}
        </select>
        <button type="button" className="primary" disabled={busy} onClick={() => void open()}>
          {replay ? "Play again" : "Play"}
        </button>
      </div>
      {error && (
        <p className="field-error" role="alert">
          <Message text={error} />
        </p>
      )}
      {replay && (
        <>
          <div className="demo-banner replay-banner" role="status" data-testid="replay-banner">
            <strong>
              Replay — recorded on {recorded}
            </strong>{" "}
            — read-only: {replay.header.fqdn}
            {replay.header.demo ? " (a demo run)" : ""}, ×{replay.speed}, event {played} of {total}
            {played === total ? ` · finished (the run was ${replay.header.status ?? "unknown"} when exported)` : ""}.
          </div>
          {run.failure && (
            <div className="failure-card" role="status">
              <h2>The recorded run failed here</h2>
              <p>
                <Message text={run.failure.error} />
              </p>
              <p>
                <strong>Hint recorded:</strong> {run.failure.hint}
              </p>
            </div>
          )}
          {run.done && (
            <div className="done-card" role="status">
              <h2>The recorded run reached Done</h2>
              <p>Console: {run.done.consoleUrl}</p>
            </div>
          )}
          <RunBody run={run} now={now} />
        </>
      )}
    </section>
  );
}
