import type { StepProps } from "../types";

export function ReviewStep({ answers }: StepProps) {
  return (
    <dl className="review">
      <dt>Organisation</dt>
      <dd>{answers.organisation.name || "—"}</dd>
      <dt>Topology</dt>
      <dd>
        {answers.topology}
        {answers.ha ? " with high availability" : ""}
      </dd>
      <dt>Regions</dt>
      <dd>{answers.regions.map((r) => r.location).join(", ")}</dd>
    </dl>
  );
}
