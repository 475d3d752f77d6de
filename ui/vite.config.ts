// Vite build config for the Muster console: relative asset paths so the bundle works under Tauri and `muster serve`.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: {
      // `npm run dev` against a local `muster serve` (set MUSTER_API, e.g. http://127.0.0.1:8080).
      "/api": { target: process.env.MUSTER_API ?? "http://127.0.0.1:8080", changeOrigin: false },
    },
  },
});
