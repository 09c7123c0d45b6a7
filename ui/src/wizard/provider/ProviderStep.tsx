import type { Region, ServerType } from "../../api";
import { describedBy, Field } from "../Field";
import { euro, type StepProps } from "../types";

function typeLabel(t: ServerType, location: string) {
  const p = t.prices.find((x) => x.location === location);
  const spec = `${t.cores} vCPU · ${t.memory_gb} GB · ${t.disk_gb} GB${t.architecture === "arm" ? " · ARM" : ""}`;
  return p ? `${t.name} — ${spec} · €${Number(p.hourly_eur).toFixed(4)}/h` : `${t.name} — ${spec} · not sold in ${location}`;
}

function TypeSelect(props: { id: string; label: string; value: string; location: string; types: ServerType[]; error?: string; onChange: (v: string) => void }) {
  const { id, label, value, location, types, error, onChange } = props;
  const known = types.some((t) => t.name === value);
  return (
    <Field id={id} label={label} error={error}>
      <select id={id} value={value} aria-invalid={!!error} aria-describedby={describedBy(id, error)} onChange={(e) => onChange(e.target.value)}>
        {!known && <option value={value}>{value ? `${value} (unknown)` : "Choose a type"}</option>}
        {types.map((t) => {
          const sold = t.prices.some((p) => p.location === location);
          return (
            <option key={t.name} value={t.name} disabled={!sold && t.name !== value}>
              {typeLabel(t, location)}
            </option>
          );
        })}
      </select>
    </Field>
  );
}

export function ProviderStep({ answers, data, change, update, errorFor, errorNow, announce, touch }: StepProps) {
  const { offers, estimate } = data;
  // A type that cannot be ordered where the region is gets the engine's
  // sentence on its card at once, not only after a touch or Next.
  const unorderable = (t: string, location: string) =>
    offers.locations.some((l) => l.name === location) && !!offers.server_types.find((x) => x.name === t && !x.prices.some((p) => p.location === location));
  const typeError = (field: string, t: string, location: string) => errorFor(field) ?? (unorderable(t, location) ? errorNow(field) : undefined);
  const setRegion = (i: number, patch: Partial<Region>) =>
    update((a) => ({ ...a, regions: a.regions.map((r, j) => (j === i ? { ...r, ...patch } : r)) }));
  const source =
    offers.source.kind === "snapshot"
      ? `Prices and availability from Hetzner's catalog as of ${offers.source.taken_on}; a validated token replaces them with live ones.`
      : `Live prices and availability, read ${offers.source.fetched_at}.`;

  return (
    <div>
      <p className="hint">Hetzner Cloud runs every region of this Sovereign. {source} Prices are net of VAT.</p>
      <div className="region-cards">
        {answers.regions.map((r, i) => {
          const f = (k: string) => `regions.${i}.${k}`;
          const id = (k: string) => `regions-${i}-${k.replaceAll("_", "-")}`;
          const est = estimate?.regions[i];
          const locErr = errorFor(f("location"));
          return (
            <section key={i} className="region-card" aria-labelledby={`region-${i}-title`}>
              <header>
                <h2 id={`region-${i}-title`}>Region {i + 1}</h2>
                {est && (
                  <span className="cost" data-testid={`region-${i}-cost`}>
                    {euro(est.hourly_eur, 4)}/h · {euro(est.monthly_eur)}/month
                  </span>
                )}
              </header>
              <Field id={id("location")} label="Location" error={locErr}>
                <select
                  id={id("location")}
                  value={r.location}
                  aria-invalid={!!locErr}
                  aria-describedby={describedBy(id("location"), locErr)}
                  onChange={async (e) => {
                    // A clash with another region shows at once, on this one.
                    touch(f("location"));
                    const out = await change({ type: "location", region: i, location: e.target.value });
                    if (out?.note) announce(out.note);
                  }}
                >
                  {!offers.locations.some((l) => l.name === r.location) && <option value={r.location}>Choose a location</option>}
                  {offers.locations.map((l) => (
                    <option key={l.name} value={l.name}>
                      {l.name} — {l.city}, {l.country}
                    </option>
                  ))}
                </select>
              </Field>
              <TypeSelect
                id={id("control_plane_type")}
                label={answers.ha ? "Control-plane type (×3, HA)" : "Control-plane type"}
                value={r.control_plane_type}
                location={r.location}
                types={offers.server_types}
                error={typeError(f("control_plane_type"), r.control_plane_type, r.location)}
                onChange={(v) => setRegion(i, { control_plane_type: v })}
              />
              <Field id={id("worker_count")} label="Workers" error={errorFor(f("worker_count"))} hint={`0 to ${data.options.max_workers}. With 0, the control plane runs every workload.`}>
                <div className="stepper-input">
                  <button type="button" className="secondary" aria-label={`Fewer workers in region ${i + 1}`} disabled={r.worker_count === 0} onClick={() => void change({ type: "worker_count", region: i, count: r.worker_count - 1 })}>
                    −
                  </button>
                  <input
                    id={id("worker_count")}
                    type="number"
                    min={0}
                    max={data.options.max_workers}
                    value={r.worker_count}
                    onChange={(e) => {
                      const n = Math.max(0, Math.floor(Number(e.target.value) || 0));
                      void change({ type: "worker_count", region: i, count: n });
                    }}
                  />
                  <button type="button" className="secondary" aria-label={`More workers in region ${i + 1}`} disabled={r.worker_count >= data.options.max_workers} onClick={() => void change({ type: "worker_count", region: i, count: r.worker_count + 1 })}>
                    +
                  </button>
                </div>
              </Field>
              {r.worker_count > 0 && (
                <TypeSelect
                  id={id("worker_type")}
                  label="Worker type"
                  value={r.worker_type}
                  location={r.location}
                  types={offers.server_types}
                  error={typeError(f("worker_type"), r.worker_type, r.location)}
                  onChange={(v) => setRegion(i, { worker_type: v })}
                />
              )}
              {est && !est.fits && (
                <p className="warning" role="status">
                  The selected components need {(est.needed.memory_mib / 1024).toFixed(1)} GB and {(est.needed.cpu_millis / 1000).toFixed(1)} vCPU; these servers offer{" "}
                  {(est.capacity.memory_mib / 1024).toFixed(1)} GB and {(est.capacity.cpu_millis / 1000).toFixed(1)} vCPU.
                </p>
              )}
              {est && est.unpriced.length > 0 && (
                <p className="warning" data-testid={`region-${i}-unpriced`}>
                  Not priced, not orderable in {r.location}: {est.unpriced.join(", ")}. The cost above leaves {est.unpriced.length > 1 ? "them" : "it"} out.
                </p>
              )}
              <p className="hint">Includes one load balancer ({offers.load_balancer.name}).</p>
            </section>
          );
        })}
      </div>
      {estimate && (
        <p className="cost-line" data-testid="total-cost">
          Estimated cost across {estimate.regions.length} region{estimate.regions.length > 1 ? "s" : ""}: <strong>{euro(estimate.hourly_eur, 4)}/h</strong> ·{" "}
          <strong>{euro(estimate.monthly_eur)}/month</strong>
        </p>
      )}
    </div>
  );
}
