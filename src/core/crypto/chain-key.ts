/**
 * KDF_CK (Double Ratchet §5.2): "HMAC with SHA-256 … using ck as the HMAC key and using
 * separate constants as input (e.g. a single byte 0x01 as input to produce the message
 * key, and a single byte 0x02 as input to produce the next chain key)".
 */
import { hmacSha256Pair } from './kdf.ts';

export const MESSAGE_KEY_SEED = 0x01;
export const CHAIN_KEY_SEED = 0x02;

export function kdfChainKey(chainKey: Uint8Array): { messageKey: Uint8Array; chainKey: Uint8Array } {
  const [messageKey, next] = hmacSha256Pair(chainKey, MESSAGE_KEY_SEED, CHAIN_KEY_SEED);
  return { messageKey, chainKey: next };
}
