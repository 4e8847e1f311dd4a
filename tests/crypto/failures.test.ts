/**
 * Every way a message or session setup can be refused, each with its own error, and proof
 * that a refusal leaves no trace: the state (or prekey pool) serialises to the same bytes
 * before and after, and the genuine message that should come next still decrypts — from the
 * very state object that refused, and from the bytes taken before the refusal.
 *
 * Header tampering (docs/PROTOCOL.md §5.5): a header that is structurally impossible is
 * MalformedHeaderError; impossible in this session, InvalidHeaderError; naming a used key,
 * DuplicateMessageError; asking for more than MAX_SKIP keys, SkipLimitExceededError; a
 * plausible header changed into another plausible one can only fail AES-GCM:
 * AuthenticationFailedError. The bit-flip sweep at the end checks that map byte by byte.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import { seededRandom, type Random } from '../../src/core/random.ts';
import {
  AuthenticationFailedError,
  BadSignatureError,
  CryptoError,
  DuplicateMessageError,
  InvalidHeaderError,
  MalformedHeaderError,
  MalformedMessageError,
  MalformedStateError,
  CorruptStateError,
  PlaintextTooLargeError,
  SessionMismatchError,
  SkipLimitExceededError,
  UnknownPreKeyError,
  WrongIdentityError,
  acceptSession,
  acceptSessionFromPool,
  decrypt,
  deserializePreKeyPool,
  deserializeSession,
  encrypt,
  findPreKeys,
  identityX25519Public,
  initiateSession,
  limits,
  parseMessage,
  removeOneTimePreKeys,
  rotateSignedPreKeys,
  serializePreKeyPool,
  serializeSession,
  verifyFetchedBundle,
  type CryptoErrorKind,
  type PreKeyPool,
  type SessionState,
} from '../../src/core/crypto/index.ts';
import { ratchetDecrypt } from '../../src/core/crypto/double-ratchet.ts';
import { x25519PublicKey } from '../../src/core/crypto/x25519.ts';
import { establish, fetchedBundle, party, type Party } from './helpers.ts';

type ErrorClass = abstract new (...a: never[]) => Error;
interface Genuine {
  readonly message: Uint8Array;
  readonly plaintext: string;
}

/**
 * `bad` is refused with `type`; the state's bytes are unchanged; and `genuine` still
 * decrypts both from the same state object and from the bytes taken before the refusal.
 */
async function expectRefused(state: SessionState, bad: Uint8Array, type: ErrorClass, genuine: Genuine): Promise<void> {
  const before = serializeSession(state);
  await expect(decrypt(state, bad)).rejects.toBeInstanceOf(type);
  expect(toHex(serializeSession(state))).toBe(toHex(before));
  expect(fromUtf8((await decrypt(state, genuine.message)).plaintext)).toBe(genuine.plaintext);
  expect(fromUtf8((await decrypt(deserializeSession(before), genuine.message)).plaintext)).toBe(genuine.plaintext);
}

/**
 * Same for a refused initial message: the refusing pool's bytes are unchanged, and the
 * genuine message is still accepted by the responder's full pool (`p.pool`, by default the
 * one that refused) — nothing was consumed.
 */
async function expectSetupRefused(p: Party, pool: PreKeyPool, bad: () => Promise<unknown>, type: ErrorClass, genuine: Genuine): Promise<void> {
  const before = serializePreKeyPool(pool);
  const full = serializePreKeyPool(p.pool);
  await expect(bad()).rejects.toBeInstanceOf(type);
  expect(toHex(serializePreKeyPool(pool))).toBe(toHex(before));
  expect(toHex(serializePreKeyPool(p.pool))).toBe(toHex(full));
  const accepted = await acceptSessionFromPool(p.identity, deserializePreKeyPool(full), genuine.message);
  expect(fromUtf8(accepted.plaintext)).toBe(genuine.plaintext);
}

// Ratchet message: 0x11 ‖ DH (32) ‖ PN (4) ‖ N (4) ‖ ciphertext. Prekey message: the same header after 1,165 bytes.
const headerAt = (m: Uint8Array) => (m[0] === 0x11 ? 1 : m.length - parseMessage(m).ciphertext.length - limits.HEADER_BYTES);

