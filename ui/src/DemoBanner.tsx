import type { AppInfo } from "./api";

/** Shown on every screen while in demo mode: nothing real is created. */
export function DemoBanner({ info }: { info: AppInfo }) {
  if (info.mode !== "demo") return null;
  return (
    <div className="demo-banner" role="status" data-testid="demo-banner">
      <strong>Demo mode</strong> — nothing real is created: runs use a simulated cloud, no credentials
      are needed and no cloud resource is billed.
      <span className="demo-reason">{info.mode_reason}</span>
    </div>
  );
}
