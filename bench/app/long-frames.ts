/**
 * Diagnostic, not a benchmark (`npx tsx bench/app/long-frames.ts`, RUNS=n): cold first
 * loads of the built app under 4× CPU throttling (as Lighthouse's mobile preset), with
 * the long-task and long-animation-frame observers; each frame's scripts are mapped
 * through the build's source maps to the source line that started them. Issue 22 used it
 * to find what makes the first screen's total blocking time. Needs `npm run build`.
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
const dataDir = mkdtempSync(join(tmpdir(), 'petrel-loaf-'));
const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', PETREL_DATA_DIR: dataDir, PETREL_APP_DIR: APP, PETREL_LOG_LEVEL: 'silent' }, ROOT);
const relay = await startRelay(config, createLogger('silent'));
const url = `http://127.0.0.1:${relay.port()}/`;
const maps = new Map<string, TraceMap | undefined>();
const where = (src: string, pos: number) => {
  if (!src || pos < 0) return '';
  const file = basename(new URL(src).pathname);
  if (!maps.has(file)) maps.set(file, existsSync(join(APP, 'assets', file + '.map')) ? new TraceMap(readFileSync(join(APP, 'assets', file + '.map'), 'utf8')) : undefined);
  const m = maps.get(file);
  const code = existsSync(join(APP, 'assets', file)) ? readFileSync(join(APP, 'assets', file), 'utf8') : '';
  if (!m || !code) return `${file}@${pos}`;
  const before = code.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n') - 1;
  const o = originalPositionFor(m, { line, column });
  return `${o.source}:${o.line} ${o.name ?? ''}`;
};
for (let run = 0; run < Number(process.env.RUNS ?? 2); run++) {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  await page.addInitScript(() => {
    const g = window as unknown as { __loaf: unknown[]; __lt: unknown[] };
    g.__loaf = [];
    g.__lt = [];
    new PerformanceObserver((l) => {
      for (const e of l.getEntries() as unknown as { startTime: number; duration: number; blockingDuration: number; scripts: { invoker: string; invokerType: string; sourceURL: string; sourceFunctionName: string; sourceCharPosition: number; duration: number; forcedStyleAndLayoutDuration: number }[] }[])
        g.__loaf.push({ start: Math.round(e.startTime), dur: Math.round(e.duration), block: Math.round(e.blockingDuration), scripts: e.scripts.map((s) => ({ inv: s.invoker, type: s.invokerType, src: s.sourceURL, fn: s.sourceFunctionName, pos: s.sourceCharPosition, dur: Math.round(s.duration), layout: Math.round(s.forcedStyleAndLayoutDuration) })) });
    }).observe({ type: 'long-animation-frame', buffered: true });
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) g.__lt.push({ start: Math.round(e.startTime), dur: Math.round(e.duration) });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(url);
  await page.getByLabel('Display name').waitFor();
  await page.waitForTimeout(8000);
  const r = (await page.evaluate(() => ({ loaf: (window as unknown as { __loaf: unknown[] }).__loaf, lt: (window as unknown as { __lt: unknown[] }).__lt }))) as { loaf: { start: number; dur: number; block: number; scripts: { inv: string; type: string; src: string; fn: string; pos: number; dur: number; layout: number }[] }[]; lt: { start: number; dur: number }[] };
  console.log(`run ${run}: longtasks`, JSON.stringify(r.lt), 'TBT-ish(x1, >50)', r.lt.reduce((s, t) => s + Math.max(0, t.dur - 50), 0));
  for (const f of r.loaf) {
    console.log(`  LoAF @${f.start} ${f.dur}ms block ${f.block}`);
    for (const s of f.scripts) console.log(`     ${s.dur}ms (layout ${s.layout}) ${s.type} ${s.inv} ${s.fn} ${where(s.src, s.pos)}`);
  }
  await browser.close();
}
await relay.close?.();
process.exit(0);
