import { useEffect, useState } from "react";
import { call, type Topology } from "../../api";
import { euro, type StepProps } from "../types";

const OPTIONS: { id: Topology; regions: number; text: string }[] = [
  { id: "SOLO", regions: 1, text: "One region, one cluster. For trials, proofs of concept and small teams." },
  { id: "DUAL", regions: 2, text: "Two regions, one cluster each. Survives the loss of a region." },
  { id: "TRIANGLE", regions: 3, text: "Three regions, one cluster each. The most resilient layout." },
];

export function TopologyStep({ answers, change, update, errorFor }: StepProps) {
  const regionsErr = errorFor("regions");
  // The honest cost of HA: the engine prices both variants of the current answers.
  const [haCost, setHaCost] = useState<{ off: number; on: number } | null>(null);
  useEffect(() => {
    let live = true;
    Promise.all([
      call("wizard_estimate", { ...answers, ha: false }),
      call("wizard_estimate", { ...answers, ha: true }),
    ])
      .then(([off, on]) => live && setHaCost({ off: off.monthly_eur, on: on.monthly_eur }))
      .catch(() => live && setHaCost(null));
    return () => {
      live = false;
    };
  }, [answers]);

  return (
    <div>
      <fieldset className="cards">
        <legend>Topology</legend>
        {OPTIONS.map((o) => (
          <label key={o.id} className={`card${answers.topology === o.id ? " selected" : ""}`}>
            <input
              type="radio"
              name="topology"
              value={o.id}
              checked={answers.topology === o.id}
              onChange={() => void change({ type: "topology", topology: o.id })}
            />
            <span className="card-title">
              {o.id} · {o.regions} region{o.regions > 1 ? "s" : ""}
            </span>
            <span className="card-text">{o.text}</span>
          </label>
        ))}
      </fieldset>
      {regionsErr && (
        <p className="field-error" role="alert">
          {regionsErr}
        </p>
      )}
      <div className="switch-row">
        <input
          id="topology-ha"
          type="checkbox"
          role="switch"
          checked={answers.ha}
          aria-describedby="topology-ha-hint"
          onChange={(e) => update((a) => ({ ...a, ha: e.target.checked }))}
        />
        <label htmlFor="topology-ha">High availability: 3 control planes per region</label>
        <p className="hint" id="topology-ha-hint">
          The three servers form one k3s/etcd cluster per region, which keeps working when one of them is lost.
          It triples the control-plane servers of every region
          {haCost && (
            <>
              : about {euro(haCost.on)}/month instead of {euro(haCost.off)}/month with the current sizing
            </>
          )}
          .
        </p>
      </div>
    </div>
  );
}
