import type { StepProps } from "../types";

export function ProviderStep({ answers }: StepProps) {
  return (
    <div>
      <p>Hetzner Cloud runs every region of this Sovereign.</p>
      <ul className="summary">
        {answers.regions.map((r, i) => (
          <li key={i}>
            Region {i + 1}: {r.location}, control plane {r.control_plane_type}
            {r.worker_count > 0 ? `, ${r.worker_count} × ${r.worker_type}` : ", no workers"}
          </li>
        ))}
      </ul>
    </div>
  );
}
