/**
 * Message header (Double Ratchet §3.4 HEADER(dh_pair, pn, n)), 40 bytes:
 * ratchet public key (32) ‖ PN (uint32 big-endian) ‖ N (uint32 big-endian).
 */
import { MalformedHeaderError } from './errors.ts';
import { HEADER_BYTES, KEY_BYTES } from './limits.ts';
import { isLowOrderPublicKey } from './x25519.ts';

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

/**
 * Decodes a header; MalformedHeaderError when it is structurally not one, whatever the
 * session: not 40 bytes, or a ratchet key that is a low-order point (no DH can use it).
 */
export function decodeHeader(bytes: Uint8Array): Header {
  if (bytes.length !== HEADER_BYTES) throw new MalformedHeaderError('header must be 40 bytes');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dh = bytes.subarray(0, KEY_BYTES);
  if (isLowOrderPublicKey(dh)) throw new MalformedHeaderError('ratchet key is a low-order X25519 point');
  return { dh, pn: v.getUint32(KEY_BYTES), n: v.getUint32(KEY_BYTES + 4) };
}