function withHeader(m: Uint8Array, change: { dh?: Uint8Array; pn?: number; n?: number }): Uint8Array {
  const out = m.slice();
  const at = headerAt(out);
  const v = new DataView(out.buffer, out.byteOffset);
  if (change.dh) out.set(change.dh, at);
  if (change.pn !== undefined) v.setUint32(at + 32, change.pn);
  if (change.n !== undefined) v.setUint32(at + 36, change.n);
  return out;
}

const headerOf = (m: Uint8Array) => {
  const at = headerAt(m);
  const v = new DataView(m.buffer, m.byteOffset);
  return { dh: m.slice(at, at + 32), pn: v.getUint32(at + 32), n: v.getUint32(at + 36) };
};

async function send(state: SessionState, text: string, random: Random): Promise<{ state: SessionState; genuine: Genuine }> {
  const out = await encrypt(state, utf8(text), random);
  return { state: out.state, genuine: { message: out.message, plaintext: text } };
}

/** Bob sends `count` messages on his current chain. */
async function sendMany(state: SessionState, count: number, prefix: string, random: Random): Promise<{ state: SessionState; sent: Genuine[] }> {
  const sent: Genuine[] = [];
  let s = state;
  for (let i = 0; i < count; i++) {
    const out = await send(s, `${prefix}${i}`, random);
    s = out.state;
    sent.push(out.genuine);
  }
  return { state: s, sent };
}

/** u-coordinates X25519 cannot use (order dividing 8), canonical and with the ignored top bit set. */
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
].flatMap((h) => [fromHex(h), fromHex(h.slice(0, 62) + (parseInt(h.slice(62), 16) | 0x80).toString(16))]);

