// Nothing destructive without a way back, by keyboard only: Start over asks
// and can be undone, Cancel asks and leaves a cancelled phase with Resume and
// Wipe, and every dialog closes on Escape, submits on Enter and starts with
// the focus in the field to type. Disabled buttons look disabled.
import { expect, test, type Locator, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { next } from "./wizard";

const shots = resolve(import.meta.dirname, "artifacts");
mkdirSync(shots, { recursive: true });
const url = () => process.env.CATALYST_URL ?? "";

/** Presses a button as a keyboard user does: focus it, then Enter. */
async function press(b: Locator) {
  await b.focus();
  await b.press("Enter");
}

async function opacity(l: Locator) {
  return Number(await l.evaluate((e) => getComputedStyle(e).opacity));
}

test("Start over, Cancel and the dialogs by keyboard: Escape keeps, Enter submits, focus where to type", async ({ page }) => {
  test.setTimeout(120_000);
  await page.goto(url());
  const name = page.getByLabel("Organisation name");
  await name.fill("Keyboard Org");

  // Start over asks; the safe choice has the focus; Escape keeps the answers.
  await press(page.getByRole("button", { name: "Start over" }));
  const ask = page.getByRole("alertdialog", { name: "Start over?" });
  await expect(ask.getByRole("button", { name: "Keep my answers" })).toBeFocused();
  await page.screenshot({ path: resolve(shots, "dialog-start-over.png") });
  await page.keyboard.press("Escape");
  await expect(ask).toHaveCount(0);
  await expect(name).toHaveValue("Keyboard Org");
  // Asked again: Tab stays inside the dialog; Enter on "Start over" clears; Undo brings it back.
  await press(page.getByRole("button", { name: "Start over" }));
  await page.keyboard.press("Tab");
  await expect(ask.getByRole("button", { name: "Start over" })).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(ask.getByRole("button", { name: "Keep my answers" })).toBeFocused();
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Enter");
  await expect(name).toHaveValue("");
  await press(page.getByTestId("undo-start-over"));
  await expect(name).toHaveValue("Keyboard Org");

  // Disabled looks disabled: Next while the step is incomplete.
  await name.fill("");
  await expect(page.getByRole("button", { name: "Next" })).toHaveAttribute("aria-disabled", "true");
  expect(await opacity(page.getByRole("button", { name: "Next" }))).toBeLessThan(0.6);
  await name.fill("Keyboard Org");

  // A slow demo run to cancel.
  await next(page, 2, { keyboard: true });
  await next(page, 3, { keyboard: true });
  await next(page, 4, { keyboard: true });
  await press(page.getByRole("button", { name: "Use the demo token" }));
  await expect(page.getByText("Demo token accepted as read & write")).toBeVisible();
  await press(page.getByRole("button", { name: "Generate key" }));
  await expect(page.getByTestId("ssh-fingerprint")).toContainText("SHA256:");
  await next(page, 5, { keyboard: true });
  await next(page, 6, { keyboard: true });
  await page.getByLabel("Subdomain", { exact: true }).fill("keyboard-cancel");
  await expect(page.locator("#domain-availability")).toContainText("is available");
  await page.getByLabel("Admin email", { exact: true }).fill("ops@keyboard.example");
  await next(page, 7, { keyboard: true });
  await page.getByLabel("Speed").selectOption("1");
  await press(page.getByRole("button", { name: "Provision" }));
  await expect(page.getByTestId("phase-preflight")).toHaveAttribute("data-state", /running|done/, { timeout: 30_000 });

  // Cancel asks; Escape keeps it running; Enter on the confirm button cancels.
  await press(page.getByRole("button", { name: "Cancel run…" }));
  const cancel = page.getByRole("alertdialog", { name: "Cancel this run?" });
  await expect(cancel.getByRole("button", { name: "Keep running" })).toBeFocused();
  await page.screenshot({ path: resolve(shots, "dialog-cancel-run.png") });
  await page.keyboard.press("Escape");
  await expect(cancel).toHaveCount(0);
  await expect(page.getByTestId("run-status")).toHaveText("running");
  await press(page.getByRole("button", { name: "Cancel run…" }));
  await press(cancel.getByRole("button", { name: "Cancel the run" }));
  await expect(page.getByTestId("run-status")).toHaveText("cancelled", { timeout: 20_000 });
  await expect(page.locator('[data-state="cancelled"]')).toHaveCount(1);
  const card = page.getByTestId("stopped-card");
  await expect(card.getByRole("button", { name: "Resume" })).toBeVisible();

  // Wipe from the card: focus starts in the name field; Wipe is disabled (and looks it) until it matches; Enter submits.
  await press(card.getByRole("button", { name: "Wipe…" }));
  const wipe = page.getByRole("alertdialog", { name: /^Wipe / });
  const field = wipe.getByLabel("Sovereign name");
  await expect(field).toBeFocused();
  await expect(wipe.getByRole("button", { name: "Wipe", exact: true })).toBeDisabled();
  expect(await opacity(wipe.getByRole("button", { name: "Wipe", exact: true }))).toBeLessThan(0.6);
  await page.screenshot({ path: resolve(shots, "dialog-wipe.png") });
  await page.keyboard.press("Escape");
  await expect(wipe).toHaveCount(0);
  await press(card.getByRole("button", { name: "Wipe…" }));
  await page.keyboard.type("keyboard-cancel.omani.works");
  await page.keyboard.press("Enter");
  await expect(wipe.getByRole("status")).toContainText("The cloud is empty", { timeout: 30_000 });
  await expect(wipe.getByRole("button", { name: "Close" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(wipe).toHaveCount(0);
  await expect(page.getByTestId("run-status")).toHaveText("wiped");
});
