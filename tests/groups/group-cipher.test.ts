import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import {
  AuthenticationFailedError,
  BadSignatureError,
  ConflictingSenderKeyError,
  CorruptStateError,
  CryptoError,
  CryptoRuntime,
  DuplicateMessageError,
  MalformedMessageError,
  NoSenderKeyError,
  SkipLimitExceededError,
} from '../../src/core/crypto/index.ts';
import { seededRandom } from '../../src/core/random.ts';
import { groupDecrypt, groupEncrypt } from '../../src/core/groups/group-cipher.ts';
import { GROUP_ID_BYTES, MAX_SENDER_KEY_FORWARD_JUMP, MAX_SENDER_KEY_STATES, MAX_STORED_SENDER_MESSAGE_KEYS } from '../../src/core/groups/limits.ts';
import { distributionOf, parseSenderKeyDistribution, SENDER_KEY_DISTRIBUTION_BYTES } from '../../src/core/groups/sender-key-distribution.ts';
import {
  deserializeSenderKeyRecord,
  EMPTY_SENDER_KEY_RECORD,
  processDistribution,
  serializeSenderKeyRecord,
  type SenderKeyRecord,
} from '../../src/core/groups/sender-key-record.ts';
import { createSenderKeyState, nextMessageKey, type SenderKeyState } from '../../src/core/groups/sender-key-state.ts';

const rt = new CryptoRuntime(seededRandom(7));
const GROUP = new Uint8Array(GROUP_ID_BYTES).fill(9);

function sender(seed = 1): SenderKeyState {
  return createSenderKeyState(seededRandom(seed), 1_000);
}

/** A receiver's record holding `state`'s chain as distributed now. */
function receiverOf(state: SenderKeyState, record: SenderKeyRecord = EMPTY_SENDER_KEY_RECORD): SenderKeyRecord {
  return processDistribution(record, parseSenderKeyDistribution(distributionOf(GROUP, state)));
}

async function encryptMany(state: SenderKeyState, n: number): Promise<{ state: SenderKeyState; messages: Uint8Array[] }> {
  const messages: Uint8Array[] = [];
  let s = state;
  for (let i = 0; i < n; i++) {
    const out = await groupEncrypt(s, GROUP, utf8(`message ${i}`), rt);
    s = out.state;
    messages.push(out.message);
  }
  return { state: s, messages };
}

function fingerprint(record: SenderKeyRecord): string {
  return toHex(serializeSenderKeyRecord(record));
}

describe('group cipher (sender keys)', () => {
  it('every member reads every message once, in any order within the limits; a replay is a duplicate', async () => {
    const { messages } = await encryptMany(sender(), 12);
    const start = receiverOf(sender());
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...messages.keys()], { minLength: 12, maxLength: 12 }), fc.nat({ max: 11 }), async (order, replayAt) => {
        let record = start;
        for (const i of order) {
          const out = await groupDecrypt(record, GROUP, messages[i]!, rt);
          expect(out.plaintext).toEqual(utf8(`message ${i}`));
          expect(out.iteration).toBe(i);
          record = out.record;
        }
        const before = fingerprint(record);
        await expect(groupDecrypt(record, GROUP, messages[replayAt]!, rt)).rejects.toBeInstanceOf(DuplicateMessageError);
        expect(fingerprint(record)).toBe(before);
      }),
      { numRuns: 25 },
    );
  });

  it('a member who gets the chain later reads nothing sent before', async () => {
    const first = await encryptMany(sender(), 3);
    const late = receiverOf(first.state);
    const after = await groupEncrypt(first.state, GROUP, utf8('after'), rt);
    for (const m of first.messages) await expect(groupDecrypt(late, GROUP, m, rt)).rejects.toBeInstanceOf(DuplicateMessageError);
    expect((await groupDecrypt(late, GROUP, after.message, rt)).plaintext).toEqual(utf8('after'));
  });

  it('any single flipped bit is a typed refusal and leaves the record as it was', async () => {
    const { messages } = await encryptMany(sender(), 1);
    const message = messages[0]!;
    const record = receiverOf(sender());
    const before = fingerprint(record);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: message.length * 8 - 1 }), async (bit) => {
        const bad = message.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        const err = await groupDecrypt(record, GROUP, bad, rt).then(() => undefined, (e: unknown) => e);
        expect(err).toBeInstanceOf(CryptoError);
        expect(['malformed_message', 'no_sender_key', 'bad_signature']).toContain((err as CryptoError).kind);
        expect(fingerprint(record)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('the signature is checked before decryption: a ciphertext re-signed by another key is refused', async () => {
    const honest = sender(1);
    const forger = { ...sender(2), chainId: honest.chainId, chainKey: honest.chainKey };
    const forged = await groupEncrypt(forger, GROUP, utf8('forged'), rt);
    await expect(groupDecrypt(receiverOf(honest), GROUP, forged.message, rt)).rejects.toBeInstanceOf(BadSignatureError);
  });

  it('a message that authenticates its signature but not its AEAD tag is AuthenticationFailedError', async () => {
    const s = sender();
    // A receiver whose copy of the chain key is wrong (the signing key right): the tag fails, nothing changes.
    const wrongKey = { ...s, chainKey: nextMessageKey(s).state.chainKey };
    const record = receiverOf(wrongKey);
    const before = fingerprint(record);
    const { messages } = await encryptMany(s, 1);
    await expect(groupDecrypt(record, GROUP, messages[0]!, rt)).rejects.toBeInstanceOf(AuthenticationFailedError);
    expect(fingerprint(record)).toBe(before);
  });

  it('refuses an unknown chain, another group, and a jump past the limit', async () => {
    const { messages } = await encryptMany(sender(1), 1);
    await expect(groupDecrypt(receiverOf(sender(3)), GROUP, messages[0]!, rt)).rejects.toBeInstanceOf(NoSenderKeyError);
    await expect(groupDecrypt(EMPTY_SENDER_KEY_RECORD, GROUP, messages[0]!, rt)).rejects.toBeInstanceOf(NoSenderKeyError);
    await expect(groupDecrypt(receiverOf(sender(1)), new Uint8Array(GROUP_ID_BYTES), messages[0]!, rt)).rejects.toBeInstanceOf(MalformedMessageError);

    const s = sender(4);
    const record = receiverOf(s);
    let far = s;
    for (let i = 0; i <= MAX_SENDER_KEY_FORWARD_JUMP; i++) far = nextMessageKey(far).state;
    const tooFar = await groupEncrypt(far, GROUP, utf8('too far'), rt);
    await expect(groupDecrypt(record, GROUP, tooFar.message, rt)).rejects.toBeInstanceOf(SkipLimitExceededError);
  });

  it('keeps at most MAX_STORED_SENDER_MESSAGE_KEYS skipped keys: the oldest are dropped', async () => {
    const s = sender(5);
    const record = receiverOf(s);
    const first = await groupEncrypt(s, GROUP, utf8('first'), rt);
    let ahead = first.state;
    for (let i = 0; i < MAX_STORED_SENDER_MESSAGE_KEYS + 10; i++) ahead = nextMessageKey(ahead).state;
    const last = await groupEncrypt(ahead, GROUP, utf8('last'), rt);
    const out = await groupDecrypt(record, GROUP, last.message, rt);
    expect(out.record.states[0]!.skipped.size).toBe(MAX_STORED_SENDER_MESSAGE_KEYS);
    await expect(groupDecrypt(out.record, GROUP, first.message, rt)).rejects.toBeInstanceOf(DuplicateMessageError);
  });
});