describe('tampered messages', () => {
  it('altered ciphertext or tag → AuthenticationFailedError', async () => {
    const { a, b, random } = await establish(21);
    const { genuine } = await send(b, 'secret', random);
    for (const at of [genuine.message.length - 20, genuine.message.length - 1]) {
      const bad = genuine.message.slice();
      bad[at]! ^= 1;
      await expectRefused(a, bad, AuthenticationFailedError, genuine);
    }
  });

  it('header counter changed within the skip window → AuthenticationFailedError (the header is authenticated data)', async () => {
    const { a, b, random } = await establish(22);
    const m0 = await send(b, 'zero', random);
    const m1 = await send(m0.state, 'one', random);
    // On a chain Alice has not seen yet (her side runs the DH ratchet step first) …
    await expectRefused(a, withHeader(m0.genuine.message, { n: 1 }), AuthenticationFailedError, m0.genuine);
    // … and on her current receiving chain; PN is authenticated the same way.
    const a1 = (await decrypt(a, m0.genuine.message)).state;
    await expectRefused(a1, withHeader(m1.genuine.message, { n: 2 }), AuthenticationFailedError, m1.genuine);
    await expectRefused(a1, withHeader(m1.genuine.message, { pn: 7 }), AuthenticationFailedError, m1.genuine);
  });

  it('header ratchet key replaced by another valid key, where a new key is possible → AuthenticationFailedError', async () => {
    const { a, b, random } = await establish(23);
    const { genuine } = await send(b, 'r', random);
    const other = x25519PublicKey(seededRandom(99).bytes(32));
    await expectRefused(a, withHeader(genuine.message, { dh: other }), AuthenticationFailedError, genuine);
  });

  it('header ratchet key replaced where no new key is possible → InvalidHeaderError', async () => {
    const { a, b, random } = await establish(24);
    // Bob has not sent since Alice's chain began: a "new" Alice ratchet key cannot exist yet.
    const { genuine } = await send(a, 'two', random);
    const other = x25519PublicKey(seededRandom(98).bytes(32));
    await expectRefused(b, withHeader(genuine.message, { dh: other }), InvalidHeaderError, genuine);
  });

  it('a message on a chain the peer never sent on (its signed prekey as ratchet key) → InvalidHeaderError', async () => {
    const { a, b, bob, random } = await establish(25);
    const { genuine } = await send(b, 'reply', random);
    const spk = bob.pool.data.signedPreKey.keyPair.publicKey;
    await expectRefused(a, withHeader(genuine.message, { dh: spk }), InvalidHeaderError, genuine);
  });

  it('PN below the messages already received of the previous chain → InvalidHeaderError', async () => {
    const { a, b, random } = await establish(26);
    const chain = await sendMany(b, 2, 'b', random);
    let alice = a;
    for (const m of chain.sent) alice = (await decrypt(alice, m.message)).state;
    const turn = await send(alice, 'turn', random);
    alice = turn.state;
    const bob = (await decrypt(chain.state, turn.genuine.message)).state;
    const next = await send(bob, 'new chain', random);
    expect(headerOf(next.genuine.message).pn).toBe(2);
    await expectRefused(alice, withHeader(next.genuine.message, { pn: 1 }), InvalidHeaderError, next.genuine);
  });

  it('a message number at or past the announced end of a finished chain → InvalidHeaderError', async () => {
    const { a, b, random } = await establish(27);
    const chain = await sendMany(b, 2, 'b', random);
    let alice = a;
    for (const m of chain.sent) alice = (await decrypt(alice, m.message)).state;
    const turn = await send(alice, 'turn', random);
    alice = turn.state;
    const next = await send((await decrypt(chain.state, turn.genuine.message)).state, 'new chain', random);
    alice = (await decrypt(alice, next.genuine.message)).state; // Bob's first chain is finished, length 2
    const later = await send(next.state, 'later', random);
    await expectRefused(alice, withHeader(chain.sent[1]!.message, { n: 2 }), InvalidHeaderError, later.genuine);
    await expectRefused(alice, withHeader(chain.sent[1]!.message, { n: 0xffffffff }), InvalidHeaderError, later.genuine);
  });

  it('a low-order ratchet key (all 14 encodings) → MalformedHeaderError, whatever the session allows', async () => {
    const { a, b, random } = await establish(28);
    const toAlice = await send(b, 'to alice', random); // Alice may accept a new key
    const toBob = await send(a, 'to bob', random); // Bob may not
    for (const dh of LOW_ORDER) {
      await expectRefused(a, withHeader(toAlice.genuine.message, { dh }), MalformedHeaderError, toAlice.genuine);
      await expectRefused(b, withHeader(toBob.genuine.message, { dh }), MalformedHeaderError, toBob.genuine);
    }
  });

  it('a header that is not 40 bytes → MalformedHeaderError (ratchetDecrypt; message parsing cannot produce one)', async () => {
    const { a, b, random } = await establish(29);
    const { genuine } = await send(b, 'x', random);
    const p = parseMessage(genuine.message);
    const before = serializeSession(a);
    await expect(ratchetDecrypt(a, p.header.subarray(0, 39), p.ciphertext, random)).rejects.toBeInstanceOf(MalformedHeaderError);
    expect(toHex(serializeSession(a))).toBe(toHex(before));
  });
});

