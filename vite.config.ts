import { defineConfig } from 'vite';
import { oqsAliases } from './scripts/oqs-aliases.mjs';
import { preactAliases } from './scripts/preact-aliases.mjs';

const relayPort = Number(process.env.PORT ?? 8787);

export default defineConfig({
  // The app is written against React's API and runs on Preact's compat layer: the same
  // hooks and JSX in about 5 KB gzip instead of react-dom's 60 KB (docs/ARCHITECTURE.md).
  resolve: { alias: { ...preactAliases, ...oqsAliases } },
  // The core's Worker (src/platform/core-worker/) is a module worker: it shares chunks with nothing on the UI thread.
  worker: { format: 'es' },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    // dist/app/.vite/manifest.json: scripts/app-size.mjs reads the entry chunk and its
    // static imports from it to measure the JavaScript a first visit downloads.
    manifest: true,
  },
  server: {
    // `npm run dev`: the relay runs beside Vite; the WebSocket and HTTP APIs go to it.
    proxy: {
      '/ws': { target: `ws://127.0.0.1:${relayPort}`, ws: true },
      '/health': `http://127.0.0.1:${relayPort}`,
      '/metrics': `http://127.0.0.1:${relayPort}`,
    },
  },
});