describe('sender-key distribution and record', () => {
  it('a distribution never rolls a chain back, moves it forward, and refuses a chain id under another signing key', async () => {
    const s = sender(6);
    const { state: later, messages } = await encryptMany(s, 5);
    let record = receiverOf(s);
    record = (await groupDecrypt(record, GROUP, messages[4]!, rt)).record;
    const held = fingerprint(record);
    expect(fingerprint(receiverOf(s, record))).toBe(held); // older distribution: unchanged

    const forward = receiverOf(later, receiverOf(s));
    expect(forward.states[0]!.iteration).toBe(5);
    await expect(groupDecrypt(forward, GROUP, messages[2]!, rt)).rejects.toBeInstanceOf(DuplicateMessageError);

    const impostor = { ...sender(7), chainId: s.chainId };
    expect(() => receiverOf(impostor, record)).toThrow(ConflictingSenderKeyError);
  });

  it('keeps the newest MAX_SENDER_KEY_STATES chains of a sender', () => {
    let record = EMPTY_SENDER_KEY_RECORD;
    const chains = Array.from({ length: MAX_SENDER_KEY_STATES + 2 }, (_, i) => sender(100 + i));
    for (const c of chains) record = receiverOf(c, record);
    expect(record.states.map((s) => s.chainId)).toEqual(chains.slice(2).reverse().map((c) => c.chainId));
  });

  it('refuses malformed distributions: length, version, a small-order signing key', () => {
    const good = distributionOf(GROUP, sender());
    expect(() => parseSenderKeyDistribution(good.subarray(1))).toThrow(MalformedMessageError);
    const version = good.slice();
    version[0] = 2;
    expect(() => parseSenderKeyDistribution(version)).toThrow(MalformedMessageError);
    const weak = good.slice();
    weak.set(new Uint8Array(32).fill(0).map((_, i) => (i === 0 ? 1 : 0)), SENDER_KEY_DISTRIBUTION_BYTES - 32); // the identity point
    expect(() => parseSenderKeyDistribution(weak)).toThrow(MalformedMessageError);
  });

  it('a stored record round-trips (own chain with its seed, skipped keys) and any corruption is CorruptStateError', async () => {
    const own = sender(8);
    const { messages } = await encryptMany(own, 4);
    const received = (await groupDecrypt(receiverOf(sender(8)), GROUP, messages[3]!, rt)).record; // 3 keys skipped
    const record = { states: [...received.states, ...receiverOf(sender(9)).states] };
    expect(record.states[0]!.skipped.size).toBe(3);
    const bytes = serializeSenderKeyRecord(record);
    const back = deserializeSenderKeyRecord(bytes);
    expect(serializeSenderKeyRecord(back)).toEqual(bytes);
    expect([...back.states[0]!.skipped.keys()]).toEqual([0, 1, 2]);
    expect((await groupDecrypt(back, GROUP, messages[1]!, rt)).plaintext).toEqual(utf8('message 1'));
    const ownBytes = serializeSenderKeyRecord({ states: [own] });
    expect(deserializeSenderKeyRecord(ownBytes).states[0]!.signingSeed?.expose()).toEqual(own.signingSeed!.expose());
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const bad = bytes.slice();
        bad[at]! ^= x;
        expect(() => deserializeSenderKeyRecord(bad)).toThrow(CorruptStateError);
      }),
      { numRuns: 300 },
    );
  });
});