describe(`skip limit (MAX_SKIP = ${limits.MAX_SKIP}) → SkipLimitExceededError`, () => {
  it('a header counter altered past the window: on a new chain, on the current chain, and PN of the previous chain', async () => {
    const { a, b, random } = await establish(31);
    const m0 = await send(b, 'zero', random);
    const m1 = await send(m0.state, 'one', random);
    // New chain: N > MAX_SKIP.
    await expectRefused(a, withHeader(m0.genuine.message, { n: limits.MAX_SKIP + 1 }), SkipLimitExceededError, m0.genuine);
    // Current chain (Nr = 1): N − Nr > MAX_SKIP.
    const a1 = (await decrypt(a, m0.genuine.message)).state;
    await expectRefused(a1, withHeader(m1.genuine.message, { n: 1 + limits.MAX_SKIP + 1 }), SkipLimitExceededError, m1.genuine);
    await expectRefused(a1, withHeader(m1.genuine.message, { n: 0xffffffff }), SkipLimitExceededError, m1.genuine);
    // PN of the previous chain: PN − Nr > MAX_SKIP on Bob's next chain.
    const turn = await send(a1, 'turn', random);
    const next = await send((await decrypt(m1.state, turn.genuine.message)).state, 'new chain', random);
    expect(headerOf(next.genuine.message).pn).toBe(2);
    await expectRefused(turn.state, withHeader(next.genuine.message, { pn: 1 + limits.MAX_SKIP + 1 }), SkipLimitExceededError, next.genuine);
  });

  it('a genuine sender too far ahead on a new chain; exactly MAX_SKIP is fine', async () => {
    const { a, b, random } = await establish(32);
    const { sent } = await sendMany(b, limits.MAX_SKIP + 2, 'm', random);
    await expectRefused(a, sent[limits.MAX_SKIP + 1]!.message, SkipLimitExceededError, sent[limits.MAX_SKIP]!);
    const ok = await decrypt(a, sent[limits.MAX_SKIP]!.message);
    expect(ok.state.data.skipped.length).toBe(limits.MAX_SKIP);
    expect(fromUtf8((await decrypt(ok.state, sent[7]!.message)).plaintext)).toBe('m7');
  });

  it('a genuine sender too far ahead on the current chain (SkipMessageKeys(header.n))', async () => {
    const { a, b, random } = await establish(33);
    const { sent } = await sendMany(b, limits.MAX_SKIP + 3, 'm', random);
    const a1 = (await decrypt(a, sent[0]!.message)).state; // Nr = 1
    // N = MAX_SKIP + 2 needs MAX_SKIP + 1 keys skipped; N = MAX_SKIP + 1 needs exactly MAX_SKIP.
    await expectRefused(a1, sent[limits.MAX_SKIP + 2]!.message, SkipLimitExceededError, sent[limits.MAX_SKIP + 1]!);
    await expectRefused(a1, sent[limits.MAX_SKIP + 2]!.message, SkipLimitExceededError, sent[1]!);
  });

  it('a genuine sender whose previous chain ran too far ahead (SkipMessageKeys(header.pn))', async () => {
    const { a, b, random } = await establish(34);
    const { state: bobState, sent } = await sendMany(b, limits.MAX_SKIP + 2, 'm', random);
    const a1 = (await decrypt(a, sent[0]!.message)).state; // Nr = 1; m1 … m1001 never arrive
    const turn = await send(a1, 'turn', random);
    const next = await send((await decrypt(bobState, turn.genuine.message)).state, 'new chain', random);
    expect(headerOf(next.genuine.message).pn).toBe(limits.MAX_SKIP + 2);
    await expectRefused(turn.state, next.genuine.message, SkipLimitExceededError, sent[1]!);
  });
});

