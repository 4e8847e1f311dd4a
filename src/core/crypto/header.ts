/**
 * Message header (Double Ratchet §3.4 HEADER(dh_pair, pn, n)), 40 bytes:
 * ratchet public key (32) ‖ PN (uint32 big-endian) ‖ N (uint32 big-endian).
 */
import { MalformedMessageError } from './errors.ts';
import { HEADER_BYTES, KEY_BYTES } from './limits.ts';

export interface Header {
  /** Sender's current ratchet public key. */
  readonly dh: Uint8Array;
  /** Number of messages in the sender's previous sending chain. */
  readonly pn: number;
  /** Message number in the current sending chain. */
  readonly n: number;
}

export function encodeHeader(h: Header): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  out.set(h.dh, 0);
  const v = new DataView(out.buffer);
  v.setUint32(KEY_BYTES, h.pn);
  v.setUint32(KEY_BYTES + 4, h.n);
  return out;
}

export function decodeHeader(bytes: Uint8Array): Header {
  if (bytes.length !== HEADER_BYTES) throw new MalformedMessageError('header must be 40 bytes');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { dh: bytes.subarray(0, KEY_BYTES), pn: v.getUint32(KEY_BYTES), n: v.getUint32(KEY_BYTES + 4) };
}
