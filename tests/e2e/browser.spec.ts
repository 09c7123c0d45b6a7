// The UI in a real (headless) Chromium, talking to the real engine through
// the websocket bridge of `catalyst-provisioner --serve`.
import { expect, test, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";

const shots = resolve(import.meta.dirname, "artifacts");
mkdirSync(shots, { recursive: true });

function url() {
  const u = process.env.CATALYST_URL;
  if (!u) throw new Error("CATALYST_URL not set by the global setup");
  return u;
}

/** Every request the page makes must stay on loopback. */
function watchNetwork(page: Page) {
  const off: string[] = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (!["127.0.0.1", "localhost"].includes(u.hostname) && u.protocol !== "data:") off.push(r.url());
  });
  return off;
}

test("walks from step 1 to step 2 in demo mode", async ({ page }) => {
  const offLoopback = watchNetwork(page);
  await page.goto(url());
  await expect(page.getByTestId("demo-banner")).toContainText("nothing real is created");
  await expect(page.getByText("Step 1 of 7")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Organisation" })).toBeVisible();

  const next = page.getByRole("button", { name: "Next" });
  // The engine's reason is visible while Next is blocked.
  await expect(page.locator("#next-reason")).toHaveText("Enter your organisation's name.");
  await expect(next).toHaveAttribute("aria-disabled", "true");
  await page.getByLabel("Organisation name").fill("A");
  await page.getByLabel("Organisation name").blur();
  await expect(page.locator("#organisation-name-error")).toHaveText("The organisation name needs at least 2 characters.");

  await page.getByLabel("Organisation name").fill("Omantel");
  await expect(next).toHaveAttribute("aria-disabled", "false");
  await next.click();
  await expect(page.getByText("Step 2 of 7")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Topology" })).toBeVisible();
  await expect(page.getByTestId("demo-banner")).toBeVisible();
  await page.screenshot({ path: resolve(shots, "browser-step2.png"), fullPage: true });
  expect(offLoopback).toEqual([]);
});

test("a reload keeps the draft the engine saved", async ({ page }) => {
  await page.goto(url());
  await page.getByLabel("Organisation name").fill("Draft Org");
  // The draft is saved a moment after typing stops.
  await page.waitForTimeout(800);
  await page.reload();
  await expect(page.getByLabel("Organisation name")).toHaveValue("Draft Org");
  await expect(page.getByText("Your draft was restored.")).toBeVisible();
});

test("step 1 passes an accessibility check in both themes", async ({ page }) => {
  await page.goto(url());
  await expect(page.getByText("Step 1 of 7")).toBeVisible();
  for (const theme of ["light", "dark"]) {
    if (theme === "dark") await page.getByRole("button", { name: /Switch to dark theme/ }).click();
    const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
    expect(result.violations.map((v) => `${v.id}: ${v.help}`), theme).toEqual([]);
  }
});

test("the settings page previews a franchise profile with its secrets masked", async ({ page }) => {
  const offLoopback = watchNetwork(page);
  await page.goto(url());
  await page.getByRole("button", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  await expect(page.getByLabel("Create the cloud resources")).toHaveAttribute("placeholder", "1800");
  // No window here, so the path is typed; the preview comes before any change.
  await page.getByRole("button", { name: "Import profile…" }).click();
  await expect(page.getByText("No file dialog here")).toBeVisible();
  const example = resolve(import.meta.dirname, "../../examples/franchise-profile.json");
  await page.getByLabel("Profile file").fill(example);
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = page.getByLabel("Profile preview");
  await expect(preview.getByRole("cell", { name: "pdm_url" })).toBeVisible();
  await expect(preview.getByRole("cell", { name: "https://pdm.openova.io" })).toBeVisible();
  await expect(preview.getByText("pdm_password")).toBeVisible();
  await expect(page.locator("body")).not.toContainText("replace-me");
  await expect(page.getByRole("button", { name: "Apply" })).toBeEnabled();
  // A wrong field shows its error beside it; nothing is saved.
  await page.getByLabel("GitOps repository").fill("http://git.example.org/r");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#settings-gitops_url-error")).toContainText("https://");
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  expect(result.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  expect(offLoopback).toEqual([]);
});

test("the settings page at 1280×800 and 800×600 in both themes, with the engine hint", async ({ page }) => {
  for (const [w, h] of [
    [1280, 800],
    [800, 600],
  ]) {
    await page.setViewportSize({ width: w, height: h });
    await page.goto(url());
    await page.getByRole("button", { name: "Settings" }).click();
    await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
    // Terraform is accepted only when named here, and the hint says what that costs.
    await expect(page.getByText("A Terraform runs only when named here, and keeps its state unencrypted.")).toBeVisible();
    for (const theme of ["light", "dark"]) {
      if (theme === "dark") await page.getByRole("button", { name: /Switch to dark theme/ }).click();
      await page.screenshot({ path: resolve(shots, `settings-${w}x${h}-${theme}.png`), fullPage: true });
    }
    await page.getByRole("button", { name: /Switch to light theme/ }).click();
  }
});