describe('replays → DuplicateMessageError', () => {
  it('of a key used on the current chain, of a used skipped key, and of a finished chain', async () => {
    const { a, b, random } = await establish(41);
    const m1 = await send(b, '1', random);
    const m2 = await send(m1.state, '2', random);
    const m3 = await send(m2.state, '3', random);
    let s = (await decrypt(a, m2.genuine.message)).state; // m1 now a skipped key
    s = (await decrypt(s, m1.genuine.message)).state;
    await expectRefused(s, m1.genuine.message, DuplicateMessageError, m3.genuine); // skipped key used
    await expectRefused(s, m2.genuine.message, DuplicateMessageError, m3.genuine); // current chain
    s = (await decrypt(s, m3.genuine.message)).state;
    const turn = await send(s, 'alice turn', random);
    const bobNext = await send((await decrypt(m3.state, turn.genuine.message)).state, 'bob again', random);
    s = (await decrypt(turn.state, bobNext.genuine.message)).state;
    const bobLater = await send(bobNext.state, 'later', random);
    await expectRefused(s, m2.genuine.message, DuplicateMessageError, bobLater.genuine); // finished chain
  });

  /** `turns` times: Bob sends two, Alice reads them and replies. Returns Bob's first message of each chain. */
  async function manyTurns(seed: number, turns: number) {
    const { a, b, random } = await establish(seed);
    let alice = a;
    let bob = b;
    const firsts: Genuine[] = [];
    for (let t = 0; t < turns; t++) {
      const chain = await sendMany(bob, 2, `t${t}.`, random);
      firsts.push(chain.sent[0]!);
      for (const m of chain.sent) alice = (await decrypt(alice, m.message)).state;
      const reply = await send(alice, `reply ${t}`, random);
      alice = reply.state;
      bob = (await decrypt(chain.state, reply.genuine.message)).state;
    }
    const next = await send(bob, 'next', random);
    return { alice, firsts, next: next.genuine };
  }

  const bound = limits.MAX_FINISHED_RECEIVING_CHAINS;

  it(`of Bob's first message after ${bound + 1} turns (his first chain the oldest remembered), state unchanged`, async () => {
    const { alice, firsts, next } = await manyTurns(42, bound + 1);
    expect(alice.data.finishedChains.count).toBe(bound);
    expect(alice.data.finishedChains.list()[0]!.length).toBe(2);
    for (const first of firsts) await expectRefused(alice, first.message, DuplicateMessageError, next);
  });

  it(`beyond ${bound} finished chains a replay looks like a new ratchet key and fails the first check it meets (documented bound)`, async () => {
    const { alice, firsts, next } = await manyTurns(43, bound + 3);
    expect(alice.data.finishedChains.count).toBe(bound);
    // Bob's first chain (PN 0) is below what Alice read of her current chain (Nr 2): InvalidHeaderError.
    await expectRefused(alice, firsts[0]!.message, InvalidHeaderError, next);
    // His second (PN 2): the DH ratchet step runs with the old key, and AES-GCM refuses.
    await expectRefused(alice, firsts[1]!.message, AuthenticationFailedError, next);
    // The third is still remembered.
    await expectRefused(alice, firsts[2]!.message, DuplicateMessageError, next);
  });
});

