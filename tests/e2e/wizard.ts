// Steps through the wizard as the specs do: Next once the engine allows it
// (aria-disabled false), then the step's "Step n of 7" heading.
import { expect, type Page } from "@playwright/test";

export async function next(page: Page, n: number, opts: { keyboard?: boolean; timeout?: number } = {}) {
  const btn = page.getByRole("button", { name: "Next" });
  await expect(btn).toHaveAttribute("aria-disabled", "false", { timeout: opts.timeout });
  if (opts.keyboard) {
    await btn.focus();
    await btn.press("Enter");
  } else {
    await btn.click();
  }
  await expect(page.getByText(`Step ${n} of 7`)).toBeVisible();
}
