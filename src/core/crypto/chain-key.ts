/**
 * KDF_CK (Double Ratchet §5.2): "HMAC with SHA-256 … using ck as the HMAC key and using
 * separate constants as input (e.g. a single byte 0x01 as input to produce the message
 * key, and a single byte 0x02 as input to produce the next chain key)".
 */
import { hmacSha256Pair } from './kdf.ts';
import { SecretBytes } from './redacted.ts';

export const MESSAGE_KEY_SEED = 0x01;
export const CHAIN_KEY_SEED = 0x02;

export function kdfChainKey(chainKey: SecretBytes): { messageKey: SecretBytes; chainKey: SecretBytes } {
  const [messageKey, next] = hmacSha256Pair(chainKey.expose(), MESSAGE_KEY_SEED, CHAIN_KEY_SEED);
  return { messageKey: new SecretBytes(messageKey), chainKey: new SecretBytes(next) };
}
