import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// Everything is bundled: no CDN, no web fonts, nothing fetched at run time
// (franchise laptops may have no route to the internet).
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The window's CSP allows no inline script; keep modulepreload polyfill out.
    modulePreload: { polyfill: false },
  },
  server: { port: 5173, strictPort: true },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
    setupFiles: ["src/test-setup.ts"],
  },
});
