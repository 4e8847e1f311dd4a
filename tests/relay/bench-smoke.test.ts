import { describe, expect, it } from 'vitest';
import relayBenchmark from '../../bench/relay.bench.ts';

describe('relay benchmark (quick smoke run)', () => {
  it('measures both subjects and reports every goal', { timeout: 60_000 }, async () => {
    const r = await relayBenchmark.run({ quick: true });
    expect(r.name).toBe('relay');
    const subjects = new Set(r.rows.map((x) => x.subject));
    expect(subjects.has('bare ws forwarder (no persistence)')).toBe(true);
    expect(subjects.has('petrel relay (SQLite, durable before sent)')).toBe(true);
    for (const row of r.rows) {
      expect(row.samples.length).toBeGreaterThan(0);
      for (const s of row.samples) expect(Number.isFinite(s) && s > 0).toBe(true);
    }
    expect(r.goals).toHaveLength(3);
  });
});