describe('session setup refusals', () => {
  async function initial(seed: number, opts: { opk?: boolean; pqOneTime?: boolean } = {}) {
    const random = seededRandom(seed);
    const alice = party(random);
    const bob = party(random);
    const { state } = await initiateSession(alice.identity, await verifyFetchedBundle(fetchedBundle(bob, opts)), random);
    const first = await send(state, 'first', random);
    return { alice, bob, random, genuine: first.genuine, parsed: parseMessage(first.genuine.message) };
  }

  it('unknown PQ prekey id → UnknownPreKeyError("pq"), through the pool and through acceptSession', async () => {
    const { bob, genuine, parsed } = await initial(51);
    if (parsed.type !== 'prekey') throw new Error('expected a prekey message');
    const withoutPq = removeOneTimePreKeys(bob.pool, { pqOneTimePreKeyId: parsed.pqPreKeyId });
    await expectSetupRefused(bob, withoutPq, () => acceptSessionFromPool(bob.identity, withoutPq, genuine.message), UnknownPreKeyError, genuine);
    const err = await acceptSessionFromPool(bob.identity, withoutPq, genuine.message).catch((e: unknown) => e);
    expect(err).toMatchObject({ preKeyKind: 'pq', preKeyId: parsed.pqPreKeyId, kind: 'unknown_prekey' });
    // Keys found for the right SPK but another PQ key than the message names.
    const keys = findPreKeys(bob.pool, parsed);
    const wrongPq = { ...keys, pqPreKey: bob.pool.data.lastResortPqPreKey };
    await expect(acceptSession(bob.identity, wrongPq, genuine.message)).rejects.toMatchObject({ preKeyKind: 'pq' });
  });

  it('unknown SPK id (rotated twice) and unknown OPK id (already used) → UnknownPreKeyError("spk" / "opk")', async () => {
    const { bob, random, genuine, parsed } = await initial(52);
    if (parsed.type !== 'prekey') throw new Error('expected a prekey message');
    const rotatedTwice = rotateSignedPreKeys(rotateSignedPreKeys(bob.pool, bob.identity, random).pool, bob.identity, random).pool;
    await expectSetupRefused(bob, rotatedTwice, () => acceptSessionFromPool(bob.identity, rotatedTwice, genuine.message), UnknownPreKeyError, genuine);
    expect(await acceptSessionFromPool(bob.identity, rotatedTwice, genuine.message).catch((e: unknown) => e)).toMatchObject({ preKeyKind: 'spk' });
    const withoutOpk = removeOneTimePreKeys(bob.pool, { oneTimePreKeyId: parsed.oneTimePreKeyId! });
    await expectSetupRefused(bob, withoutOpk, () => acceptSessionFromPool(bob.identity, withoutOpk, genuine.message), UnknownPreKeyError, genuine);
    expect(await acceptSessionFromPool(bob.identity, withoutOpk, genuine.message).catch((e: unknown) => e)).toMatchObject({ preKeyKind: 'opk' });
  });

  it('an initial message naming another sender than the sealed-sender identity → WrongIdentityError', async () => {
    const { bob, random, genuine } = await initial(53);
    const eve = party(random);
    await expectSetupRefused(bob, bob.pool, () => acceptSessionFromPool(bob.identity, bob.pool, genuine.message, { expectedSender: eve.identity.publicKey }), WrongIdentityError, genuine);
  });

  it('bad prekey signatures → BadSignatureError (SPK and PQ key); the genuine bundle verifies', async () => {
    const bob = party(seededRandom(54));
    const good = fetchedBundle(bob);
    const badSpk = { ...good, spk: { ...good.spk, sig: good.spk.sig.map((x, i) => (i === 0 ? x ^ 1 : x)) } };
    const badPq = { ...good, pq: { ...good.pq, pub: good.pq.pub.map((x, i) => (i === 5 ? x ^ 1 : x)) } };
    await expect(verifyFetchedBundle(badSpk)).rejects.toThrow(BadSignatureError);
    await expect(verifyFetchedBundle(badPq)).rejects.toThrow(BadSignatureError);
    const verified = await verifyFetchedBundle(good);
    // The verified bundle is the fetched one plus ik's X25519 form (what PQXDH's DH2 uses), computed once here.
    expect(verified).toMatchObject(good);
    expect(toHex(verified.ikX25519)).toBe(toHex(identityX25519Public(good.ik)));
    await expect(verifyFetchedBundle(good, party(seededRandom(55)).identity.publicKey)).rejects.toThrow(WrongIdentityError);
  });
});

describe('refusals on an established session', () => {
  it("another identity's prekey message → WrongIdentityError; the same peer restarting → SessionMismatchError", async () => {
    const { alice, bob, a, b, random } = await establish(61);
    const eve = party(random);
    const eveInit = await initiateSession(eve.identity, await verifyFetchedBundle(fetchedBundle(bob, { opk: false })), random);
    const eveMsg = await send(eveInit.state, 'hi', random);
    const second = await send(a, 'second', random);
    await expectRefused(b, eveMsg.genuine.message, WrongIdentityError, second.genuine);
    const restart = await initiateSession(alice.identity, await verifyFetchedBundle(fetchedBundle(bob, { opk: false })), random);
    const fresh = await send(restart.state, 'new', random);
    await expectRefused(b, fresh.genuine.message, SessionMismatchError, second.genuine);
    expect(fromUtf8((await acceptSessionFromPool(bob.identity, bob.pool, fresh.genuine.message)).plaintext)).toBe('new');
  });

  it('bytes that are not a message → MalformedMessageError; bytes that are not a state → MalformedStateError', async () => {
    const { a, b, random } = await establish(62);
    const { genuine } = await send(b, 'ok', random);
    for (const junk of [new Uint8Array(0), Uint8Array.of(0x11), Uint8Array.of(0x99, 1, 2), new Uint8Array(56).fill(0x11), Uint8Array.of(0x12, 0, 0)]) {
      await expectRefused(a, junk, MalformedMessageError, genuine);
    }
    const bytes = serializeSession(a);
    // A stored state that lost or gained a byte fails its integrity check; bytes of no known format are malformed.
    expect(() => deserializeSession(bytes.slice(0, bytes.length - 1))).toThrow(CorruptStateError);
    expect(() => deserializeSession(new Uint8Array([9, 9, 9]))).toThrow(MalformedStateError);
    expect(() => deserializeSession(new Uint8Array([...bytes, 0]))).toThrow(CorruptStateError);
  });

  it('plaintext over the limit → PlaintextTooLargeError; the state still sends and the peer reads it', async () => {
    const { a, b, random } = await establish(63);
    const before = serializeSession(a);
    await expect(encrypt(a, new Uint8Array(limits.MAX_PLAINTEXT_BYTES + 1), random)).rejects.toBeInstanceOf(PlaintextTooLargeError);
    expect(toHex(serializeSession(a))).toBe(toHex(before));
    const ok = await send(a, 'fits', random);
    expect(fromUtf8((await decrypt(b, ok.genuine.message)).plaintext)).toBe('fits');
  });
});

