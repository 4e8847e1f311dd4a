/** Smoke run of the attachments benchmark in quick mode (a 4 MiB file through a real relay process): it completes with finite numbers and both goals named. */
import { describe, expect, it } from 'vitest';
import attachments from '../../bench/attachments.bench.ts';

describe('attachments benchmark (quick)', () => {
  it('measures both round trips and the heap, and names both goals', { timeout: 60_000 }, async () => {
    const result = await attachments.run({ quick: true });
    expect(result.rows).toHaveLength(4);
    for (const r of result.rows) expect(Number.isFinite(r.median) && r.median > 0).toBe(true);
    expect(result.goals.map((g) => g.description)).toEqual([expect.stringContaining('0.5×'), expect.stringContaining('32 MiB')]);
  });
});
