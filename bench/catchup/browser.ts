/**
 * Headless Debian Chromium in a persistent profile (IndexedDB on disk, as for a user; a
 * fresh context keeps it in memory), and a loopback HTTP origin serving a blank page
 * with the bundled page code and the fixture.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/support/chromium.ts';
import { oqsAliases } from '../../scripts/oqs-aliases.mjs';

/** Bundles a TypeScript entry into an IIFE that puts its exports on `globalThis[globalName]`. */
export async function bundleForPage(entry: string, globalName: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: 'chrome120',
    minify: true,
    // liboqs's module imports node: builtins on a branch only Node takes.
    external: ['node:*'],
    alias: oqsAliases,
    logLevel: 'silent',
  });
  return `${result.outputFiles[0]!.text}\nglobalThis[${JSON.stringify(globalName)}] = ${globalName};`;
}

export interface StaticOrigin {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `files` (path → body) on 127.0.0.1 at an ephemeral port; everything else is 404. */
export async function serveStatic(files: ReadonlyMap<string, { type: string; body: string | Uint8Array }>): Promise<StaticOrigin> {
  const server: Server = createServer((req, res) => {
    const file = files.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('static origin: no port');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Profile {
  readonly dir: string;
  launch(options?: { offline?: boolean }): Promise<BrowserContext>;
  remove(): void;
}

/** A persistent Chromium profile in a temp directory, launchable more than once. */
export function persistentProfile(prefix: string): Profile {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    launch: async (options = {}) => {
      const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
      if (options.offline) await context.setOffline(true);
      return context;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function chromiumVersion(context: BrowserContext): string {
  return context.browser()?.version() ?? 'unknown';
}

/** CPU time (ms, user + system) used so far by a Chromium launched on `profileDir`, split into renderer processes and the rest (browser process: IndexedDB, GPU, network). Linux /proc only; undefined elsewhere. */
export function chromiumCpuMs(profileDir: string): { renderer: number; browser: number } | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return undefined;
  }
  const ticksMs = 10; // USER_HZ is 100 on Linux
  const procs = new Map<number, { ppid: number; cpu: number; cmd: string }>();
  for (const d of entries) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) * ticksMs, cmd: readFileSync(`/proc/${d}/cmdline`, 'utf8') });
    } catch {
      // The process ended meanwhile.
    }
  }
  const tree = new Set([...procs].filter(([, p]) => p.cmd.includes(profileDir) && !p.cmd.includes('--type=')).map(([pid]) => pid));
  if (!tree.size) return undefined;
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!tree.has(pid) && tree.has(p.ppid)) {
        tree.add(pid);
        grew = true;
      }
    }
  }
  let renderer = 0;
  let browser = 0;
  for (const pid of tree) {
    const p = procs.get(pid)!;
    if (p.cmd.includes('--type=renderer')) renderer += p.cpu;
    else browser += p.cpu;
  }
  return { renderer, browser };
}
