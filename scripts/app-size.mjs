// Reports the JavaScript a first visit to Petrel downloads before it can run: the
// entry chunk of the production build and every chunk it imports statically
// (dynamic imports load later and are listed apart). Reads the Vite manifest
// (dist/app/.vite/manifest.json, written because vite.config.ts sets build.manifest)
// and prints JSON on stdout; the benchmark harness parses it.
//
//   node scripts/app-size.mjs [--dir dist/app] [--check]
//
// --check exits with status 1 when the initial JavaScript exceeds the budget.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Issue 7's budget for initial JavaScript, gzip-compressed. */
export const INITIAL_JS_BUDGET_GZIP_BYTES = 250 * 1000;
const GZIP_LEVEL = 9;

function parseArgs(argv) {
  const opts = { dir: 'dist/app', check: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--dir') opts.dir = argv[++i] ?? opts.dir;
    else if (argv[i] === '--check') opts.check = true;
    else throw new Error(`app-size: unknown argument ${argv[i]}`);
  }
  return opts;
}

function measure(appDir, file) {
  const bytes = readFileSync(join(appDir, file));
  return { file, rawBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: GZIP_LEVEL }).length };
}

/** The entry's chunk key and every chunk reachable through static `imports`, in load order. */
function staticClosure(manifest, entryKey) {
  const seen = new Set();
  const visit = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const dep of manifest[key]?.imports ?? []) visit(dep);
  };
  visit(entryKey);
  return [...seen];
}

export function appSize(appDir) {
  const manifestPath = join(appDir, '.vite', 'manifest.json');
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    throw new Error(`app-size: cannot read ${manifestPath} (run \`npm run build\` first): ${err.message}`, { cause: err });
  }
  const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry);
  if (!entryKey) throw new Error(`app-size: ${manifestPath} has no entry chunk`);

  const initialKeys = staticClosure(manifest, entryKey);
  const initial = new Set(initialKeys);
  const chunks = initialKeys.map((k) => measure(appDir, manifest[k].file));
  const css = [...new Set(initialKeys.flatMap((k) => manifest[k].css ?? []))].map((f) => measure(appDir, f));
  const lazy = Object.keys(manifest)
    .filter((k) => !initial.has(k) && manifest[k].file.endsWith('.js'))
    .map((k) => measure(appDir, manifest[k].file));

  const sum = (list, field) => list.reduce((n, c) => n + c[field], 0);
  const gzipBytes = sum(chunks, 'gzipBytes');
  return {
    entry: entryKey,
    initialJs: { rawBytes: sum(chunks, 'rawBytes'), gzipBytes, chunks },
    budgetGzipBytes: INITIAL_JS_BUDGET_GZIP_BYTES,
    withinBudget: gzipBytes <= INITIAL_JS_BUDGET_GZIP_BYTES,
    initialCss: { rawBytes: sum(css, 'rawBytes'), gzipBytes: sum(css, 'gzipBytes'), files: css },
    lazyJs: { rawBytes: sum(lazy, 'rawBytes'), gzipBytes: sum(lazy, 'gzipBytes'), chunks: lazy },
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const report = appSize(resolve(opts.dir));
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (opts.check && !report.withinBudget) process.exitCode = 1;
}

// Run as a command; importing the module (the benchmark harness may) only exports appSize.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 2;
  }
}
