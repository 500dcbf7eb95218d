// The dashboard's Vite configuration. scripts/build-dashboard.mjs imports it and builds with it
// (configFile: false, so Vite writes no bundled copy of this file into node_modules); `npx vite web`
// serves it in development, with the API proxied to a running server on :8080.
import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default {
  root,
  base: '/',
  plugins: [preact()],
  cacheDir: fileURLToPath(new URL('./.vite-cache', import.meta.url)),
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, assetsInlineLimit: 0, chunkSizeWarningLimit: 400 },
  server: { proxy: { '/api': 'http://127.0.0.1:8080', '/downloads': 'http://127.0.0.1:8080', '/sdk': 'http://127.0.0.1:8080' } },
};
