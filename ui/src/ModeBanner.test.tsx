import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { AppInfo } from "./api";
import { ModeBanner } from "./ModeBanner";

const INFO: AppInfo = {
  version: "0.1.0",
  mode: "live",
  mode_reason: "Live mode: runs create real, billable resources.",
  pdm_url: "https://pdm.openova.io",
  hetzner_api: "https://api.hetzner.cloud/v1",
  data_dir: "/d",
  log_dir: "/l",
};

afterEach(cleanup);

describe("ModeBanner", () => {
  it("says live mode, what it bills and where it talks to, in the banner and the title", () => {
    render(<ModeBanner info={INFO} />);
    const b = screen.getByTestId("live-banner");
    expect(b.textContent).toContain("Live mode");
    expect(b.textContent).toContain("billed to the project of the token you validate");
    expect(b.textContent).toContain("Hetzner API https://api.hetzner.cloud/v1 · pool-domain-manager https://pdm.openova.io");
    expect(document.title).toBe("Catalyst Provisioner — LIVE");
    expect(screen.queryByTestId("demo-banner")).toBeNull();
  });

  it("says demo mode and why, and the title is plain", () => {
    render(<ModeBanner info={{ ...INFO, mode: "demo", mode_reason: "Demo mode was asked for at start (--demo).", pdm_url: null, hetzner_api: null }} />);
    expect(screen.getByTestId("demo-banner").textContent).toContain("Demo mode was asked for at start");
    expect(document.title).toBe("Catalyst Provisioner");
    expect(screen.queryByTestId("live-banner")).toBeNull();
  });
});
