// Starts `catalyst-provisioner --serve` (the real binary and engine, demo mode,
// a throw-away CATALYST_HOME) and hands its address to the specs.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServe } from "./serve";

export default async function globalSetup() {
  const home = mkdtempSync(join(tmpdir(), "catalyst-e2e-"));
  const { url, stop } = await startServe(home);
  process.env.CATALYST_URL = url;
  process.env.CATALYST_HOME_DIR = home;
  return async () => {
    stop();
  };
}
