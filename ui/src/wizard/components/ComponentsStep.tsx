import { useMemo, useState } from "react";
import { call, type Component, type Selection } from "../../api";
import type { StepProps } from "../types";
import { ConfirmDialog } from "../../Dialog";

type Pending = { component: Component; preview: Selection };

export function ComponentsStep({ answers, data, change, errorFor, announce }: StepProps) {
  const { catalog, estimate } = data;
  const [tab, setTab] = useState<"choose" | "included">("choose");
  const [query, setQuery] = useState("");
  const [family, setFamily] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const selected = useMemo(() => new Set(answers.components), [answers.components]);
  const name = (id: string) => catalog.components.find((c) => c.id === id)?.name ?? id;
  const famName = (id: string) => catalog.families.find((f) => f.id === id)?.name ?? id;
  const optional = catalog.components.filter((c) => c.tier !== "mandatory");
  const mandatory = catalog.components.filter((c) => c.tier === "mandatory");
  const q = query.trim().toLowerCase();
  const visible = optional
    .filter((c) => !family || c.family === family)
    .filter((c) => !q || [c.name, c.id, c.description, famName(c.family)].some((s) => s.toLowerCase().includes(q)))
    .sort((a, b) => Number(selected.has(b.id)) - Number(selected.has(a.id)) || a.name.localeCompare(b.name));
  const families = catalog.families.filter((f) => optional.some((c) => c.family === f.id));
  const compErr = errorFor("components");

  const add = async (c: Component) => {
    const out = await change({ type: "add_component", id: c.id });
    if (out) announce(out.also_changed.length ? `${c.name} added. Also added: ${out.also_changed.map(name).join(", ")}.` : `${c.name} added.`);
  };
  const askRemove = async (c: Component) => {
    try {
      const preview = await call("component_removal", { selected: answers.components, id: c.id });
      if (preview.also_changed.length === 0) {
        await change({ type: "remove_component", id: c.id });
        announce(`${c.name} removed.`);
      } else {
        setPending({ component: c, preview });
      }
    } catch (e) {
      announce((e as { message: string }).message);
    }
  };

  return (
    <div>
      <div role="tablist" aria-label="Components" className="tabs">
        <button type="button" role="tab" aria-selected={tab === "choose"} onClick={() => setTab("choose")}>
          Choose your stack ({optional.filter((c) => selected.has(c.id)).length})
        </button>
        <button type="button" role="tab" aria-selected={tab === "included"} onClick={() => setTab("included")}>
          Always included ({mandatory.length})
        </button>
      </div>
      {compErr && <p className="field-error" role="alert">{compErr}</p>}
      {estimate && (
        <p className={`footprint${estimate.warning ? " warning" : ""}`} data-testid="footprint">
          Footprint of the selection: about {(estimate.components.memory_mib / 1024).toFixed(1)} GB memory and {(estimate.components.cpu_millis / 1000).toFixed(1)} vCPU requested
          {estimate.warning ? `. ${estimate.warning}` : ", which fits the chosen servers."}
        </p>
      )}
      {tab === "choose" ? (
        <div role="tabpanel">
          <div className="toolbar">
            <label htmlFor="component-search" className="visually-hidden">
              Search components
            </label>
            <input id="component-search" type="search" placeholder={`Search ${optional.length} components…`} value={query} onChange={(e) => setQuery(e.target.value)} />
            <div className="chips" role="group" aria-label="Filter by family">
              <button type="button" className={`chip${family === null ? " on" : ""}`} aria-pressed={family === null} onClick={() => setFamily(null)}>
                All
              </button>
              {families.map((f) => (
                <button key={f.id} type="button" className={`chip${family === f.id ? " on" : ""}`} aria-pressed={family === f.id} onClick={() => setFamily(family === f.id ? null : f.id)}>
                  {f.name}
                </button>
              ))}
            </div>
            <button type="button" className="secondary" onClick={() => void change({ type: "reset_components" }).then(() => announce("Selection reset to the defaults."))}>
              Reset to defaults
            </button>
          </div>
          <p className="hint">
            {visible.length} shown · {selected.size} of {catalog.components.length} selected
          </p>
          {visible.length === 0 && <p>No components match your filters.</p>}
          <ul className="component-grid">
            {visible.map((c) => {
              const on = selected.has(c.id);
              return (
                <li key={c.id} className={`component${on ? " on" : ""}`}>
                  <div className="component-head">
                    <span className="component-name">{c.name}</span>
                    <span className="pill">{famName(c.family)}</span>
                  </div>
                  <p className="component-desc">{c.description}</p>
                  <div className="component-foot">
                    <span className="pill tier">{c.tier}</span>
                    {c.dependencies.length > 0 && <span className="hint">needs {c.dependencies.map(name).join(", ")}</span>}
                    <button type="button" className={on ? "secondary" : "primary small"} aria-pressed={on} aria-label={`${on ? "Remove" : "Add"} ${c.name}`} onClick={() => void (on ? askRemove(c) : add(c))}>
                      {on ? "Remove" : "Add"}
                    </button>
                  </div>
                </li>
              );
            })}
          </ul>
        </div>
      ) : (
        <div role="tabpanel">
          <p className="hint">These platform components run on every Sovereign and cannot be removed.</p>
          {catalog.families
            .filter((f) => mandatory.some((c) => c.family === f.id))
            .map((f) => (
              <section key={f.id} className="included">
                <h2>
                  {f.name} · {f.subtitle}
                </h2>
                <ul className="included-list">
                  {mandatory
                    .filter((c) => c.family === f.id)
                    .map((c) => (
                      <li key={c.id}>
                        <strong>{c.name}</strong> — {c.description}
                      </li>
                    ))}
                </ul>
              </section>
            ))}
        </div>
      )}
      {pending && (
        <ConfirmDialog
          id="remove"
          title={`Remove ${pending.component.name}?`}
          body={
            <>
              <p>
                {pending.component.name} is used by {pending.preview.also_changed.length} other component(s). Removing it also removes:
              </p>
              <ul>
                {pending.preview.also_changed.map((id) => (
                  <li key={id}>{name(id)}</li>
                ))}
              </ul>
            </>
          }
          keep="Keep"
          confirm="Remove all"
          danger
          onKeep={() => setPending(null)}
          onConfirm={async () => {
            const c = pending.component;
            setPending(null);
            const out = await change({ type: "remove_component", id: c.id });
            if (out) announce(`${c.name} removed. Also removed: ${out.also_changed.map(name).join(", ")}.`);
          }}
        />
      )}
    </div>
  );
}
