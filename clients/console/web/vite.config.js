// Bundles src/main.js (htmx, Chart.js, the console's own behaviour) and its CSS into the Python
// package, under fixed names the templates link to. Nothing is loaded from a CDN at run time.
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, "../chatdb_console/static"),
    emptyOutDir: true,
    assetsDir: "",
    rollupOptions: {
      input: resolve(import.meta.dirname, "src/main.js"),
      output: {
        entryFileNames: "console.js",
        assetFileNames: "console[extname]",
      },
    },
  },
});
