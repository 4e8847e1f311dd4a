/**
 * The group message on the wire (docs/PROTOCOL.md §16.2):
 *
 *   header    = version (1) ‖ group id (16) ‖ chain id (uint32 BE) ‖ iteration (uint32 BE)
 *   message   = header ‖ ciphertext (AES-256-GCM, aad = header) ‖ signature (64)
 *   signature = Ed25519(chain signing key, "Petrel_SenderKeyMessage" ‖ header ‖ ciphertext)
 *
 * Fixed-length fields, so the bytes parse one way only. Parsing checks lengths and the
 * version; the signature is checked by the group cipher against the chain it names.
 */
import { concatBytes } from '../bytes.ts';
import { ByteReader, ByteWriter } from '../crypto/binary.ts';
import { MalformedMessageError } from '../crypto/errors.ts';
import { AES_GCM_TAG_BYTES, MAX_PLAINTEXT_BYTES, SIGNATURE_BYTES } from '../crypto/limits.ts';
import { GROUP_ID_BYTES, SENDER_KEY_SIGNATURE_LABEL_BYTES, SENDER_KEY_VERSION } from './limits.ts';

export const SENDER_KEY_HEADER_BYTES = 1 + GROUP_ID_BYTES + 4 + 4;

export interface SenderKeyMessage {
  readonly groupId: Uint8Array;
  readonly chainId: number;
  readonly iteration: number;
  /** The exact header bytes (the AEAD's associated data and the start of what is signed). */
  readonly header: Uint8Array;
  readonly ciphertext: Uint8Array;
  readonly signature: Uint8Array;
}

export function encodeSenderKeyHeader(groupId: Uint8Array, chainId: number, iteration: number): Uint8Array {
  if (groupId.length !== GROUP_ID_BYTES) throw new RangeError(`group id must be ${GROUP_ID_BYTES} bytes`);
  return new ByteWriter(SENDER_KEY_HEADER_BYTES).u8(SENDER_KEY_VERSION).bytes(groupId).u32(chainId).u32(iteration).finish();
}

/** What the signature covers: the label, the header and the ciphertext. */
export function signedPart(header: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return concatBytes(SENDER_KEY_SIGNATURE_LABEL_BYTES, header, ciphertext);
}

export function encodeSenderKeyMessage(header: Uint8Array, ciphertext: Uint8Array, signature: Uint8Array): Uint8Array {
  return concatBytes(header, ciphertext, signature);
}

/** MalformedMessageError for anything that is not a version-1 group message of sane length. */
export function parseSenderKeyMessage(bytes: Uint8Array): SenderKeyMessage {
  const min = SENDER_KEY_HEADER_BYTES + AES_GCM_TAG_BYTES + SIGNATURE_BYTES;
  const max = SENDER_KEY_HEADER_BYTES + MAX_PLAINTEXT_BYTES + AES_GCM_TAG_BYTES + SIGNATURE_BYTES;
  if (!(bytes instanceof Uint8Array) || bytes.length < min || bytes.length > max) throw new MalformedMessageError('not a group message (length)');
  const copy = bytes.slice();
  const r = new ByteReader(copy, (m) => new MalformedMessageError(m));
  const version = r.u8();
  if (version !== SENDER_KEY_VERSION) throw new MalformedMessageError(`unknown group message version ${version}`);
  const groupId = r.bytes(GROUP_ID_BYTES);
  const chainId = r.u32();
  const iteration = r.u32();
  const ciphertext = r.bytes(copy.length - SENDER_KEY_HEADER_BYTES - SIGNATURE_BYTES);
  const signature = r.bytes(SIGNATURE_BYTES);
  r.end();
  return { groupId, chainId, iteration, header: copy.subarray(0, SENDER_KEY_HEADER_BYTES), ciphertext, signature };
}
