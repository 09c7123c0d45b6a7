// The same first-paint mark as the app (ui/src/benchMark.ts): a task queued
// from a frame callback runs after that frame is painted.
requestAnimationFrame(() =>
  setTimeout(() => window.__TAURI__.core.invoke("bench_mark", { name: "first-paint" }), 0),
);
