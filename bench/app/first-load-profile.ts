/**
 * Diagnostic, not a benchmark (`npx tsx bench/app/first-load-profile.ts`): a CPU profile
 * of one cold first load of the built app under 4× CPU throttling, self and total time
 * per source function and per package (through the build's source maps). Issue 22 found
 * with it that @noble/curves was evaluated on the UI thread at load. Needs `npm run build`.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, basename } from 'node:path';
import { chromium } from '@playwright/test';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../e2e/support/chromium.ts';
import { loadConfig } from '../../src/relay/config.ts';
import { startRelay } from '../../src/relay/server.ts';
import { createLogger } from '../../src/relay/logger.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const APP = join(ROOT, 'dist', 'app');
const dataDir = mkdtempSync(join(tmpdir(), 'petrel-prof-'));
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', PETREL_DATA_DIR: dataDir, PETREL_APP_DIR: APP, PETREL_LOG_LEVEL: 'silent' }, ROOT);
const relay = await startRelay(config, createLogger('silent'));
const url = `http://127.0.0.1:${relay.port()}/`;
const maps = new Map<string, TraceMap | undefined>();
const where = (src: string, line: number, col: number) => {
  if (!src.startsWith('http')) return src || '(native)';
  const file = basename(new URL(src).pathname);
  if (!maps.has(file)) maps.set(file, existsSync(join(APP, 'assets', file + '.map')) ? new TraceMap(readFileSync(join(APP, 'assets', file + '.map'), 'utf8')) : undefined);
  const m = maps.get(file);
  if (!m) return `${file}:${line}`;
  const o = originalPositionFor(m, { line: line + 1, column: col });
  return `${(o.source ?? '').replace(/^(\.\.\/)+/, '')}:${o.line}`;
};
interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[]; hitCount?: number }
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
const context = await browser.newContext();
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
await cdp.send('Profiler.enable');
await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
await cdp.send('Profiler.start');
await page.goto(url);
await page.getByLabel('Display name').waitFor();
await page.waitForTimeout(6000);
const { profile } = (await cdp.send('Profiler.stop')) as unknown as { profile: { nodes: Node[]; samples: number[]; timeDeltas: number[] } };
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<string, number>();
const total = new Map<string, number>();
const pkg = new Map<string, number>();
profile.samples.forEach((id, i) => {
  const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
  const n = byId.get(id)!;
  const k = `${n.callFrame.functionName || '(anon)'} ${where(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber)}`;
  self.set(k, (self.get(k) ?? 0) + dt);
  const src = where(n.callFrame.url, n.callFrame.lineNumber, n.callFrame.columnNumber).replace(/:\d+$/, '');
  const group = src.includes('node_modules/') ? 'nm:' + src.split('node_modules/')[1]!.split('/').slice(0, 2).join('/') : src;
  pkg.set(group, (pkg.get(group) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const c = byId.get(cur)!;
    const kk = `${c.callFrame.functionName || '(anon)'} ${where(c.callFrame.url, c.callFrame.lineNumber, c.callFrame.columnNumber)}`;
    if (seen.has(kk)) continue;
    seen.add(kk);
    total.set(kk, (total.get(kk) ?? 0) + dt);
  }
});
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${v.toFixed(0).padStart(6)} ms  ${k}`).join('\n');
console.log('--- self by group\n' + top(pkg, 25));
console.log('--- self\n' + top(self, 30));
console.log('--- total\n' + top(total, 50));
await browser.close();
await relay.close?.();
process.exit(0);
