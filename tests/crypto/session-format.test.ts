/**
 * Session state format 2 (finished chains carry their length) and the reading of format 1,
 * from a state really written by format-1 code (fixtures/session-v1.json, made at commit
 * 39a1c08): it loads, decrypts what it could before, reports replays of the chains it
 * remembered as duplicates, and is written back as format 2. Plus the finished-chain record
 * list and the low-order key test on their own.
 */
import { STATE_INTEGRITY_BYTES, withIntegrity } from '../../src/core/crypto/state-integrity.ts';
import { CorruptStateError } from '../../src/core/crypto/errors.ts';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import {
  DuplicateMessageError,
  InvalidHeaderError,
  MalformedStateError,
  decrypt,
  deserializeSession,
  encrypt,
  limits,
  serializeSession,
} from '../../src/core/crypto/index.ts';
import { FINISHED_CHAIN_RECORD_BYTES, FinishedChains, UNKNOWN_CHAIN_LENGTH } from '../../src/core/crypto/finished-chains.ts';
import { SESSION_FORMAT_VERSION } from '../../src/core/crypto/session-state.ts';
import { isLowOrderPublicKey, nobleX25519Dh, dhKeyPair } from '../../src/core/crypto/x25519.ts';
import { seededRandom } from '../../src/core/random.ts';

const V1 = JSON.parse(readFileSync(new URL('./fixtures/session-v1.json', import.meta.url), 'utf8')) as Record<string, string>;
const m = (k: string) => fromHex(V1[k]!);

describe('session format 1 (before finished chains had a length)', () => {
  it('loads, decrypts the stored skipped keys and the next message', async () => {
    const s = deserializeSession(m('alice_state_v1'));
    expect(s.data.finishedChains.count).toBe(5);
    expect(s.data.finishedChains.list().every((c) => c.length === UNKNOWN_CHAIN_LENGTH)).toBe(true);
    expect(fromUtf8((await decrypt(s, m('skipped_c0'))).plaintext)).toBe('c0');
    expect(fromUtf8((await decrypt(s, m('skipped_c1'))).plaintext)).toBe('c1');
    expect(fromUtf8((await decrypt(s, m('next_c3'))).plaintext)).toBe('c3');
  });

  it('reports replays of its current and remembered chains as duplicates; a forgotten chain is refused otherwise', async () => {
    const s = deserializeSession(m('alice_state_v1'));
    await expect(decrypt(s, m('replay_current_c2'))).rejects.toBeInstanceOf(DuplicateMessageError);
    await expect(decrypt(s, m('replay_finished_chain_turn7'))).rejects.toBeInstanceOf(DuplicateMessageError);
    await expect(decrypt(s, m('replay_finished_chain_turn3'))).rejects.toBeInstanceOf(DuplicateMessageError);
    // Format 1 kept 5 chains; turn 0 is older. Its key looks new, and Alice has not sent on her
    // newest chain yet, so a new remote key is impossible: InvalidHeaderError.
    await expect(decrypt(s, m('replay_forgotten_chain_turn0'))).rejects.toBeInstanceOf(InvalidHeaderError);
  });

  it('is written back as the current format (3: with an integrity tag), round-trips, and keeps working', async () => {
    const s = deserializeSession(m('alice_state_v1'));
    const v2 = serializeSession(s);
    expect(v2[0]).toBe(SESSION_FORMAT_VERSION);
    expect(SESSION_FORMAT_VERSION).toBe(3);
    const back = deserializeSession(v2);
    expect(toHex(serializeSession(back))).toBe(toHex(v2));
    await expect(decrypt(back, m('replay_finished_chain_turn3'))).rejects.toBeInstanceOf(DuplicateMessageError);
    const after = (await decrypt(back, m('next_c3'))).state;
    const reply = await encrypt(after, utf8('reply'), seededRandom(1));
    expect(reply.message.length).toBeGreaterThan(0);
  });
});

