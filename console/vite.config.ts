/**
 * Builds the console into dist/console, which the admin port serves: hashed file names under
 * assets/ (cached for a year), no inline scripts or styles (the Content-Security-Policy allows
 * neither) and no file inlined as a data: URL.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    target: 'es2022',
    // the graph library is one chunk of its own, loaded only by package pages
    chunkSizeWarningLimit: 600,
    reportCompressedSize: false,
  },
});
