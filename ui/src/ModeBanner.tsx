import { useEffect } from "react";
import type { AppInfo } from "./api";

const TITLE = "Catalyst Provisioner";

/**
 * On every screen, which mode the app is in. Demo: nothing real is created.
 * Live: runs create billed resources, against which Hetzner API and PDM;
 * the document title says it too (the window's title bar is set by the app).
 */
export function ModeBanner({ info }: { info: AppInfo }) {
  const live = info.mode === "live";
  useEffect(() => {
    document.title = live ? `${TITLE} — LIVE` : TITLE;
  }, [live]);
  if (live) {
    return (
      <div className="live-banner" role="status" data-testid="live-banner">
        <strong>Live mode</strong> — runs create real servers, load balancers and networks at Hetzner, billed to
        the project of the token you validate, until they are wiped.
        <span className="demo-reason">
          Hetzner API {info.hetzner_api ?? "(default)"} · pool-domain-manager {info.pdm_url ?? "not set (own domains only)"}
        </span>
      </div>
    );
  }
  return (
    <div className="demo-banner" role="status" data-testid="demo-banner">
      <strong>Demo mode</strong> — nothing real is created: runs use a simulated cloud, no credentials
      are needed and no cloud resource is billed.
      <span className="demo-reason">{info.mode_reason}</span>
    </div>
  );
}
