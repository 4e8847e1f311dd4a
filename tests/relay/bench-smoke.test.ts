import { describe, expect, it } from 'vitest';
import relayBenchmark from '../../bench/relay.bench.ts';

describe('relay benchmark (quick smoke run)', () => {
  it('measures every subject (bare, SQLite, clusters of 1 and 3 nodes) and reports every goal', { timeout: 120_000 }, async () => {
    const r = await relayBenchmark.run({ quick: true });
    expect(r.name).toBe('relay');
    const subjects = new Set(r.rows.map((x) => x.subject));
    expect(subjects.has('bare ws forwarder (no persistence)')).toBe(true);
    expect(subjects.has('petrel relay (SQLite, durable before sent)')).toBe(true);
    for (const n of ['1 node', '3 nodes']) expect(subjects.has(`petrel cluster, ${n} (PostgreSQL + Redis, durable before sent)`)).toBe(true);
    for (const row of r.rows) {
      expect(row.samples.length).toBeGreaterThan(0);
      // CPU is counted in /proc ticks of 10 ms: a quick round may take less than one.
      const least = row.metric.startsWith('CPU') ? 0 : Number.MIN_VALUE;
      for (const s of row.samples) expect(Number.isFinite(s) && s >= least, `${row.subject} | ${row.metric}: ${s}`).toBe(true);
    }
    expect(r.goals).toHaveLength(6);
  });
});
