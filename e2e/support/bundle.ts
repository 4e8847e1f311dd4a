/**
 * Bundles a core/platform entry file into an IIFE string at test time, to inject into a
 * page of the running app with `page.evaluate` (which runs under DevTools, so the app's
 * strict CSP does not refuse it). The bundle exposes its exports on `globalThis[globalName]`.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { oqsAliases } from '../../scripts/oqs-aliases.mjs';

export async function bundleForPage(entry: string, globalName: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: 'chrome120',
    // liboqs's module imports node: builtins on a branch only Node takes.
    external: ['node:*'],
    alias: { vitest: fileURLToPath(new URL('./vitest-shim.ts', import.meta.url)), ...oqsAliases },
    logLevel: 'silent',
  });
  // `var <globalName> = …` at the top of an evaluated script: make it a property of globalThis explicitly.
  return `${result.outputFiles[0]!.text}\nglobalThis[${JSON.stringify(globalName)}] = ${globalName};`;
}
