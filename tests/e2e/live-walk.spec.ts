// A live walk in the browser: the real binary's --serve in live mode against
// the test doubles (tests/bin/live_rig.rs: fake Hetzner API, fake PDM, sshd on
// loopback, fake Kubernetes API, HTTPS console) and the real IaC engine. The
// token's form is checked before any call, Review plans for real and shows
// what will be created, Provision waits for the tick, then the run goes to Done.
import { expect, test } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { next } from "./wizard";

const shots = resolve(import.meta.dirname, "artifacts");
mkdirSync(shots, { recursive: true });

type Rig = { url: string; token: string; engine: string; log: string };

/** Starts the rig in a kernel keyring session of its own (the app keeps its secrets there). */
async function startRig(bin: string): Promise<{ rig: Rig; child: ChildProcess }> {
  const env = { ...process.env };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  delete env.HCLOUD_TOKEN;
  const child = spawn("keyctl", ["session", "-", bin], { env, stdio: ["pipe", "pipe", "inherit"] });
  const rig = await new Promise<Rig>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("the live rig printed nothing within 60 s")), 60_000);
    child.on("exit", (code) => fail(new Error(`the live rig exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      clearTimeout(timer);
      ok(JSON.parse(line) as Rig);
    });
  });
  return { rig, child };
}

test("live: a token checked by its form first, the plan on Review, Provision only with the tick, then a run to Done", async ({ page }) => {
  const bin = process.env.CATALYST_LIVE_RIG;
  // scripts/test.sh always sets it; a bare `npm run browser` without the rig says so.
  test.skip(!bin, "CATALYST_LIVE_RIG is not set (scripts/test.sh builds tests/bin/live_rig.rs and sets it)");
  test.setTimeout(420_000);
  const { rig, child } = await startRig(bin!);
  try {
    await page.goto(rig.url);
    await expect(page.getByTestId("live-banner")).toContainText("Live mode");
    await expect(page).toHaveTitle("Catalyst Provisioner — LIVE");

    await page.getByLabel("Organisation name").fill("Live Walk");
    await next(page, 2, { timeout: 15_000 });
    await next(page, 3, { timeout: 15_000 });
    await next(page, 4, { timeout: 15_000 });

    // The token: refused by its form before any call, then checked on Enter against the API.
    const token = page.getByLabel("API token (read & write)");
    await expect(page.getByRole("button", { name: "Use the demo token" })).toHaveCount(0);
    await token.fill("demo-token");
    await token.press("Enter");
    await expect(page.locator("#credentials-token-error")).toContainText("letters and digits only");
    await token.fill(rig.token);
    await token.press("Enter");
    await expect(page.getByText("The token is valid and may create resources in its Hetzner project.")).toBeVisible({ timeout: 20_000 });
    // The cluster keeps its own token (here the rig's only read-write one), checked on Enter.
    await page.getByLabel(/Its own token/).check();
    const clusterToken = page.getByLabel("The cluster's token (read & write)");
    await clusterToken.fill(rig.token);
    await clusterToken.press("Enter");
    await expect(page.getByText("The token is valid and may create resources in its Hetzner project.").nth(1)).toBeVisible({ timeout: 20_000 });
    await page.getByRole("button", { name: "Generate key" }).click();
    await expect(page.getByTestId("ssh-fingerprint")).toContainText("SHA256:");
    await page.screenshot({ path: resolve(shots, "live-walk-4-credentials.png"), fullPage: true });
    await next(page, 5, { timeout: 15_000 });
    await next(page, 6, { timeout: 15_000 });

    await page.getByLabel("Subdomain", { exact: true }).fill("live-walk");
    await expect(page.locator("#domain-availability")).toContainText("is available", { timeout: 20_000 });
    await page.getByLabel("Admin email", { exact: true }).fill("ops@live-walk.example");
    await next(page, 7, { timeout: 15_000 });

    // Review plans for real: resources by type and count, the cost; Provision waits for the tick.
    const plan = page.getByRole("region", { name: "What will be created" });
    await expect(plan.getByTestId("plan-table")).toContainText("hcloud_server", { timeout: 180_000 });
    await expect(plan.getByTestId("plan-table")).not.toContainText("Simulated cloud");
    await expect(plan.getByTestId("plan-summary")).toContainText(/\d+ to add, 0 to change, 0 to destroy · about €[\d.]+\/hour/);
    await page.screenshot({ path: resolve(shots, "live-walk-7-review-plan.png"), fullPage: true });
    const provision = page.getByRole("button", { name: "Provision" });
    await expect(provision).toHaveAttribute("aria-disabled", "true");
    await provision.click({ force: true });
    await expect(page.getByText("Step 7 of 7")).toBeVisible();
    await expect(page.locator("#next-reason")).toContainText("Tick the box");
    await plan.getByTestId("plan-confirm").check();
    await expect(provision).toHaveAttribute("aria-disabled", "false");
    await provision.click();

    // The run, through the real engine and the doubles, to Done.
    await expect(page.getByTestId("phase-tofu_apply")).toHaveAttribute("data-state", /running|done/, { timeout: 120_000 });
    await expect(page.getByTestId("run-status")).toHaveText("done", { timeout: 300_000 });
    await expect(page.getByText("Your Sovereign is ready")).toBeVisible();
    await expect(page.getByTestId("live-banner")).toBeVisible();
    await page.screenshot({ path: resolve(shots, "live-walk-8-done.png"), fullPage: true });
    // The first login: a signed, one-time link to the console's handover, opened in a new tab.
    // (The tab's page is Chromium's certificate error: the console's CA is the rig's own.)
    const asked = page.context().waitForEvent("request", (r) => r.url().includes("/auth/handover?token="));
    const popup = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Open console" }).click();
    expect((await asked).url()).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/auth\/handover\?token=[\w-]+\.[\w-]+\.[\w-]+$/);
    await (await popup).close();
    await expect(page.getByTestId("handover-note")).toContainText("The sign-in link works once");
    await page.screenshot({ path: resolve(shots, "live-walk-9-console-opened.png"), fullPage: true });
  } catch (e) {
    throw new Error(`${(e as Error).message}\n(engine: ${rig.engine}; the app's log: ${rig.log})`);
  } finally {
    // Closing stdin ends the rig, which takes its secrets back out of the keyring first.
    const ended = new Promise((ok) => child.once("exit", ok));
    child.stdin?.end();
    await Promise.race([ended, new Promise((ok) => setTimeout(ok, 15_000))]);
    child.kill("SIGTERM");
  }
});
