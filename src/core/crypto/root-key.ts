/**
 * KDF_RK (Double Ratchet §5.2): "HKDF with SHA-256 … using rk as HKDF salt, dh_out as
 * HKDF input key material, and an application-specific byte sequence as HKDF info",
 * 64 bytes out: the new root key ‖ a new chain key.
 */
import { hkdfSha256 } from './kdf.ts';
import { KEY_BYTES, RATCHET_INFO_BYTES } from './limits.ts';
import { SecretBytes } from './redacted.ts';

export function kdfRootKey(rootKey: SecretBytes, dhOutput: Uint8Array): { rootKey: SecretBytes; chainKey: SecretBytes } {
  const out = hkdfSha256(dhOutput, rootKey.expose(), RATCHET_INFO_BYTES, 2 * KEY_BYTES);
  return { rootKey: new SecretBytes(out.slice(0, KEY_BYTES)), chainKey: new SecretBytes(out.slice(KEY_BYTES)) };
}
