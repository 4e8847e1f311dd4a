/**
 * The stored session set: current session first, and the base keys of accepted session
 * starts (bounded). Version 1 rows (no base keys) still load, remembering the base keys of
 * the responder sessions they hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptStateError } from '../../src/core/crypto/errors.ts';
import { toHex } from '../../src/core/bytes.ts';
import { serializeSession } from '../../src/core/crypto/index.ts';
import { MalformedSessionSetError } from '../../src/core/messenger/errors.ts';
import { decodeSessionSet, encodeSessionSet, MAX_ACCEPTED_BASE_KEYS, sessionSetOf, wasAccepted, withAcceptedSession } from '../../src/core/messenger/session-set.ts';
import { establish } from '../crypto/helpers.ts';

function v1Bytes(sessions: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(2 + sessions.reduce((n, s) => n + 4 + s.length, 0));
  const view = new DataView(out.buffer);
  out[0] = 0x53;
  out[1] = sessions.length;
  let o = 2;
  for (const s of sessions) {
    view.setUint32(o, s.length);
    out.set(s, o + 4);
    o += 4 + s.length;
  }
  return out;
}

describe('session set', () => {
  it('round-trips sessions and accepted base keys; keeps only the last MAX_ACCEPTED_BASE_KEYS', async () => {
    const { b } = await establish(81);
    let set = sessionSetOf(b);
    const keys = Array.from({ length: MAX_ACCEPTED_BASE_KEYS + 3 }, (_, i) => new Uint8Array(32).fill(i + 1));
    for (const k of keys) set = withAcceptedSession(set, b, k);
    const back = decodeSessionSet(encodeSessionSet(set));
    expect(back.sessions.map((s) => toHex(serializeSession(s)))).toEqual([toHex(serializeSession(b))]);
    expect(back.acceptedBaseKeys.map(toHex)).toEqual(keys.slice(-MAX_ACCEPTED_BASE_KEYS).map(toHex));
    expect(wasAccepted(back, keys.at(-1)!)).toBe(true);
    expect(wasAccepted(back, keys[0]!)).toBe(false);
  });

  it('reads a version-1 row: its responder sessions’ base keys count as accepted, an initiator’s do not', async () => {
    const { a, b } = await establish(82);
    const set = decodeSessionSet(v1Bytes([serializeSession(b), serializeSession(a)]));
    expect(set.sessions).toHaveLength(2);
    expect(set.acceptedBaseKeys.map(toHex)).toEqual([toHex(b.data.baseKey)]);
    // Written back as version 3 (with its integrity tag).
    expect(encodeSessionSet(set)[0]).toBe(0x55);
  });

  it('refuses truncated, overlong or altered bytes (CorruptStateError) and bytes of no known format (MalformedSessionSetError)', async () => {
    const { b } = await establish(83);
    const good = encodeSessionSet(withAcceptedSession(sessionSetOf(b), b, new Uint8Array(32).fill(9)));
    for (const bad of [good.subarray(0, good.length - 1), Uint8Array.of(...good, 0)]) expect(() => decodeSessionSet(bad)).toThrow(CorruptStateError);
    expect(() => decodeSessionSet(Uint8Array.of(0x56, ...good.subarray(1)))).toThrow(MalformedSessionSetError);
  });

  it('property: every single-byte change of a stored set is refused, never loaded as another state', async () => {
    const { b } = await establish(84);
    const good = encodeSessionSet(withAcceptedSession(sessionSetOf(b), b, new Uint8Array(32).fill(7)));
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const bad = good.slice();
        bad[at]! ^= xor;
        expect(() => decodeSessionSet(bad)).toThrow();
        try {
          decodeSessionSet(bad);
        } catch (e) {
          expect(e instanceof CorruptStateError || e instanceof MalformedSessionSetError).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