describe('every single-bit flip of a message is refused, with the error its position allows', () => {
  type Variant = 'onTheCurrentChain' | 'onANewChain';
  const REGIONS: Array<{ name: string; from: number; to: number } & Record<Variant, CryptoErrorKind[]>> = [
    { name: 'type byte', from: 0, to: 1, onTheCurrentChain: ['malformed_message'], onANewChain: ['malformed_message'] },
    // Another ratchet key: impossible while Alice has not sent on her newest chain; on a first
    // chain, a DH ratchet step with the wrong key (and a changed AD), which AES-GCM refuses.
    { name: 'ratchet key', from: 1, to: 33, onTheCurrentChain: ['invalid_header'], onANewChain: ['authentication_failed'] },
    { name: 'PN', from: 33, to: 37, onTheCurrentChain: ['authentication_failed'], onANewChain: ['authentication_failed'] },
    // N = 1 with Nr = 1: one flip gives 0 (used), bits 1-9 stay in the window, higher ones leave it.
    // N = 0 on a new chain: bits 0-9 stay in the window, higher ones leave it.
    { name: 'N', from: 37, to: 41, onTheCurrentChain: ['duplicate_message', 'authentication_failed', 'skip_limit_exceeded'], onANewChain: ['authentication_failed', 'skip_limit_exceeded'] },
    { name: 'ciphertext and tag', from: 41, to: Infinity, onTheCurrentChain: ['authentication_failed'], onANewChain: ['authentication_failed'] },
  ];

  it.each(['onTheCurrentChain', 'onANewChain'] as const)('%s', async (variant: Variant) => {
    const { a, b, random } = await establish(variant === 'onTheCurrentChain' ? 71 : 72);
    const m0 = await send(b, 'zero', random);
    const m1 = await send(m0.state, 'one', random);
    // On the current chain: Alice read m0 (Nr = 1) and has not replied; m1 is flipped.
    // On a new chain: Alice has no receiving chain yet; m0 is flipped.
    const alice = variant === 'onTheCurrentChain' ? (await decrypt(a, m0.genuine.message)).state : a;
    const genuine = variant === 'onTheCurrentChain' ? m1.genuine : m0.genuine;
    const before = serializeSession(alice);
    const seen = new Map<string, Set<string>>();
    for (let byte = 0; byte < genuine.message.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = genuine.message.slice();
        bad[byte]! ^= 1 << bit;
        const err = await decrypt(alice, bad).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err, `byte ${byte} bit ${bit} decrypted`).toBeInstanceOf(CryptoError);
        const region = REGIONS.find((r) => byte >= r.from && byte < r.to)!;
        const kind = (err as CryptoError).kind;
        expect(region[variant], `byte ${byte} bit ${bit} (${region.name}) gave ${kind}`).toContain(kind);
        seen.set(region.name, (seen.get(region.name) ?? new Set()).add(kind));
      }
    }
    expect(toHex(serializeSession(alice))).toBe(toHex(before));
    expect(fromUtf8((await decrypt(alice, genuine.message)).plaintext)).toBe(genuine.plaintext);
    // Each region produced every kind it allows: the map above is exact, not loose.
    for (const r of REGIONS) expect([...seen.get(r.name)!].sort(), r.name).toEqual([...r[variant]].sort());
  }, 60_000);
});
