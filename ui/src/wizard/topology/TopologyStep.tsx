import type { Topology } from "../../api";
import type { StepProps } from "../types";

const OPTIONS: { id: Topology; title: string; regions: number; text: string }[] = [
  { id: "SOLO", title: "SOLO", regions: 1, text: "One region, one cluster. For trials, proofs of concept and small teams." },
  { id: "DUAL", title: "DUAL", regions: 2, text: "Two regions, one cluster each. Survives the loss of a region." },
  { id: "TRIANGLE", title: "TRIANGLE", regions: 3, text: "Three regions, one cluster each. The most resilient layout." },
];

export function TopologyStep({ answers, update, errorFor }: StepProps) {
  const choose = (t: Topology, regions: number) =>
    update((a) => {
      if (a.topology === t) return a;
      const template = a.regions[0] ?? { location: "fsn1", control_plane_type: "cpx42", worker_count: 0, worker_type: "" };
      return { ...a, topology: t, regions: Array.from({ length: regions }, (_, i) => a.regions[i] ?? { ...template }) };
    });
  const regionsErr = errorFor("regions");
  return (
    <div>
      <fieldset className="cards">
        <legend>Topology</legend>
        {OPTIONS.map((o) => (
          <label key={o.id} className={`card${answers.topology === o.id ? " selected" : ""}`}>
            <input type="radio" name="topology" value={o.id} checked={answers.topology === o.id} onChange={() => choose(o.id, o.regions)} />
            <span className="card-title">
              {o.title} · {o.regions} region{o.regions > 1 ? "s" : ""}
            </span>
            <span className="card-text">{o.text}</span>
          </label>
        ))}
      </fieldset>
      {regionsErr && <p className="field-error" role="alert">{regionsErr}</p>}
      <div className="switch-row">
        <input
          id="topology-ha"
          type="checkbox"
          role="switch"
          checked={answers.ha}
          onChange={(e) => update((a) => ({ ...a, ha: e.target.checked }))}
        />
        <label htmlFor="topology-ha">High availability: 3 control planes per region</label>
        <p className="hint">
          The three form one k3s/etcd cluster per region and survive the loss of one server. It triples the
          control-plane cost of each region.
        </p>
      </div>
    </div>
  );
}
