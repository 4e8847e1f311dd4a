/**
 * Smoke run of the fan-out benchmark (bench/fanout.bench.ts) in quick mode: both cases
 * complete through the real compose path, and the goal (3 → 3 devices ≤ 6× a
 * single-device send) is reported with its measured ratio. The number itself is judged
 * by `npm run bench fanout` on a quiet machine, not here.
 */
import { describe, expect, it } from 'vitest';
import fanout from '../../bench/fanout.bench.ts';

describe('fan-out benchmark (quick)', () => {
  it('measures a single-device send and a 3 → 3 device send and reports the ratio', { timeout: 60_000 }, async () => {
    const r = await fanout.run({ quick: true });
    expect(r.rows).toHaveLength(2);
    for (const row of r.rows) expect(row.median).toBeGreaterThan(0);
    expect(r.goals[0]!.description).toMatch(/≤ 6×/);
    expect(r.goals[0]!.measured).toMatch(/^\d+\.\d\d× /);
  });
});
