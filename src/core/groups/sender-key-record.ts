/**
 * What one device holds for one (group, sender device): the sender's chains, newest
 * first, at most MAX_SENDER_KEY_STATES. Our own record holds our chain with its signing
 * seed. Stored as bytes with an integrity tag (state-integrity.ts), so a damaged row is a
 * CorruptStateError, never a different chain.
 *
 * Taking a distribution (docs/PROTOCOL.md §16.3):
 *   - a new chain id: added as the newest; the oldest beyond the limit is dropped;
 *   - a chain id we hold with the same signing key: kept as it is when ours is at or past
 *     the distributed iteration (never rolled back: that would re-derive keys of messages
 *     already read); moved forward to it otherwise (skipped keys below it dropped);
 *   - a chain id we hold under another signing key: ConflictingSenderKeyError, record unchanged.
 */
import { bytesEqual } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../crypto/binary.ts';
import { ConflictingSenderKeyError, MalformedStateError } from '../crypto/errors.ts';
import { KEY_BYTES } from '../crypto/limits.ts';
import { SecretBytes } from '../crypto/redacted.ts';
import { checkedBody, withIntegrity } from '../crypto/state-integrity.ts';
import { MAX_SENDER_KEY_STATES, MAX_STORED_SENDER_MESSAGE_KEYS, SENDER_KEY_RECORD_LABEL } from './limits.ts';
import type { SenderKeyDistribution } from './sender-key-distribution.ts';
import { receivedSenderKeyState, type SenderKeyState } from './sender-key-state.ts';

export interface SenderKeyRecord {
  /** Newest first. */
  readonly states: readonly SenderKeyState[];
}

export const EMPTY_SENDER_KEY_RECORD: SenderKeyRecord = { states: [] };

export function findChain(record: SenderKeyRecord, chainId: number): SenderKeyState | undefined {
  return record.states.find((s) => s.chainId === chainId);
}

/** The record with `state` in place of the chain of the same id (or as the newest, when new). */
export function withState(record: SenderKeyRecord, state: SenderKeyState): SenderKeyRecord {
  const i = record.states.findIndex((s) => s.chainId === state.chainId);
  if (i >= 0) return { states: record.states.map((s, j) => (j === i ? state : s)) };
  return { states: [state, ...record.states].slice(0, MAX_SENDER_KEY_STATES) };
}

/** The record after taking `d` (rules in the file comment). */
export function processDistribution(record: SenderKeyRecord, d: SenderKeyDistribution): SenderKeyRecord {
  const held = findChain(record, d.chainId);
  if (!held) return withState(record, receivedSenderKeyState(d.chainId, d.iteration, d.chainKey, d.signingPublic));
  if (!bytesEqual(held.signingPublic, d.signingPublic)) throw new ConflictingSenderKeyError('a chain id already held under another signing key');
  if (held.iteration >= d.iteration) return record;
  const moved = receivedSenderKeyState(d.chainId, d.iteration, d.chainKey, d.signingPublic);
  const skipped = new Map([...held.skipped].filter(([it]) => it >= d.iteration));
  return withState(record, { ...moved, skipped });
}

// ---- stored form -----------------------------------------------------------------------

const FORMAT = 1;
const HAS_SEED = 1;

export function serializeSenderKeyRecord(record: SenderKeyRecord): Uint8Array {
  const w = new ByteWriter(64 + record.states.length * 128);
  w.u8(FORMAT).u8(record.states.length);
  for (const s of record.states) {
    w.u32(s.chainId).u32(s.iteration).bytes(s.chainKey.expose()).bytes(s.signingPublic);
    w.u8(s.signingSeed ? HAS_SEED : 0);
    if (s.signingSeed) w.bytes(s.signingSeed.expose());
    // createdAt as two uint32 halves (ms since 1970 exceed 32 bits).
    w.u32(Math.floor(s.createdAt / 2 ** 32)).u32(s.createdAt >>> 0);
    w.u16(s.skipped.size);
    for (const [iteration, key] of s.skipped) w.u32(iteration).bytes(key.expose());
  }
  return withIntegrity(SENDER_KEY_RECORD_LABEL, w.finish());
}

/** CorruptStateError when the integrity tag fails; MalformedStateError for a body that is not a record. */
export function deserializeSenderKeyRecord(stored: Uint8Array): SenderKeyRecord {
  const r = new ByteReader(checkedBody(SENDER_KEY_RECORD_LABEL, stored).slice());
  if (r.u8() !== FORMAT) throw new MalformedStateError('unknown sender-key record format');
  const count = r.u8();
  if (count > MAX_SENDER_KEY_STATES) throw new MalformedStateError('too many sender chains');
  const states: SenderKeyState[] = [];
  for (let i = 0; i < count; i++) {
    const chainId = r.u32();
    const iteration = r.u32();
    const chainKey = new SecretBytes(r.bytes(KEY_BYTES).slice());
    const signingPublic = r.bytes(KEY_BYTES).slice();
    const flag = r.u8();
    if (flag !== 0 && flag !== HAS_SEED) throw new MalformedStateError('bad signing-seed flag');
    const signingSeed = flag === HAS_SEED ? new SecretBytes(r.bytes(KEY_BYTES).slice()) : undefined;
    const createdAt = r.u32() * 2 ** 32 + r.u32();
    const skippedCount = r.u16();
    if (skippedCount > MAX_STORED_SENDER_MESSAGE_KEYS) throw new MalformedStateError('too many skipped sender keys');
    const skipped = new Map<number, SecretBytes>();
    for (let j = 0; j < skippedCount; j++) skipped.set(r.u32(), new SecretBytes(r.bytes(KEY_BYTES).slice()));
    states.push({ chainId, iteration, chainKey, signingPublic, ...(signingSeed ? { signingSeed } : {}), skipped, createdAt });
  }
  r.end();
  return { states };
}
