/**
 * Smoke run of the Node-only benchmarks (crypto, relay) in quick mode through the real
 * harness into a temporary root: every module in bench/ loads with the Benchmark shape,
 * both benchmarks complete, and the document, charts and JSON name their goals. The
 * Chromium benchmarks (catchup, app, e2e) are not part of the unit suite.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadBenchmarks, runHarness } from '../../bench/run.ts';
import type { ResultsFile } from '../../bench/report.ts';

const REPO = join(import.meta.dirname, '..', '..');
const NODE_ONLY = ['crypto', 'relay'];
const root = mkdtempSync(join(tmpdir(), 'petrel-bench-smoke-'));
mkdirSync(join(root, 'bench'));

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('Node benchmarks through the harness (quick)', () => {
  it('every bench module loads as a Benchmark, and an unknown name is refused', async () => {
    const all = await loadBenchmarks(REPO, []);
    expect(all.map((b) => b.name).sort()).toEqual(expect.arrayContaining(['app', 'catchup', 'crypto', 'e2e', 'relay']));
    for (const b of all) {
      expect(b.title.length).toBeGreaterThan(0);
      expect(typeof b.run).toBe('function');
    }
    await expect(loadBenchmarks(REPO, ['no-such-benchmark'])).rejects.toThrow(/unknown benchmark/);
  });

  // The relay benchmark starts PostgreSQL-backed relay clusters too: allow for a loaded CI machine.
  it('crypto and relay complete and land in the document, charts and JSON', { timeout: 150_000 }, async () => {
    const benchmarks = await loadBenchmarks(REPO, NODE_ONLY);
    const lines: string[] = [];
    const file = await runHarness({ root, benchmarks, quick: true, log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.includes('failed'))).toEqual([]);
    const json = JSON.parse(readFileSync(join(root, 'bench', 'results.json'), 'utf8')) as ResultsFile;
    expect(Object.keys(json.results).sort()).toEqual(NODE_ONLY);
    for (const name of NODE_ONLY) {
      const r = file.results[name]!;
      expect('error' in r ? r.error : undefined).toBeUndefined();
      if (!('rows' in r)) throw new Error(`${name} has no rows`);
      expect(r.rows.length).toBeGreaterThan(0);
      for (const row of r.rows) expect(Number.isFinite(row.median)).toBe(true);
      expect(r.goals.length).toBeGreaterThan(0);
      expect(existsSync(join(root, 'docs', 'bench', `${name}.svg`))).toBe(true);
    }
    const md = readFileSync(join(root, 'docs', 'BENCHMARKS.md'), 'utf8');
    expect(md).toContain('## Goals');
    for (const name of NODE_ONLY) {
      const r = file.results[name]!;
      expect(md).toContain(`## ${r.title}`);
      if ('goals' in r) for (const g of r.goals) expect(md).toContain(g.description);
    }
    expect(md).not.toContain('Did not complete');
  });
});
