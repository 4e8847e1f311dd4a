import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHarness } from '../../bench/run.ts';
import { row, median, percentile } from '../../bench/stats.ts';
import type { Benchmark } from '../../bench/types.ts';

function tempRoot() {
  const root = mkdtempSync(join(tmpdir(), 'petrel-bench-'));
  mkdirSync(join(root, 'bench'));
  return root;
}

const fake: Benchmark = {
  name: 'fake',
  title: 'Fake <benchmark>',
  async run({ quick }) {
    const n = quick ? 3 : 10;
    const samples = Array.from({ length: n }, (_, i) => 100 + i);
    return {
      name: 'fake',
      title: 'Fake <benchmark>',
      rows: [row('petrel', 'throughput', 'msg/s', samples), row('peer', 'throughput', 'msg/s', samples.map((s) => s / 2))],
      goals: [{ description: 'petrel ≥ 2× peer', met: true, measured: '2.00×' }],
    };
  },
};

const broken: Benchmark = {
  name: 'broken',
  title: 'Broken',
  run: async () => {
    throw new Error('boom');
  },
};

describe('benchmark harness', () => {
  it('computes medians and percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(percentile([...Array(100).keys()].map((i) => i + 1), 0.99)).toBe(99);
    expect(row('s', 'm', 'u', [5, 1, 3])).toMatchObject({ median: 3, min: 1, max: 5 });
  });

  it('writes the document, charts and JSON, and records failures without hiding them', async () => {
    const root = tempRoot();
    const file = await runHarness({ root, benchmarks: [fake, broken], quick: true, log: () => {} });
    expect(file.machine.cores).toBeGreaterThan(0);
    expect(file.machine.node).toBe(process.version);
    const json = JSON.parse(readFileSync(join(root, 'bench/results.json'), 'utf8'));
    expect(json.results.fake.rows[0].median).toBe(101);
    expect(json.results.broken.error).toBe('boom');
    const md = readFileSync(join(root, 'docs/BENCHMARKS.md'), 'utf8');
    expect(md).toContain('| Fake <benchmark> | petrel ≥ 2× peer | 2.00× | yes |');
    expect(md).toContain('Did not complete: `boom`');
    const svg = readFileSync(join(root, 'docs/bench/fake.svg'), 'utf8');
    expect(svg).toContain('Fake &lt;benchmark&gt;');
    expect(existsSync(join(root, 'docs/bench/broken.svg'))).toBe(false);
  });

  it('keeps earlier results of benchmarks not re-run', async () => {
    const root = tempRoot();
    await runHarness({ root, benchmarks: [fake], quick: true, log: () => {} });
    const file = await runHarness({ root, benchmarks: [broken], quick: true, log: () => {} });
    expect(Object.keys(file.results).sort()).toEqual(['broken', 'fake']);
  });
});
