// The whole wizard in demo mode in a real Chromium against the real engine:
// every step filled in as an operator would, bad input on steps 3, 4 and 6,
// a screenshot of each step, then a demo run to Done that survives a reload.
import { expect, test, type Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { mkdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { next } from "./wizard";

const shots = resolve(import.meta.dirname, "artifacts");
mkdirSync(shots, { recursive: true });
const url = () => process.env.CATALYST_URL ?? "";
/** The draft as the engine wrote it (CATALYST_HOME/data/draft.json), or "" before the first save. */
const draftText = () => {
  try {
    return readFileSync(resolve(process.env.CATALYST_HOME_DIR ?? "", "data", "draft.json"), "utf8");
  } catch {
    return "";
  }
};
/** The answers in the draft (it also names the mode its checks were made in). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const draftAnswers = (): any => {
  const d = JSON.parse(draftText() || "{}");
  expect(d.mode ?? "demo").toBe("demo");
  return d.answers ?? {};
};

/** The WCAG 2 A/AA rules axe checks, as in browser.spec.ts; `what` names the failure. */
async function axe(page: Page, what: string) {
  const result = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa"]).analyze();
  expect(result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`), what).toEqual([]);
}

test("a demo walk through all seven steps, then a run to Done", async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto(url());
  await page.getByRole("button", { name: "Start over" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Start over" }).click();
  await expect(page.getByLabel("Organisation name")).toHaveValue("");

  // 1 Organisation
  await page.getByLabel("Organisation name").fill("Omantel");
  await page.getByLabel("Industry (optional)").selectOption("Telecommunications");
  await page.getByLabel("GDPR").check();
  await page.screenshot({ path: resolve(shots, "walk-1-organisation.png"), fullPage: true });
  await axe(page, "step 1");
  await next(page, 2);

  // 2 Topology: DUAL, then back to SOLO; HA shows its cost.
  // The engine applies the change (region cards follow), so click and wait for it.
  await page.getByLabel(/DUAL/).click();
  await expect(page.getByLabel(/DUAL/)).toBeChecked();
  await expect(page.getByLabel(/TRIANGLE/)).not.toBeChecked();
  await expect(page.locator("#topology-ha-hint")).toContainText("/month");
  await page.screenshot({ path: resolve(shots, "walk-2-topology.png"), fullPage: true });
  await axe(page, "step 2");
  await next(page, 3);

  // 3 Provider: two region cards; a duplicate location is refused next to its field.
  await expect(page.getByRole("heading", { name: /^Region \d$/ })).toHaveCount(2);
  await page.locator("#regions-1-location").selectOption("fsn1");
  // At once, on the region just changed (and on the one it clashes with once Next is pressed).
  await expect(page.locator("#regions-1-location-error")).toHaveText("Region 2 uses fsn1, as region 1 does; each region needs its own location.");
  await expect(page.locator("#regions-0-location-error")).toHaveCount(0);
  // Next is aria-disabled (still focusable); pressing it shows every reason next to its field.
  await page.getByRole("button", { name: "Next" }).click({ force: true });
  await expect(page.locator("#regions-0-location-error")).toHaveText("Region 1 uses fsn1, as region 2 does; each region needs its own location.");
  await page.locator("#regions-1-location").selectOption("hel1");
  await expect(page.getByTestId("total-cost")).toContainText("/month");
  await page.screenshot({ path: resolve(shots, "walk-3-provider.png"), fullPage: true });
  await axe(page, "step 3");
  await next(page, 4);

  // 4 Credentials: a read-only token is refused; a read-write one passes; a private key pasted is refused.
  await page.getByLabel("API token (read & write)").fill("demo-readonly-token");
  await page.getByRole("button", { name: "Validate" }).click();
  await expect(page.locator("#credentials-token-error")).toContainText("can only read");
  await page.getByLabel("API token (read & write)").fill("demo-token");
  await page.getByRole("button", { name: "Validate" }).click();
  await expect(page.getByText("Demo token accepted as read & write")).toBeVisible();
  await page.getByLabel(/Paste a public key/).click();
  await page.getByLabel("Public key", { exact: true }).fill("-----BEGIN OPENSSH PRIVATE KEY-----");
  await expect(page.locator("#credentials-ssh-public-key-error")).toContainText("This is a private key");
  // The draft saved after the paste (paste mode) holds nothing of it.
  await expect.poll(() => draftAnswers().credentials?.ssh_key_mode, { timeout: 5_000 }).toBe("paste");
  expect(draftText()).not.toContain("PRIVATE KEY");
  await page.getByLabel(/Generate \(recommended\)/).click();
  await page.getByRole("button", { name: "Generate key" }).click();
  await expect(page.getByTestId("ssh-fingerprint")).toContainText("SHA256:");
  await page.screenshot({ path: resolve(shots, "walk-4-credentials.png"), fullPage: true });
  await axe(page, "step 4");
  await next(page, 5);

  // 5 Components: Specter cascades into CORTEX.
  await page.getByLabel("Search components").fill("specter");
  await page.getByRole("button", { name: "Add Specter" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Also added" })).toContainText("BGE embeddings");
  await page.getByLabel("Search components").fill("");
  await page.screenshot({ path: resolve(shots, "walk-5-components.png"), fullPage: true });
  await axe(page, "step 5");
  // The footprint now exceeds the default servers: add workers later? Keep it: remove Specter's family again.
  await page.getByLabel("Search components").fill("vllm");
  await page.getByRole("button", { name: "Remove vLLM" }).click();
  await expect(page.getByRole("alertdialog")).toBeVisible();
  await axe(page, "component removal dialog");
  await page.getByRole("button", { name: "Remove all" }).click();
  await page.getByLabel("Search components").fill("");
  await next(page, 6);

  // 6 Domain: a reserved name, a taken name, then a free one.
  await page.getByLabel("Subdomain", { exact: true }).fill("console");
  await page.getByLabel("Subdomain", { exact: true }).blur();
  await expect(page.locator("#domain-subdomain-error")).toContainText("reserved");
  await page.getByLabel("Subdomain", { exact: true }).fill("acme");
  await expect(page.locator("#domain-availability")).toContainText("already used by a live Sovereign");
  // A taken name blocks Next; the sentence is said once (under the field), and Next points at it.
  await expect(page.locator("#next-reason")).toHaveText("Fix what is marked in red above first.");
  await expect(page.getByText("already used by a live Sovereign")).toHaveCount(1);
  await expect(page.getByRole("button", { name: "Next" })).toHaveAttribute("aria-disabled", "true");
  await page.getByLabel("Subdomain", { exact: true }).fill("omantel-prod");
  await expect(page.locator("#domain-availability")).toContainText("is available");
  await page.getByLabel("Admin email", { exact: true }).fill("platform@omantel");
  await page.getByLabel("Admin email", { exact: true }).blur();
  await expect(page.locator("#domain-admin-email-error")).toContainText("is not a domain");
  await page.getByLabel("Admin email", { exact: true }).fill("platform@omantel.om");
  await page.screenshot({ path: resolve(shots, "walk-6-domain.png"), fullPage: true });
  await axe(page, "step 6");
  await next(page, 7);

  // 7 Review: every section, with Edit links; then provision at ×60.
  for (const s of ["Organisation", "Topology", "Provider", "Credentials", "Components", "Domain"]) {
    await expect(page.getByRole("button", { name: `Edit ${s}` })).toBeVisible();
  }
  await expect(page.getByTestId("review-total")).toContainText("/month");
  // What will be created: the simulated cloud's list, by type, with the cost; no tick in demo mode.
  const plan = page.getByRole("region", { name: "What will be created" });
  await expect(plan.getByTestId("plan-table")).toContainText("Servers");
  await expect(plan.getByTestId("plan-table")).toContainText("Simulated cloud: nothing real is created.");
  await expect(plan.getByTestId("plan-summary")).toContainText(/\d+ to add, 0 to change, 0 to destroy · about €[\d.]+\/hour/);
  await expect(plan.getByRole("checkbox")).toHaveCount(0);
  await expect(plan.getByTestId("plan-certificates")).toContainText("Certificates: Let's Encrypt production");
  await page.getByLabel("Speed").selectOption("60");
  await page.screenshot({ path: resolve(shots, "walk-7-review.png"), fullPage: true });
  await axe(page, "step 7");
  // The same at a small size, in the dark theme.
  await page.setViewportSize({ width: 800, height: 600 });
  await page.getByRole("button", { name: /Switch to dark theme/ }).click();
  await page.screenshot({ path: resolve(shots, "walk-7-review-800-dark.png"), fullPage: true });
  await axe(page, "step 7, dark, 800×600");
  await page.getByRole("button", { name: /Switch to light theme/ }).click();
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.getByRole("button", { name: "Provision" }).click();

  // The live page: phases advance, then a reload mid-run shows the same page.
  await expect(page.getByTestId("phase-tofu_apply")).toHaveAttribute("data-state", /running|done/, { timeout: 30_000 });
  await page.reload();
  await expect(page.getByTestId("phase-preflight")).toHaveAttribute("data-state", "done");
  await expect(page.getByTestId("run-status")).toHaveText("done", { timeout: 120_000 });
  await expect(page.getByText("Your Sovereign is ready")).toBeVisible();
  await expect(page.getByTestId("comp-cilium")).toContainText("installed");
  await page.screenshot({ path: resolve(shots, "walk-8-done.png"), fullPage: true });
  await expect(page.getByTestId("demo-banner")).toBeVisible();

  // Wipe from the deployments list, confirmed by typing the name.
  await page.getByRole("button", { name: "All deployments" }).click();
  const row = page.getByRole("row").filter({ hasText: "omantel-prod.omani.works" }).filter({ hasText: "done" }).first();
  await expect(page.getByTestId("demo-banner")).toBeVisible();
  // While the servers exist the list says what they cost per hour.
  await expect(row).toContainText("€");
  await row.getByRole("button", { name: "Wipe…" }).click();
  const dialog = page.getByRole("alertdialog");
  await expect(dialog.getByRole("button", { name: "Wipe" })).toBeDisabled();
  await dialog.getByLabel("Sovereign name").fill("omantel-prod.omani.works");
  await dialog.getByRole("button", { name: "Wipe" }).click();
  await expect(dialog.getByRole("status")).toContainText("The cloud is empty");
  await page.screenshot({ path: resolve(shots, "walk-9-wiped.png"), fullPage: true });
  await dialog.getByRole("button", { name: "Close" }).click();
  const wiped = page.getByRole("row").filter({ hasText: "omantel-prod.omani.works" }).filter({ hasText: "wiped" }).first();
  await expect(wiped).toBeVisible();
  await expect(wiped.getByRole("button", { name: "Wipe…" })).toHaveCount(0);
  // Its page now tells the truth: wiped, with the wipe's report; no "ready", no links, no kubeconfig.
  await wiped.getByRole("button", { name: "Open" }).click();
  await expect(page.getByTestId("run-status")).toHaveText("wiped");
  await expect(page.getByTestId("wiped-card")).toContainText("This Sovereign was wiped");
  await expect(page.getByTestId("wiped-card")).toContainText(/\d+ resources removed/);
  await expect(page.getByText("Your Sovereign is ready")).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Save kubeconfig…" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: /console\./ })).toHaveCount(0);
  await expect(page.getByRole("heading", { name: /Components \(removed with the wipe/ })).toBeVisible();
  await page.screenshot({ path: resolve(shots, "walk-10-wiped-page.png"), fullPage: true });
  await axe(page, "wiped page");
  await page.getByRole("button", { name: "All deployments" }).click();

  // Forget after a clean wipe: one confirmation, and the row is gone.
  const before = await page.getByRole("row").filter({ hasText: "omantel-prod.omani.works" }).count();
  await wiped.getByRole("button", { name: "Forget…" }).click();
  const forget = page.getByRole("alertdialog");
  await expect(forget).toContainText("removes its record");
  await forget.getByRole("button", { name: "Forget" }).click();
  await expect(page.getByRole("row").filter({ hasText: "omantel-prod.omani.works" })).toHaveCount(before - 1);

  // Demo mode says so on every page, Settings included.
  await page.getByRole("button", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  await expect(page.getByTestId("demo-banner")).toBeVisible();
});

test("a reload mid-wizard restores the answers from the draft", async ({ page }) => {
  await page.goto(url());
  await page.getByRole("button", { name: "Start over" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Start over" }).click();
  await expect(page.getByLabel("Organisation name")).toHaveValue("");
  await page.getByLabel("Organisation name").fill("Reload Org");
  await next(page, 2);
  await page.getByLabel(/DUAL/).click();
  await expect(page.getByLabel(/DUAL/)).toBeChecked();
  await next(page, 3);
  await page.locator("#regions-1-location").selectOption("hel1");
  await expect(page.locator("#regions-1-location")).toHaveValue("hel1");
  // The draft is saved a moment after the last change: wait until it holds it.
  await expect
    .poll(() => {
      const d = draftAnswers();
      return [d.organisation?.name, d.topology, d.regions?.[1]?.location].join(" ");
    }, { timeout: 5_000 })
    .toBe("Reload Org DUAL hel1");
  await page.reload();
  await expect(page.getByText("Your draft was restored.")).toBeVisible();
  await expect(page.getByLabel("Organisation name")).toHaveValue("Reload Org");
  await next(page, 2);
  await expect(page.getByLabel(/DUAL/)).toBeChecked();
  await next(page, 3);
  await expect(page.getByRole("heading", { name: /^Region \d$/ })).toHaveCount(2);
  await expect(page.locator("#regions-0-location")).toHaveValue("fsn1");
  await expect(page.locator("#regions-1-location")).toHaveValue("hel1");
  await page.getByRole("button", { name: "Start over" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Start over" }).click();
});
