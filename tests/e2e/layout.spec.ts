// The layout holds at a laptop's 1280×800 and at 1024×768, in both themes:
// every wizard step, the run page, the deployments list and Settings are
// photographed, and none is wider than the window (scrollWidth <= clientWidth).
// On the run page the header's buttons share one line and the log is beside
// the timeline, above the fold.
import { expect, test, type Page } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { next } from "./wizard";

const shots = resolve(import.meta.dirname, "artifacts", "layout");
mkdirSync(shots, { recursive: true });
const url = () => process.env.CATALYST_URL ?? "";

const SIZES = [
  { width: 1280, height: 800 },
  { width: 1024, height: 768 },
];
const THEMES = ["light", "dark"] as const;
/** An operator's own public key (its private half is in no agent here). */
const PASTED_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBwD4lRcPyOl0iA5xeQn8KdDI94fp7StYSjTCRjSd8nd operator@laptop";

/** Nothing sticks out sideways: the page never scrolls horizontally, and names what does. */
async function fitsTheWidth(page: Page, what: string) {
  const r = await page.evaluate(() => {
    const root = document.documentElement;
    const vw = root.clientWidth;
    // The widest visible elements outside any scrolling box, for the message.
    const wide = [...document.querySelectorAll<HTMLElement>("body *")]
      .filter((e) => {
        const b = e.getBoundingClientRect();
        if (b.width === 0 || b.right <= vw + 1) return false;
        for (let p = e.parentElement; p; p = p.parentElement) {
          const o = getComputedStyle(p).overflowX;
          if (o === "auto" || o === "scroll" || o === "hidden") return false;
        }
        return true;
      })
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`);
    return { scroll: root.scrollWidth, client: vw, wide };
  });
  expect(r.wide, `${what}: elements wider than the ${r.client}px window`).toEqual([]);
  expect(r.scroll, `${what}: the page scrolls sideways`).toBeLessThanOrEqual(r.client);
}

async function shot(page: Page, name: string) {
  await fitsTheWidth(page, name);
  await page.screenshot({ path: resolve(shots, `${name}.png`), fullPage: true });
}

for (const size of SIZES) {
  for (const theme of THEMES) {
    const tag = `${size.width}x${size.height}-${theme}`;
    test(`layout at ${tag}`, async ({ page }) => {
      test.setTimeout(150_000);
      await page.setViewportSize(size);
      await page.addInitScript((t) => localStorage.setItem("catalyst.theme", t), theme);
      await page.goto(url());
      await expect(page.locator("html")).toHaveAttribute("data-theme", theme);
      await page.getByRole("button", { name: "Start over" }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Start over" }).click();
      await expect(page.getByLabel("Organisation name")).toHaveValue("");
      const sub = `layout-${size.width}-${theme}`;

      await page.getByLabel("Organisation name").fill("Layout Org");
      await shot(page, `${tag}-1-organisation`);
      await next(page, 2);
      await page.getByLabel(/DUAL/).click();
      await expect(page.getByLabel(/DUAL/)).toBeChecked();
      await shot(page, `${tag}-2-topology`);
      await next(page, 3);
      await page.locator("#regions-1-location").selectOption("hel1");
      await shot(page, `${tag}-3-provider`);
      await next(page, 4);
      await page.getByRole("button", { name: "Use the demo token" }).click();
      await expect(page.getByText("Demo token accepted as read & write")).toBeVisible();
      await page.getByRole("button", { name: "Generate key" }).click();
      await expect(page.getByTestId("ssh-fingerprint")).toContainText("SHA256:");
      await page.getByLabel(/Address ranges allowed/).fill("203.0.113.0/24, 198.51.100.7/32");
      await shot(page, `${tag}-4-credentials`);
      // The cluster's own token, checked like the first.
      await page.getByLabel(/Its own token/).check();
      await page.getByRole("button", { name: "Use the demo token for the cluster" }).click();
      await expect(page.getByRole("status").filter({ hasText: "Demo token accepted" }).last()).toBeVisible();
      // A pasted key: the app says whether an SSH agent holds it.
      await page.getByLabel(/Paste a public key/).check();
      await page.getByLabel("Public key", { exact: true }).fill(PASTED_KEY);
      await expect(page.getByTestId("agent-status")).toBeVisible();
      await shot(page, `${tag}-4b-cluster-token-and-pasted-key`);
      await next(page, 5);
      await shot(page, `${tag}-5-components`);
      await next(page, 6);
      await page.getByLabel("Subdomain", { exact: true }).fill(sub);
      await expect(page.locator("#domain-availability")).toContainText("is available");
      await page.getByLabel("Admin email", { exact: true }).fill("ops@layout.example");
      await shot(page, `${tag}-6-domain`);
      await next(page, 7);
      await expect(page.getByTestId("plan-summary")).toBeVisible();
      // The admin key's fingerprint wraps inside its card.
      await shot(page, `${tag}-7-review`);
      await page.getByLabel("Speed").selectOption("1");
      await page.getByLabel("Demo story").selectOption("happy_path");
      await page.getByRole("button", { name: "Provision" }).click();

      // The run page: one line of header buttons, the log beside the timeline and above the fold.
      await expect(page.getByTestId("phase-preflight")).toHaveAttribute("data-state", /running|done/, { timeout: 30_000 });
      await expect(page.getByRole("heading", { name: "Components (listed when the platform install starts)" })).toBeVisible();
      await shot(page, `${tag}-8-run`);
      const tops = await page.locator(".run-head > .inline button").evaluateAll((bs) => bs.map((b) => Math.round(b.getBoundingClientRect().top)));
      expect(tops.length).toBeGreaterThan(1);
      expect(new Set(tops).size, `header buttons on one line: ${tops}`).toBe(1);
      const log = await page.getByRole("log").boundingBox();
      const timeline = await page.getByRole("list", { name: "Phases" }).boundingBox();
      expect(log && timeline).toBeTruthy();
      expect(log!.y, "the log starts above the fold").toBeLessThan(size.height - 100);
      if (size.width > 900) expect(log!.x, "the log is beside the timeline").toBeGreaterThan(timeline!.x + timeline!.width - 1);

      // Cancelled by keyboard; the card offers Resume and Wipe.
      await page.getByRole("button", { name: "Cancel run…" }).click();
      await page.getByRole("alertdialog").getByRole("button", { name: "Cancel the run" }).click();
      await expect(page.getByTestId("run-status")).toHaveText("cancelled", { timeout: 20_000 });
      await shot(page, `${tag}-9-cancelled`);

      await page.getByRole("button", { name: "All deployments" }).click();
      await expect(page.getByRole("row").filter({ hasText: sub })).toHaveCount(1);
      await shot(page, `${tag}-10-deployments`);
      // Every row's actions fit in the table.
      const cells = await page.locator(".deployments td.actions").evaluateAll((tds) => tds.map((td) => td.scrollWidth <= td.clientWidth + 1));
      expect(cells.every(Boolean)).toBe(true);

      await page.getByRole("button", { name: "Settings" }).click();
      await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
      await shot(page, `${tag}-11-settings`);
      await page.getByRole("button", { name: "Replay" }).click();
      await shot(page, `${tag}-12-replay`);
    });
  }
}
