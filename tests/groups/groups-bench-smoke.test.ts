import { describe, expect, it } from 'vitest';
import groupsBenchmark from '../../bench/groups.bench.ts';

describe('groups benchmark (quick smoke run)', () => {
  it('measures a group send against a 1:1 send and a removal with rotation, with numbers', async () => {
    const r = await groupsBenchmark.run({ quick: true });
    const subjects = r.rows.map((x) => `${x.subject} | ${x.metric}`);
    expect(subjects).toEqual([
      '1:1 send | sender CPU per message',
      'group send, 10 members | sender CPU per message',
      '1:1 send | until the relay answers',
      'group send, 10 members | until the relay answers',
      'group send, 10 members, JavaScript Ed25519 (before) | per message',
      'sender-key encryption (native Ed25519) | per message',
      'sender-key encryption (JavaScript Ed25519) | per message',
      'send.multi upload, 10 members | until sent.multi',
      'remove 1 of 5 (rotation) | initiating device',
    ]);
    for (const x of r.rows) expect(x.median).toBeGreaterThan(0);
    expect(r.goals.map((g) => g.description)).toContain('removing one member of 5, rotation included, ≤ 300 ms on the initiating device');
  }, 60_000);
});
