// Tells the app when the first wizard step has been painted, for the cold
// start benchmark (bench/). The app prints the mark only when the
// CATALYST_BENCH_MARK environment variable is set; otherwise it is a no-op.
import { invoke } from "@tauri-apps/api/core";
import { insideTauri } from "./api/transport";

const STEP = "form.step #step-title";

export function reportFirstPaint(doc: Document = document): void {
  if (!insideTauri()) return;
  // A task queued from a frame callback runs after that frame is painted.
  const fire = () => {
    requestAnimationFrame(() =>
      setTimeout(() => {
        invoke("bench_mark", { name: "first-paint" }).catch(() => undefined);
      }, 0),
    );
  };
  if (doc.querySelector(STEP)) {
    fire();
    return;
  }
  const mo = new MutationObserver(() => {
    if (!doc.querySelector(STEP)) return;
    mo.disconnect();
    fire();
  });
  mo.observe(doc.body, { childList: true, subtree: true });
}
