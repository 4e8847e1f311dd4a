/**
 * Smoke run of bench/crypto.bench.ts with quick sizes: all three subjects really exchange
 * messages (each checks every plaintext) and the result has the harness's shape.
 */
import { describe, expect, it } from 'vitest';
import crypto from '../../bench/crypto.bench.ts';

describe('crypto benchmark (quick)', () => {
  it('measures every subject and scenario and states the four goals', async () => {
    const result = await crypto.run({ quick: true });
    expect(result.name).toBe('crypto');
    const subjects = new Set(result.rows.map((r) => r.subject));
    expect(subjects).toEqual(new Set(['petrel', 'libsignal-client', 'libsignal-protocol-typescript']));
    expect(result.rows).toHaveLength(9);
    for (const r of result.rows) {
      expect(r.samples.length).toBeGreaterThan(0);
      expect(r.median).toBeGreaterThan(0);
      expect(Number.isFinite(r.median)).toBe(true);
    }
    expect(result.goals).toHaveLength(4);
    for (const g of result.goals) expect(g.measured).toMatch(/×/);
  }, 120_000);
});
