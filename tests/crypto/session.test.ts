/**
 * Sessions end to end through the public API: setup with and without one-time keys,
 * prekey messages until the first reply, every failure kind with its own error and the
 * session state byte-identical afterwards, skipped-key limits and eviction, inputs never
 * modified.
 */
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import { seededRandom } from '../../src/core/random.ts';
import {
  AuthenticationFailedError,
  BadSignatureError,
  DuplicateMessageError,
  InvalidHeaderError,
  MalformedMessageError,
  MalformedStateError,
  PlaintextTooLargeError,
  SessionMismatchError,
  SkipLimitExceededError,
  UnknownPreKeyError,
  WrongIdentityError,
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
    const bundle = verifyFetchedBundle(fetchedBundle(bob));
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
    const { state } = await initiateSession(alice.identity, verifyFetchedBundle(fetchedBundle(bob)), random);
    const first = await encrypt(state, text('x'), random);
    const accepted = await acceptSessionFromPool(bob.identity, bob.pool, first.message);
    const poolAfter = accepted.pool;
    const count = poolAfter.data.oneTimePreKeys.length;
    await expect(acceptSessionFromPool(bob.identity, poolAfter, first.message)).rejects.toBeInstanceOf(UnknownPreKeyError);
    expect(poolAfter.data.oneTimePreKeys.length).toBe(count);
  });
});

