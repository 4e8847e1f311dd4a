import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/wire/wire-error.ts';
import { decodeGroupChangeBody, encodeGroupChangeBody, GROUP_OPS, MAX_GROUP_CHANGE_BYTES, type GroupChangeBody } from '../../src/core/wire/group-change.ts';

const key = fc.uint8Array({ minLength: 32, maxLength: 32 });
const body: fc.Arbitrary<GroupChangeBody> = fc.record(
  {
    group: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    version: fc.nat({ max: 0xffffffff }),
    parent: key,
    author: key,
    issuedAt: fc.nat(),
    op: fc.constantFrom(...GROUP_OPS),
    name: fc.string({ minLength: 1, maxLength: 40 }),
    members: fc.array(key, { maxLength: 20 }),
  },
  { requiredKeys: ['group', 'version', 'parent', 'author', 'issuedAt', 'op'] },
);

describe('group change codec', () => {
  it('round-trips every body, and re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(body, (b) => {
        const bytes = encodeGroupChangeBody(b);
        const back = decodeGroupChangeBody(bytes);
        expect(back).toEqual(b);
        expect(encodeGroupChangeBody(back)).toEqual(bytes);
      }),
    );
  });

  it('refuses anything else with a WireError only: random bytes, truncations, an unknown op, oversize', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeGroupChangeBody(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(body, fc.nat(), (b, cut) => {
        const bytes = encodeGroupChangeBody(b);
        const at = cut % bytes.length;
        expect(() => decodeGroupChangeBody(bytes.subarray(0, at))).toThrow(WireError);
      }),
    );
    const good = { group: new Uint8Array(16), version: 1, parent: new Uint8Array(32), author: new Uint8Array(32), issuedAt: 1, op: 'add' as const };
    expect(() => encodeGroupChangeBody({ ...good, op: 'ban' as never })).toThrow(WireError);
    expect(() => decodeGroupChangeBody(new Uint8Array(MAX_GROUP_CHANGE_BYTES + 1))).toThrow(WireError);
  });
});
