// The body of the live page (phase timeline, resources, components, log),
// shared by a deployment's page and a replay: both fold the same events.
import { useMemo, useState } from "react";
import { LogView } from "./LogView";
import { PHASES, REGION_PHASES, type RunView } from "./runState";

function elapsed(s: number) {
  const m = Math.floor(s / 60);
  return m > 0 ? `${m} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

/** One component's tile: `id` is its name in the run, `label` what its column shows. */
function Comp({ id, label, c }: { id: string; label: string; c: { state: string; message: string } }) {
  return (
    <li className={`comp ${c.state}`} title={c.message} data-testid={`comp-${id}`}>
      <span>{label}</span> <span className="pill">{c.state}</span>
    </li>
  );
}

/**
 * `now` (ms since epoch) times the running phase: the wall clock live, the recorded clock in a replay.
 * `interrupted`: the record says the app stopped mid-run, so the phase that was running is not any more.
 */
export function RunBody({ run, now, wiped = false, interrupted = false }: { run: RunView; now: number; wiped?: boolean; interrupted?: boolean }) {
  const [compFilter, setCompFilter] = useState("");
  const comps = useMemo(() => {
    const q = compFilter.trim().toLowerCase();
    return [...run.components.entries()].filter(([n, c]) => !q || n.includes(q) || c.state.includes(q));
  }, [run.components, compFilter]);
  const installed = [...run.components.values()].filter((c) => c.state === "installed").length;
  const regions = [...run.regions.entries()];
  const byRegion = regions.length > 1;
  const title = (id: string) => PHASES.find((p) => p.id === id)?.title ?? id;

  return (
    <>
      <div className="run-grid">
        <ol className="timeline" aria-label="Phases">
          {PHASES.map((p) => {
            const seen = run.phases[p.id] ?? { state: "pending" };
            const v = interrupted && seen.state === "running" ? { ...seen, state: "interrupted" as const } : seen;
            const secs = v.durationS ?? (v.state === "running" && v.startedAt ? Math.max(0, (now - v.startedAt) / 1000) : undefined);
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

        {/* The log beside the timeline: both in view on the first screen. */}
        <LogView lines={run.logs} />
      </div>
      <div className="run-main">
          {byRegion && (
            <section aria-labelledby="regions-title">
              <h2 id="regions-title">Regions</h2>
              {/* Every region's cluster phases side by side: they run at once. */}
              <div className="region-table-wrap" tabIndex={0} aria-labelledby="regions-title">
                <table className="region-table" data-testid="regions">
                  <thead>
                    <tr>
                      <th scope="col">Phase</th>
                      {regions.map(([loc], i) => (
                        <th scope="col" key={loc}>
                          Region {i + 1} · {loc}
                        </th>
                      ))}
                    </tr>
                  </thead>
                  <tbody>
                    {REGION_PHASES.map((ph) => (
                      <tr key={ph}>
                        <th scope="row">{title(ph)}</th>
                        {regions.map(([loc, r]) => {
                          const v = r.phases[ph];
                          const state = v ? (interrupted && v.state === "running" ? "interrupted" : v.state) : "pending";
                          return (
                            <td key={loc} className={`region-cell ${state}`} data-testid={`region-${loc}-${ph}`} data-state={state}>
                              <span className="pill">{state}</span>
                              {v?.progress && state === "running" && (
                                <progress max={v.progress.total} value={v.progress.done} aria-label={`${loc}, ${title(ph)}: ${v.progress.label}`} />
                              )}
                              {v?.detail && <span className="region-detail">{v.detail}</span>}
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </section>
          )}
          <section aria-labelledby="res-title">
            <h2 id="res-title">Cloud resources ({run.resources.size})</h2>
            {/* Scrolls when long: reachable by keyboard, named for a screen reader. */}
            <ul className="resources" tabIndex={0} aria-labelledby="res-title">
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
                {wiped
                  ? `Components (removed with the wipe; ${installed} of ${run.components.size} had installed)`
                  : run.components.size === 0
                    ? "Components (listed when the platform install starts)"
                    : `Components (${installed} of ${run.components.size} installed)`}
              </h2>
              <label htmlFor="comp-filter" className="visually-hidden">
                Filter components
              </label>
              <input id="comp-filter" type="search" placeholder="Filter by name or state" value={compFilter} onChange={(e) => setCompFilter(e.target.value)} />
            </header>
            {byRegion ? (
              <div className="region-columns">
                {regions.map(([loc, r]) => {
                  const q = compFilter.trim().toLowerCase();
                  // The primary region's releases keep their names; the others' are "loc/name" in the run.
                  const mine = [...r.components.entries()]
                    .map(([own, c]) => [run.components.has(`${loc}/${own}`) ? `${loc}/${own}` : own, own, c] as const)
                    .filter(([, own, c]) => !q || own.includes(q) || c.state.includes(q));
                  const done = [...r.components.values()].filter((c) => c.state === "installed").length;
                  return (
                    <section key={loc} aria-label={`Components in ${loc}`} data-testid={`region-components-${loc}`}>
                      <h3>
                        {loc} · {done} of {r.components.size} installed
                      </h3>
                      <ul className="comp-grid narrow">
                        {mine.map(([full, own, c]) => (
                          <Comp key={full} id={full} label={own} c={c} />
                        ))}
                      </ul>
                    </section>
                  );
                })}
              </div>
            ) : (
              <ul className="comp-grid">
                {comps.map(([name, c]) => (
                  <Comp key={name} id={name} label={name} c={c} />
                ))}
              </ul>
            )}
          </section>
      </div>
    </>
  );
}
