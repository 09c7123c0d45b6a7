// Starts `catalyst-provisioner --serve` (the real binary and engine) with
// CATALYST_HOME = `home` and resolves with the address it prints (its
// per-launch token in the fragment) and a stop function.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

/** `keyring`: in a fresh kernel keyring session of its own, without D-Bus (live mode keeps secrets there). */
export async function startServe(home: string, opts: { keyring?: boolean } = {}): Promise<{ url: string; stop: () => void }> {
  const bin = process.env.CATALYST_BIN ?? resolve(import.meta.dirname, "../../target/debug/catalyst-provisioner");
  const env: NodeJS.ProcessEnv = { ...process.env, CATALYST_HOME: home, DISPLAY: "", WAYLAND_DISPLAY: "" };
  if (opts.keyring) delete env.DBUS_SESSION_BUS_ADDRESS;
  const [cmd, args] = opts.keyring ? ["keyctl", ["session", "-", bin, "--serve", "--port", "0"]] : [bin, ["--serve", "--port", "0"]];
  const child = spawn(cmd, args, {
    env,
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
  return { url, stop: () => child.kill("SIGTERM") };
}
