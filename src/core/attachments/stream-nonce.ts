/**
 * The STREAM construction's nonce (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
 * Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015, §7), laid out
 * as the age format lays it out (age-encryption.org/v1, "payload"): a big-endian record
 * counter and a final byte that is 0x01 on the last record and 0x00 on every other.
 *
 *   nonce (12 bytes) = prefix (3 bytes, zero) ‖ counter (64-bit big-endian) ‖ last flag (1 byte)
 *
 * The prefix is zero because every file has its own random key: a (key, nonce) pair is never
 * used twice. Binding the counter makes a moved record fail to authenticate; binding the
 * last flag makes a stream cut at a record boundary fail, since the record that now ends it
 * was sealed as "not last".
 */
export const STREAM_NONCE_BYTES = 12;
const COUNTER_OFFSET = 3;
const FLAG_OFFSET = 11;

export function streamNonce(counter: number, last: boolean): Uint8Array {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('record counter must be a non-negative safe integer');
  const nonce = new Uint8Array(STREAM_NONCE_BYTES);
  new DataView(nonce.buffer).setBigUint64(COUNTER_OFFSET, BigInt(counter), false);
  nonce[FLAG_OFFSET] = last ? 1 : 0;
  return nonce;
}
