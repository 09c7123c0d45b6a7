// A DUAL Sovereign's run page shows its regions side by side: each
// region's cluster phases (cloud-init, kubeconfig, platform) in a column of
// its own and its components under it, at 1280×800 and 800×600 in both
// themes, with nothing wider than the window.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { next } from "./wizard";

const shots = resolve(import.meta.dirname, "artifacts", "regions");
mkdirSync(shots, { recursive: true });
const url = () => process.env.CATALYST_URL ?? "";

async function noSidewaysScroll(page: Page, what: string) {
  const r = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(r.scroll, `${what}: the page scrolls sideways`).toBeLessThanOrEqual(r.client);
}

test("a DUAL run shows both regions side by side, phase by phase, to Done", async ({ page }) => {
  test.setTimeout(150_000);
  await page.goto(url());
  await page.getByRole("button", { name: "Start over" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Start over" }).click();
  await page.getByLabel("Organisation name").fill("Regions Org");
  await next(page, 2);
  await page.getByLabel(/DUAL/).click();
  await next(page, 3);
  await page.locator("#regions-1-location").selectOption("hel1");
  await next(page, 4);
  await page.getByRole("button", { name: "Use the demo token" }).click();
  await expect(page.getByText("Demo token accepted as read & write")).toBeVisible();
  await page.getByRole("button", { name: "Generate key" }).click();
  await expect(page.getByTestId("ssh-fingerprint")).toContainText("SHA256:");
  await next(page, 5);
  await next(page, 6);
  await page.getByLabel("Subdomain", { exact: true }).fill("regions-demo");
  await expect(page.locator("#domain-availability")).toContainText("is available");
  await page.getByLabel("Admin email", { exact: true }).fill("ops@regions.example");
  await next(page, 7);
  await expect(page.getByTestId("plan-summary")).toBeVisible();
  await page.getByLabel("Speed").selectOption("60");
  await page.getByRole("button", { name: "Provision" }).click();

  // Both regions boot at once: the table has a column each, cloud-init done in both before the platform starts.
  const table = page.getByTestId("regions");
  await expect(table).toBeVisible({ timeout: 60_000 });
  await expect(table.getByRole("columnheader")).toHaveText(["Phase", "Region 1 · fsn1", "Region 2 · hel1"]);
  await expect(page.getByTestId("region-hel1-bootstrap")).toHaveAttribute("data-state", "running", { timeout: 60_000 });
  for (const loc of ["fsn1", "hel1"]) {
    await expect(page.getByTestId(`region-${loc}-cloud_init`)).toHaveAttribute("data-state", "done");
    await expect(page.getByTestId(`region-${loc}-kubeconfig`)).toHaveAttribute("data-state", "done");
  }
  await expect(page.getByRole("region", { name: "Components in hel1" })).toBeVisible();
  await noSidewaysScroll(page, "bootstrap");
  await page.screenshot({ path: resolve(shots, "regions-1-bootstrap-1280-light.png"), fullPage: true });

  await expect(page.getByTestId("run-status")).toHaveText("done", { timeout: 90_000 });
  for (const loc of ["fsn1", "hel1"]) {
    await expect(page.getByTestId(`region-${loc}-bootstrap`)).toHaveAttribute("data-state", "done");
    await expect(page.getByRole("region", { name: `Components in ${loc}` }).getByRole("heading")).toContainText(/· (\d+) of \1 installed/);
  }
  await expect(page.getByTestId("comp-hel1/cilium")).toContainText("installed");
  await expect(page.getByTestId("done-regions")).toContainText("hel1");
  await page.screenshot({ path: resolve(shots, "regions-2-done-1280-light.png"), fullPage: true });
  await page.getByRole("button", { name: /Switch to dark theme/ }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await page.screenshot({ path: resolve(shots, "regions-2-done-1280-dark.png"), fullPage: true });
  await page.getByRole("button", { name: /Switch to light theme/ }).click();

  // The small window, dark: the table scrolls inside its box, the page does not.
  await page.setViewportSize({ width: 800, height: 600 });
  await page.getByRole("button", { name: /Switch to dark theme/ }).click();
  await noSidewaysScroll(page, "done at 800x600");
  await page.getByTestId("regions").scrollIntoViewIfNeeded();
  await page.screenshot({ path: resolve(shots, "regions-3-done-800-dark.png"), fullPage: true });
  await page.getByRole("button", { name: /Switch to light theme/ }).click();
  await expect(page.locator("html")).toHaveAttribute("data-theme", "light");
  await noSidewaysScroll(page, "done at 800x600, light");
  await page.screenshot({ path: resolve(shots, "regions-3-done-800-light.png"), fullPage: true });
});
