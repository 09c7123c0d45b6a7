// One answers file, two front ends: examples/answers.demo.yaml provisioned
// through the bridge the window's UI uses (demo mode, in Chromium) and by
// the headless CLI (`provision --answers FILE --demo --json`) must give the
// same sequence of events (phase + kind; timings, ids and payloads like IPs
// differ by design). Then, on the finished run: the kubeconfig saved, the
// event log exported and replayed read-only in the Replay page.
import { expect, test } from "@playwright/test";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";

const answersFile = resolve(import.meta.dirname, "../../examples/answers.demo.yaml");
const bin = process.env.CATALYST_BIN ?? resolve(import.meta.dirname, "../../target/debug/catalyst-provisioner");
const url = () => process.env.CATALYST_URL ?? "";

type Ev = { deployment_id: string; seq: number; phase: string; kind: { type: string } };
const kinds = (evs: Ev[]) => evs.map((e) => `${e.phase}/${e.kind.type}`);

async function cliRun(): Promise<Ev[]> {
  // Its own data dir: the CLI run must not show up in the window's list.
  const home = mkdtempSync(join(tmpdir(), "catalyst-parity-"));
  const { stdout } = await promisify(execFile)(bin, ["provision", "--answers", answersFile, "--demo", "--speed", "60", "--json"], {
    env: { ...process.env, CATALYST_HOME: home, DISPLAY: "", WAYLAND_DISPLAY: "" },
    maxBuffer: 64 * 1024 * 1024,
  });
  // The stream (docs/cli.md): a header line, the events (those carry a seq), a summary line.
  const lines = stdout
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(lines[0]).toMatchObject({ stream: "catalyst-provisioner/run", version: 1 });
  expect(lines[lines.length - 1]).toMatchObject({ summary: { status: "done", exit_code: 0 } });
  return lines.filter((l) => typeof l.seq === "number") as unknown as Ev[];
}

test("the window and the CLI run the same answers file to the same events; the run is exported and replayed read-only", async ({ page }) => {
  test.setTimeout(180_000);
  const cli = cliRun();
  const answers = load(readFileSync(answersFile, "utf8"));

  await page.goto(url());
  await expect(page.getByTestId("demo-banner")).toBeVisible();
  // Start the run over the bridge exactly as the UI does (same socket, same
  // command), keeping every event it sends.
  const id = await page.evaluate(async (answers) => {
    const token = /token=([0-9a-f]+)/.exec(window.location.hash)?.[1] ?? sessionStorage.getItem("catalyst.bridgeToken");
    const ws = new WebSocket(`ws://${window.location.host}/ws?token=${token}`);
    const seen: unknown[] = [];
    (window as unknown as { __events: unknown[] }).__events = seen;
    return await new Promise<string>((ok, fail) => {
      ws.onerror = () => fail(new Error("bridge socket failed"));
      ws.onmessage = (m) => {
        const msg = JSON.parse(String(m.data));
        if (msg.type === "event") seen.push(msg.payload);
        if (msg.type === "reply") {
          if (msg.error) fail(new Error(msg.error.message));
          else ok(msg.result.id);
        }
      };
      ws.onopen = () => ws.send(JSON.stringify({ id: 1, call: { cmd: "provision_start", args: { answers, scenario: null, speed: 60 } } }));
    });
  }, answers);
  await page.evaluate((id) => (window.location.hash = `#/run/${id}`), id);
  await expect(page.getByTestId("run-status")).toHaveText("done", { timeout: 120_000 });

  const windowEvents = ((await page.evaluate(() => (window as unknown as { __events: Ev[] }).__events)) as Ev[]).filter((e) => e.deployment_id === id);
  const cliEvents = await cli;
  expect(windowEvents.length).toBeGreaterThan(50);
  expect(windowEvents.map((e) => e.seq)).toEqual(windowEvents.map((_, i) => i + 1));
  expect(kinds(windowEvents)).toEqual(kinds(cliEvents));
  expect(kinds(cliEvents).at(-1)).toBe("done/done");

  // Kubeconfig from the Done card: without a native dialog it goes to the exports folder, 0600.
  await page.getByRole("button", { name: "Save kubeconfig…" }).click();
  await expect(page.getByTestId("saved-note")).toContainText("Kubeconfig saved to ");
  const kubePath = (await page.getByTestId("saved-note").textContent())!.replace("Kubeconfig saved to ", "").trim();
  expect(readFileSync(kubePath, "utf8")).toContain("current-context: omantel-demo.omani.works");
  expect(statSync(kubePath).mode & 0o777).toBe(0o600);

  // Export the event log, then replay it.
  await page.getByRole("button", { name: "Export event log" }).click();
  await expect(page.getByTestId("saved-note")).toContainText("Event log saved to ");
  const logPath = (await page.getByTestId("saved-note").textContent())!.replace("Event log saved to ", "").trim();
  expect(readFileSync(logPath, "utf8").split("\n")[0]).toContain('"format":"catalyst-provisioner/event-log"');

  await page.getByRole("button", { name: "Replay", exact: true }).click();
  // Something that is not an event log is refused with the reason.
  await page.locator("#replay-file").setInputFiles(kubePath);
  await page.getByRole("button", { name: "Play", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("not a Catalyst event log");

  await page.locator("#replay-file").setInputFiles(logPath);
  await page.getByLabel("Speed").selectOption("300");
  await page.getByRole("button", { name: "Play", exact: true }).click();
  await expect(page.getByTestId("replay-banner")).toContainText("Replay — recorded on");
  await expect(page.getByTestId("replay-banner")).toContainText("read-only");
  await expect(page.getByTestId("phase-console")).toHaveAttribute("data-state", "done", { timeout: 30_000 });
  await expect(page.getByTestId("replay-banner")).toContainText(`event ${windowEvents.length} of ${windowEvents.length}`);
  await expect(page.getByText("The recorded run reached Done")).toBeVisible();
  await expect(page.getByTestId("comp-cilium")).toContainText("installed");
  // Read-only: no action of a real run anywhere on the page.
  for (const name of ["Retry this phase", "Resume", "Cancel run", "Wipe…", "Save kubeconfig…", "Export event log"]) {
    await expect(page.getByRole("button", { name })).toHaveCount(0);
  }
  await page.screenshot({ path: resolve(import.meta.dirname, "artifacts", "replay-done.png"), fullPage: true });

  // The replay is not a deployment: the list holds the one real (demo) run only.
  await page.getByRole("button", { name: "Deployments", exact: true }).click();
  await expect(page.getByRole("row").filter({ hasText: "omantel-demo.omani.works" })).toHaveCount(1);
});
