// Live mode is loud: the app started with live settings (the real binary's
// --serve, its own CATALYST_HOME) says so on every screen and in the title,
// names the Hetzner API and the PDM it talks to, and stays accessible in
// both themes. Nothing is called: the PDM address is a closed port.
import { expect, test } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startServe } from "./serve";
import { next } from "./wizard";

const shots = resolve(import.meta.dirname, "artifacts");
mkdirSync(shots, { recursive: true });

test("live mode shows its banner and title on every screen, in both themes and sizes", async ({ page }) => {
  const home = mkdtempSync(join(tmpdir(), "catalyst-live-"));
  mkdirSync(join(home, "config"), { recursive: true });
  writeFileSync(
    join(home, "config", "settings.json"),
    JSON.stringify({ mode: "live", pdm: { url: "http://127.0.0.1:9", username: "franchise", password_secret: "pdm-password" } }),
  );
  const serve = await startServe(home);
  try {
    await page.goto(serve.url);
    const banner = page.getByTestId("live-banner");
    await expect(banner).toContainText("Live mode");
    await expect(banner).toContainText("billed to the project of the token you validate");
    await expect(banner).toContainText("pool-domain-manager http://127.0.0.1:9");
    await expect(page.getByTestId("demo-banner")).toHaveCount(0);
    await expect(page).toHaveTitle("Catalyst Provisioner — LIVE");
    for (const screen of ["Deployments", "Settings", "New Sovereign"]) {
      await page.getByRole("button", { name: screen, exact: true }).click();
      await expect(banner).toBeVisible();
    }
    for (const [theme, width, height] of [["light", 1280, 800], ["dark", 800, 600]] as const) {
      await page.setViewportSize({ width, height });
      if (theme === "dark") await page.getByRole("button", { name: /Switch to dark theme/ }).click();
      await page.screenshot({ path: resolve(shots, `live-1-organisation-${width}-${theme}.png`), fullPage: true });
      const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
      expect(result.violations.map((v) => `${v.id}: ${v.help}`), theme).toEqual([]);
    }
  } finally {
    serve.stop();
  }
});

test("Settings refuse Mode: Live until what a live run needs is set, naming each field", async ({ page }) => {
  const home = mkdtempSync(join(tmpdir(), "catalyst-tolive-"));
  const serve = await startServe(home);
  try {
    await page.goto(serve.url);
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    await page.locator("#settings-mode").selectOption("live");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.locator("#settings-mode-error")).toHaveText(
      "Live mode needs PDM's address, its user name, its password (below); until then the app stays in demo mode.",
    );
    await expect(page.locator("#settings-pdm_url-error")).toContainText("Give PDM's address. Live mode needs it");
    await expect(page.locator("#settings-pdm_username-error")).toContainText("Give PDM's user name.");
    await expect(page.getByText(/settings need fixing; nothing was saved/)).toBeVisible();
    await page.screenshot({ path: resolve(shots, "live-2-settings-refused.png"), fullPage: true });
    // Nothing was written: the app still starts in demo mode.
    expect(existsSync(join(home, "config", "settings.json"))).toBe(false);
    await expect(page.getByTestId("demo-banner")).toBeVisible();
  } finally {
    serve.stop();
  }
});

test("a mode change applies without a restart, and a check made in demo does not count in live", async ({ page }) => {
  const home = mkdtempSync(join(tmpdir(), "catalyst-switch-"));
  const serve = await startServe(home, { keyring: true });
  try {
    await page.goto(serve.url);
    await expect(page.getByTestId("demo-banner")).toBeVisible();
    await page.getByLabel("Organisation name").fill("Switch Org");
    await next(page, 2);
    await next(page, 3);
    await next(page, 4);
    await page.getByRole("button", { name: "Use the demo token" }).click();
    await expect(page.getByText("Demo token accepted as read & write")).toBeVisible();

    // Settings: Mode: Live with what it needs; it applies at once.
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    await page.locator("#settings-mode").selectOption("live");
    await page.locator("#settings-pdm_url").fill("http://127.0.0.1:9");
    await page.locator("#settings-pdm_username").fill("franchise");
    await page.locator("#settings-pdm_password").fill("pdm-password-for-the-switch");
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByText("The app is in live mode now: runs create real, billed resources.")).toBeVisible();
    await expect(page.getByTestId("live-banner")).toContainText("Live mode");
    await expect(page).toHaveTitle("Catalyst Provisioner — LIVE");
    await page.screenshot({ path: resolve(shots, "live-3-switched.png"), fullPage: true });

    // The wizard booted again for live: the demo token does not count; Provision is out of reach.
    await page.getByRole("button", { name: "New Sovereign", exact: true }).click();
    await expect(page.getByText(/Its checks were made in demo mode, so in live mode: validate the Hetzner token/)).toBeVisible();
    await next(page, 2);
    await next(page, 3);
    await next(page, 4);
    await expect(page.getByLabel("API token (read & write)")).toHaveAttribute("placeholder", "Paste the token");
    await expect(page.getByRole("button", { name: "Use the demo token" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Next" })).toHaveAttribute("aria-disabled", "true");
    await expect(page.locator("#next-reason")).toContainText("Validate a read-write Hetzner API token first.");

    // Back to demo, the password taken out of the keyring (keyutils keeps it past the session).
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    await page.locator("#settings-mode").selectOption("demo");
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByRole("button", { name: "Save" }).click();
    await expect(page.getByText("The app is in demo mode now.")).toBeVisible();
    await expect(page.getByTestId("demo-banner")).toBeVisible();
  } finally {
    serve.stop();
  }
});