describe('failure kinds: each its own error, state unchanged', () => {
  it('tampered ciphertext → AuthenticationFailedError', async () => {
    const { a, b, random } = await establish(21);
    const m = await encrypt(b, text('secret'), random);
    const bad = m.message.slice();
    bad[bad.length - 20]! ^= 1;
    await expectRejectsUnchanged(a, () => decrypt(a, bad), AuthenticationFailedError);
    expect(fromUtf8((await decrypt(a, m.message)).plaintext)).toBe('secret');
  });

  it('tampered header counter on the current chain → AuthenticationFailedError (header is authenticated)', async () => {
    const { a, b, random } = await establish(22);
    const m = await encrypt(b, text('secret'), random);
    const bad = m.message.slice();
    bad[1 + 32 + 4 + 3]! ^= 1; // N = 1 instead of 0
    await expectRejectsUnchanged(a, () => decrypt(a, bad), AuthenticationFailedError);
  });

  it('tampered header ratchet key → InvalidHeaderError (impossible new key, or low-order key)', async () => {
    const { a, b, random } = await establish(23);
    // Bob has not sent since Alice's chain began: a "new" Alice ratchet key is impossible.
    const m = await encrypt(a, text('two'), random);
    const bad = m.message.slice();
    const headerAt = bad.length - (3 + 16) - 40; // prekey message: header sits right before ciphertext ‖ tag
    bad[headerAt]! ^= 1;
    await expectRejectsUnchanged(b, () => decrypt(b, bad), InvalidHeaderError);
    // After Bob replied, Alice receives a header whose ratchet key is a low-order point.
    const reply = await encrypt(b, text('r'), random);
    const lowOrder = reply.message.slice();
    lowOrder.fill(0, 1, 33);
    await expectRejectsUnchanged(a, () => decrypt(a, lowOrder), InvalidHeaderError);
  });

  it('replay of a consumed key → DuplicateMessageError (current chain, skipped key, finished chain)', async () => {
    const { a, b, random } = await establish(24);
    const m1 = await encrypt(b, text('1'), random);
    const m2 = await encrypt(m1.state, text('2'), random);
    let s = (await decrypt(a, m2.message)).state; // m1 now a skipped key
    s = (await decrypt(s, m1.message)).state;
    await expectRejectsUnchanged(s, () => decrypt(s, m1.message), DuplicateMessageError); // skipped key used
    await expectRejectsUnchanged(s, () => decrypt(s, m2.message), DuplicateMessageError); // current chain
    const turn = await encrypt(s, text('alice turn'), random);
    const bobState = (await decrypt(m2.state, turn.message)).state;
    const bobNext = await encrypt(bobState, text('bob again'), random);
    s = (await decrypt(turn.state, bobNext.message)).state;
    await expectRejectsUnchanged(s, () => decrypt(s, m2.message), DuplicateMessageError); // finished chain
  });

  it(`skip beyond MAX_SKIP (${limits.MAX_SKIP}) → SkipLimitExceededError; exactly MAX_SKIP is fine`, async () => {
    const { a, b, random } = await establish(25);
    let s = b;
    const sent: Uint8Array[] = [];
    for (let i = 0; i <= limits.MAX_SKIP + 1; i++) {
      const m = await encrypt(s, text(`m${i}`), random);
      s = m.state;
      sent.push(m.message);
    }
    await expectRejectsUnchanged(a, () => decrypt(a, sent[limits.MAX_SKIP + 1]!), SkipLimitExceededError);
    const ok = await decrypt(a, sent[limits.MAX_SKIP]!);
    expect(fromUtf8(ok.plaintext)).toBe(`m${limits.MAX_SKIP}`);
    expect(ok.state.data.skipped.length).toBe(limits.MAX_SKIP);
    expect(fromUtf8((await decrypt(ok.state, sent[7]!)).plaintext)).toBe('m7');
  });

  it('bad prekey signature → BadSignatureError (SPK and PQ key)', () => {
    const random = seededRandom(26);
    const bob = party(random);
    const good = fetchedBundle(bob);
    const badSpk = { ...good, spk: { ...good.spk, sig: good.spk.sig.map((x, i) => (i === 0 ? x ^ 1 : x)) } };
    const badPq = { ...good, pq: { ...good.pq, pub: good.pq.pub.map((x, i) => (i === 5 ? x ^ 1 : x)) } };
    expect(() => verifyFetchedBundle(badSpk)).toThrow(BadSignatureError);
    expect(() => verifyFetchedBundle(badPq)).toThrow(BadSignatureError);
    expect(() => verifyFetchedBundle(good)).not.toThrow();
  });

  it('wrong identity → WrongIdentityError (bundle, initial message sender, prekey message on another session)', async () => {
    const random = seededRandom(27);
    const alice = party(random);
    const bob = party(random);
    const eve = party(random);
    expect(() => verifyFetchedBundle(fetchedBundle(bob), eve.identity.publicKey)).toThrow(WrongIdentityError);
    const { state } = await initiateSession(alice.identity, verifyFetchedBundle(fetchedBundle(bob)), random);
    const first = await encrypt(state, text('x'), random);
    const keys = findPreKeys(bob.pool, parseMessage(first.message) as never);
    await expect(acceptSession(bob.identity, keys, first.message, { expectedSender: eve.identity.publicKey })).rejects.toBeInstanceOf(WrongIdentityError);
    // Eve starts her own session with Bob; her prekey message given to Bob's session with Alice.
    const accepted = await acceptSession(bob.identity, keys, first.message);
    const eveInit = await initiateSession(eve.identity, verifyFetchedBundle(fetchedBundle(bob, { opk: false })), random);
    const eveMsg = await encrypt(eveInit.state, text('hi'), random);
    await expectRejectsUnchanged(accepted.state, () => decrypt(accepted.state, eveMsg.message), WrongIdentityError);
  });

  it('a prekey message that starts a new session with the same peer → SessionMismatchError', async () => {
    const { alice, bob, b, random } = await establish(28);
    const restart = await initiateSession(alice.identity, verifyFetchedBundle(fetchedBundle(bob, { opk: false })), random);
    const m = await encrypt(restart.state, text('new'), random);
    await expectRejectsUnchanged(b, () => decrypt(b, m.message), SessionMismatchError);
    const fresh = await acceptSessionFromPool(bob.identity, bob.pool, m.message);
    expect(fromUtf8(fresh.plaintext)).toBe('new');
  });

  it('malformed messages and state → MalformedMessageError / MalformedStateError', async () => {
    const { a } = await establish(29);
    for (const junk of [new Uint8Array(0), Uint8Array.of(0x11), Uint8Array.of(0x99, 1, 2), new Uint8Array(56).fill(0x11), Uint8Array.of(0x12, 0, 0)]) {
      await expectRejectsUnchanged(a, () => decrypt(a, junk), MalformedMessageError);
    }
    const bytes = serializeSession(a);
    expect(() => deserializeSession(bytes.slice(0, bytes.length - 1))).toThrow(MalformedStateError);
    expect(() => deserializeSession(new Uint8Array([9, 9, 9]))).toThrow(MalformedStateError);
    expect(() => deserializeSession(new Uint8Array([...bytes, 0]))).toThrow(MalformedStateError);
  });

  it('plaintext over the limit → PlaintextTooLargeError', async () => {
    const { a, random } = await establish(30);
    await expectRejectsUnchanged(a, () => encrypt(a, new Uint8Array(limits.MAX_PLAINTEXT_BYTES + 1), random), PlaintextTooLargeError);
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