describe('session format 2 refuses malformed finished-chain lists', () => {
  it('a count above MAX_FINISHED_RECEIVING_CHAINS, or records running past the end', async () => {
    const s = deserializeSession(m('alice_state_v1'));
    // The body without its integrity tag; each altered body is tagged again, so the structural checks are what refuse it.
    const v3 = serializeSession(s);
    const body = v3.subarray(0, v3.length - STATE_INTEGRITY_BYTES);
    const tagged = (b: Uint8Array) => withIntegrity('Petrel_Session_v3', b);
    // The count byte sits right before the records, which sit right before u16 skipped-count and the skipped entries.
    const skippedBytes = 2 + 68 * s.data.skipped.length;
    const countAt = body.length - skippedBytes - 5 * FINISHED_CHAIN_RECORD_BYTES - 1;
    expect(body[countAt]).toBe(5);
    const tooMany = body.slice();
    tooMany[countAt] = limits.MAX_FINISHED_RECEIVING_CHAINS + 1;
    expect(() => deserializeSession(tagged(tooMany))).toThrow(MalformedStateError);
    const overrun = body.slice();
    overrun[countAt] = limits.MAX_FINISHED_RECEIVING_CHAINS;
    expect(() => deserializeSession(tagged(overrun))).toThrow(MalformedStateError);
    const version4 = v3.slice();
    version4[0] = 4;
    expect(() => deserializeSession(version4)).toThrow(MalformedStateError);
    // Without re-tagging, the same change is a CorruptStateError.
    const altered = v3.slice();
    altered[countAt] = limits.MAX_FINISHED_RECEIVING_CHAINS + 1;
    expect(() => deserializeSession(altered)).toThrow(CorruptStateError);
  });
});

describe('FinishedChains', () => {
  const key = (i: number) => seededRandom(i + 1000).bytes(32);

  it(`keeps the newest ${limits.MAX_FINISHED_RECEIVING_CHAINS} (key, length) records, oldest first, and finds each`, () => {
    let f = FinishedChains.none;
    for (let i = 0; i < limits.MAX_FINISHED_RECEIVING_CHAINS + 5; i++) f = f.add(key(i), i * 3);
    expect(f.count).toBe(limits.MAX_FINISHED_RECEIVING_CHAINS);
    expect(f.bytes.length).toBe(limits.MAX_FINISHED_RECEIVING_CHAINS * FINISHED_CHAIN_RECORD_BYTES);
    for (let i = 0; i < 5; i++) expect(f.lengthOf(key(i))).toBeUndefined();
    for (let i = 5; i < limits.MAX_FINISHED_RECEIVING_CHAINS + 5; i++) expect(f.lengthOf(key(i))).toBe(i * 3);
    expect(toHex(f.list()[0]!.dh)).toBe(toHex(key(5)));
    expect(toHex(FinishedChains.fromBytes(f.bytes.slice()).bytes)).toBe(toHex(f.bytes));
  });

  it('add returns a new list and leaves the old one as it was', () => {
    const one = FinishedChains.none.add(key(1), 7);
    const before = toHex(one.bytes);
    const two = one.add(key(2), 9);
    expect(toHex(one.bytes)).toBe(before);
    expect(two.count).toBe(2);
    expect(FinishedChains.none.count).toBe(0);
  });

  it('fromBytes refuses partial records and too many', () => {
    expect(() => FinishedChains.fromBytes(new Uint8Array(FINISHED_CHAIN_RECORD_BYTES + 1))).toThrow(MalformedStateError);
    expect(() => FinishedChains.fromBytes(new Uint8Array((limits.MAX_FINISHED_RECEIVING_CHAINS + 1) * FINISHED_CHAIN_RECORD_BYTES))).toThrow(MalformedStateError);
  });
});

describe('isLowOrderPublicKey', () => {
  it('is true exactly for the keys whose X25519 output is all zero (random keys: never)', () => {
    const scalar = dhKeyPair(seededRandom(5).bytes(32));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (u) => {
        let refused = false;
        try {
          nobleX25519Dh(scalar, u);
        } catch {
          refused = true;
        }
        expect(isLowOrderPublicKey(u)).toBe(refused);
      }),
      { numRuns: 300 },
    );
    for (const h of ['00', '01', 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800', 'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f']) {
      const u = fromHex(h.padEnd(64, '0'));
      expect(isLowOrderPublicKey(u)).toBe(true);
      expect(() => nobleX25519Dh(scalar, u)).toThrow();
      u[31]! |= 0x80;
      expect(isLowOrderPublicKey(u)).toBe(true);
    }
    expect(isLowOrderPublicKey(new Uint8Array(31))).toBe(false);
  });
});
