// The console is built into ../internal/web/dist, which the Go binary embeds.
// Output names carry content hashes only, so the same sources give the same bundle
// (internal/web TestBundleFresh rebuilds into a temporary folder and compares).
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  build: {
    outDir: process.env.FLOWLENS_UI_OUT || '../internal/web/dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1500,
  },
});
