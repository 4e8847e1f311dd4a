/**
 * Petrel message bytes (what the sealed-sender box carries as `inner`).
 *
 *   ratchet message  0x11 ‖ header (40) ‖ AES-GCM ciphertext ‖ tag (16)
 *   prekey message   0x12 ‖ IK_A (32) ‖ EK_A (32) ‖ SPK id (u32) ‖ PQ prekey id (u32)
 *                    ‖ OPK flag (u8: 0 or 1) ‖ OPK id (u32, 0 when the flag is 0)
 *                    ‖ ML-KEM ciphertext (1088) ‖ header (40) ‖ ciphertext ‖ tag (16)
 *
 * The first byte is version (high nibble, 1) and type (low nibble). The initiator sends
 * prekey messages until the first reply arrives (Signal's PreKeySignalMessage pattern).
 * `parseMessage` lets the caller learn which prekeys a message needs before loading them.
 */
import { ByteReader, ByteWriter } from './binary.ts';
import { MalformedMessageError } from './errors.ts';
import { AES_GCM_TAG_BYTES, HEADER_BYTES, KEY_BYTES, ML_KEM_768_CIPHERTEXT_BYTES } from './limits.ts';

export const MESSAGE_TYPE_RATCHET = 0x11;
export const MESSAGE_TYPE_PREKEY = 0x12;
const PREKEY_FIXED_BYTES = 1 + 32 + 32 + 4 + 4 + 1 + 4 + ML_KEM_768_CIPHERTEXT_BYTES;

export interface RatchetMessage {
  readonly type: 'ratchet';
  readonly header: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export interface PreKeyMessage {
  readonly type: 'prekey';
  /** IK_A: the initiator's Ed25519 identity public key. */
  readonly senderIdentity: Uint8Array;
  /** EK_A: the initiator's ephemeral (base) key; names the session. */
  readonly baseKey: Uint8Array;
  readonly signedPreKeyId: number;
  readonly pqPreKeyId: number;
  readonly oneTimePreKeyId?: number;
  readonly kemCipherText: Uint8Array;
  readonly header: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export type ParsedMessage = RatchetMessage | PreKeyMessage;

/** The message type from its first byte, without parsing the rest. */
export function messageType(bytes: Uint8Array): 'ratchet' | 'prekey' | undefined {
  return bytes[0] === MESSAGE_TYPE_RATCHET ? 'ratchet' : bytes[0] === MESSAGE_TYPE_PREKEY ? 'prekey' : undefined;
}

export function encodeRatchetMessage(header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + HEADER_BYTES + ciphertext.length);
  out[0] = MESSAGE_TYPE_RATCHET;
  out.set(header, 1);
  out.set(ciphertext, 1 + HEADER_BYTES);
  return out;
}

export function encodePreKeyMessage(m: Omit<PreKeyMessage, 'type'>): Uint8Array {
  const w = new ByteWriter(PREKEY_FIXED_BYTES + HEADER_BYTES + m.ciphertext.length);
  w.u8(MESSAGE_TYPE_PREKEY).bytes(m.senderIdentity).bytes(m.baseKey).u32(m.signedPreKeyId).u32(m.pqPreKeyId);
  w.u8(m.oneTimePreKeyId === undefined ? 0 : 1).u32(m.oneTimePreKeyId ?? 0);
  w.bytes(m.kemCipherText).bytes(m.header).bytes(m.ciphertext);
  return w.finish();
}

/** Parses (views into `bytes`; copy before keeping). MalformedMessageError for anything else. */
export function parseMessage(bytes: Uint8Array): ParsedMessage {
  if (!(bytes instanceof Uint8Array)) throw new MalformedMessageError('message must be bytes');
  const fail = (m: string) => new MalformedMessageError(m);
  const r = new ByteReader(bytes, fail);
  const type = r.u8();
  if (type === MESSAGE_TYPE_RATCHET) {
    const header = r.bytes(HEADER_BYTES);
    const ciphertext = r.rest();
    if (ciphertext.length < AES_GCM_TAG_BYTES) throw fail('ciphertext shorter than the tag');
    return { type: 'ratchet', header, ciphertext };
  }
  if (type !== MESSAGE_TYPE_PREKEY) throw fail(`unknown message type 0x${type.toString(16)}`);
  const senderIdentity = r.bytes(KEY_BYTES);
  const baseKey = r.bytes(KEY_BYTES);
  const signedPreKeyId = r.u32();
  const pqPreKeyId = r.u32();
  const hasOpk = r.u8();
  const opkId = r.u32();
  if (hasOpk > 1 || (hasOpk === 0 && opkId !== 0)) throw fail('bad one-time prekey field');
  const kemCipherText = r.bytes(ML_KEM_768_CIPHERTEXT_BYTES);
  const header = r.bytes(HEADER_BYTES);
  const ciphertext = r.rest();
  if (ciphertext.length < AES_GCM_TAG_BYTES) throw fail('ciphertext shorter than the tag');
  const base = { type: 'prekey' as const, senderIdentity, baseKey, signedPreKeyId, pqPreKeyId, kemCipherText, header, ciphertext };
  return hasOpk ? { ...base, oneTimePreKeyId: opkId } : base;
}
