// Builds the service worker after `vite build`: esbuild bundles src/sw/service-worker.ts
// (with its Workbox modules) into one classic script, then workbox-build's
// injectManifest replaces `self.__WB_MANIFEST` with the list of every built file of
// dist/app and a revision for each, and writes dist/app/sw.js.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { injectManifest } from 'workbox-build';
import { oqsAliases } from './oqs-aliases.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const APP_DIR = join(ROOT, 'dist', 'app');
const SW_ENTRY = join(ROOT, 'src', 'sw', 'service-worker.ts');
const SW_OUT = join(APP_DIR, 'sw.js');
/** The largest chunk (the crypto libraries) must still be precached. */
const MAX_PRECACHED_FILE_BYTES = 8 * 1024 * 1024;

const workDir = mkdtempSync(join(tmpdir(), 'petrel-sw-'));
try {
  const bundled = join(workDir, 'service-worker.js');
  await build({
    entryPoints: [SW_ENTRY],
    outfile: bundled,
    bundle: true,
    format: 'iife',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    // Workbox strips its development logging when NODE_ENV is production.
    define: { 'process.env.NODE_ENV': '"production"' },
    // The core's liboqs module (src/core/crypto/ml-kem-wasm.ts) imports node: builtins on a
    // branch only Node takes, and resolves nothing against import.meta.url in a browser.
    external: ['node:*'],
    alias: oqsAliases,
    logLevel: 'warning',
  });

  const { count, size, warnings } = await injectManifest({
    swSrc: bundled,
    swDest: SW_OUT,
    globDirectory: APP_DIR,
    globPatterns: ['**/*.{html,js,css,webmanifest,png,svg,ico,woff2}'],
    globIgnores: ['sw.js', '**/*.map'],
    // Vite puts a content hash in every file under assets/: no extra revision needed.
    dontCacheBustURLsMatching: /^assets\//,
    maximumFileSizeToCacheInBytes: MAX_PRECACHED_FILE_BYTES,
  });
  for (const w of warnings) process.stderr.write(`build-sw: ${w}\n`);
  process.stdout.write(`build-sw: dist/app/sw.js precaches ${count} files, ${(size / 1024).toFixed(1)} KiB\n`);
  if (warnings.length > 0) process.exitCode = 1;
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
