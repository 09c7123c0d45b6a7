// Starts `catalyst-provisioner --serve` (the real binary and engine, demo mode,
// a throw-away CATALYST_HOME) and hands its address to the specs.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export default async function globalSetup() {
  const bin = process.env.CATALYST_BIN ?? resolve(import.meta.dirname, "../../target/debug/catalyst-provisioner");
  const home = mkdtempSync(join(tmpdir(), "catalyst-e2e-"));
  const child = spawn(bin, ["--serve", "--port", "0"], {
    env: { ...process.env, CATALYST_HOME: home, DISPLAY: "", WAYLAND_DISPLAY: "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("--serve printed no address within 20 s")), 20_000);
    child.on("exit", (code) => fail(new Error(`--serve exited with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]+)/.exec(line);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(m[1]);
      }
    });
  });
  process.env.CATALYST_URL = url;
  process.env.CATALYST_HOME_DIR = home;
  return async () => {
    child.kill("SIGTERM");
  };
}
