/**
 * Sessions end to end through the public API: setup with and without one-time keys,
 * prekey messages until the first reply, skipped-key limits and eviction, inputs never
 * modified. Every refusal and its error: failures.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import { seededRandom } from '../../src/core/random.ts';
import {
  DuplicateMessageError,
  UnknownPreKeyError,
  acceptSession,
  acceptSessionFromPool,
  decrypt,
  deserializeSession,
  encrypt,
  findPreKeys,
  initiateSession,
  limits,
  messageType,
  parseMessage,
  serializeSession,
  verifyFetchedBundle,
  type SessionState,
} from '../../src/core/crypto/index.ts';
import { establish, fetchedBundle, party } from './helpers.ts';

const text = (s: string) => utf8(s);

/** Asserts that `op` rejects with `type` and that the state serialises to the same bytes before and after. */
async function expectRejectsUnchanged(state: SessionState, op: () => Promise<unknown>, type: abstract new (...a: never[]) => Error): Promise<void> {
  const before = serializeSession(state);
  await expect(op()).rejects.toBeInstanceOf(type);
  expect(toHex(serializeSession(state))).toBe(toHex(before));
}

describe('session setup', () => {
  it.each([
    { name: 'with OPK and PQOPK', opk: true, pqOneTime: true },
    { name: 'without OPK, last-resort PQSPK', opk: false, pqOneTime: false },
  ])('$name: both sides converse and one-time keys are consumed', async ({ opk, pqOneTime }) => {
    const { alice, bob, a, b, random } = await establish(11, { opk, pqOneTime });
    const usedOpk = bob.pool.data.oneTimePreKeys.length;
    expect(usedOpk).toBe(opk ? 2 : 3);
    expect(bob.pool.data.pqOneTimePreKeys.length).toBe(pqOneTime ? 2 : 3);
    expect(toHex(a.remoteIdentity)).toBe(toHex(bob.identity.publicKey));
    expect(toHex(b.remoteIdentity)).toBe(toHex(alice.identity.publicKey));
    const reply = await encrypt(b, text('hi alice'), random);
    expect(messageType(reply.message)).toBe('ratchet');
    const got = await decrypt(a, reply.message);
    expect(fromUtf8(got.plaintext)).toBe('hi alice');
    expect(got.state.awaitingFirstReply).toBe(false);
    const next = await encrypt(got.state, text('after reply'), random);
    expect(messageType(next.message)).toBe('ratchet');
    expect(fromUtf8((await decrypt(reply.state, next.message)).plaintext)).toBe('after reply');
  });

  it('the initiator repeats prekey info until the first reply; the responder decrypts those on its session', async () => {
    const { a, b, random } = await establish(12);
    expect(a.awaitingFirstReply).toBe(true);
    const second = await encrypt(a, text('second'), random);
    expect(messageType(second.message)).toBe('prekey');
    const p = parseMessage(second.message);
    expect(p.type === 'prekey' && p.oneTimePreKeyId !== undefined).toBe(true);
    expect(fromUtf8((await decrypt(b, second.message)).plaintext)).toBe('second');
  });

  it('reports the used prekey ids and the sender identity; parseMessage names them before loading', async () => {
    const random = seededRandom(13);
    const alice = party(random);
    const bob = party(random);
    const bundle = await verifyFetchedBundle(fetchedBundle(bob));
    const { state, info } = await initiateSession(alice.identity, bundle, random);
    const first = await encrypt(state, text('x'), random);
    const parsed = parseMessage(first.message);
    expect(parsed.type).toBe('prekey');
    if (parsed.type !== 'prekey') return;
    expect(parsed.signedPreKeyId).toBe(bundle.spk.id);
    expect(parsed.oneTimePreKeyId).toBe(bundle.opk!.id);
    expect(parsed.pqPreKeyId).toBe(bundle.pq.id);
    expect(toHex(parsed.baseKey)).toBe(toHex(info.baseKey));
    const keys = findPreKeys(bob.pool, parsed);
    const accepted = await acceptSession(bob.identity, keys, first.message, { expectedSender: alice.identity.publicKey });
    expect(accepted.usedOneTimePreKeys).toEqual({ oneTimePreKeyId: bundle.opk!.id, pqOneTimePreKeyId: bundle.pq.id });
    expect(toHex(accepted.senderIdentity)).toBe(toHex(alice.identity.publicKey));
  });

  it('a replayed initial message after its one-time prekey was deleted is refused: UnknownPreKeyError, pool unchanged', async () => {
    const random = seededRandom(14);
    const alice = party(random);
    const bob = party(random);
    const { state } = await initiateSession(alice.identity, await verifyFetchedBundle(fetchedBundle(bob)), random);
    const first = await encrypt(state, text('x'), random);
    const accepted = await acceptSessionFromPool(bob.identity, bob.pool, first.message);
    const poolAfter = accepted.pool;
    const count = poolAfter.data.oneTimePreKeys.length;
    await expect(acceptSessionFromPool(bob.identity, poolAfter, first.message)).rejects.toBeInstanceOf(UnknownPreKeyError);
    expect(poolAfter.data.oneTimePreKeys.length).toBe(count);
  });
});

describe('skipped keys', () => {
  it(`keeps at most ${limits.MAX_STORED_SKIPPED_KEYS}, evicting the oldest`, async () => {
    const { a, b, random } = await establish(31);
    let alice = a;
    let bob = b;
    const firstChain: Uint8Array[] = [];
    // Three Bob chains each skipping keys: 1000 + 1000 + 5 > 2000.
    for (const skip of [limits.MAX_SKIP, limits.MAX_SKIP, 5]) {
      const chain: Uint8Array[] = [];
      for (let i = 0; i <= skip; i++) {
        const m = await encrypt(bob, text(`c${i}`), random);
        bob = m.state;
        chain.push(m.message);
      }
      if (firstChain.length === 0) firstChain.push(...chain);
      alice = (await decrypt(alice, chain[skip]!)).state;
      const back = await encrypt(alice, text('turn'), random);
      alice = back.state;
      bob = (await decrypt(bob, back.message)).state;
    }
    expect(alice.data.skipped.length).toBe(limits.MAX_STORED_SKIPPED_KEYS);
    await expectRejectsUnchanged(alice, () => decrypt(alice, firstChain[4]!), DuplicateMessageError); // evicted
    expect(fromUtf8((await decrypt(alice, firstChain[5]!)).plaintext)).toBe('c5'); // oldest kept
    const restored = deserializeSession(serializeSession(alice));
    expect(toHex(serializeSession(restored))).toBe(toHex(serializeSession(alice)));
  });
});

describe('values, not mutation', () => {
  it('encrypt and decrypt leave their inputs untouched', async () => {
    const { a, b, random } = await establish(32);
    const aBytes = serializeSession(a);
    const pt = text('hello');
    const m = await encrypt(b, pt, random);
    expect(fromUtf8(pt)).toBe('hello');
    const msgCopy = m.message.slice();
    const out = await decrypt(a, m.message);
    expect(bytesEqual(msgCopy, m.message)).toBe(true);
    expect(toHex(serializeSession(a))).toBe(toHex(aBytes));
    expect(toHex(serializeSession(out.state))).not.toBe(toHex(aBytes));
    // The new state does not alias the message buffer.
    const outBytes = serializeSession(out.state);
    m.message.fill(0);
    expect(toHex(serializeSession(out.state))).toBe(toHex(outBytes));
  });
});
