import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8 } from '../bytes.ts';
import { IDENTITY_KEY_BYTES, NONCE_BYTES } from './limits.ts';
import { WireError } from './wire-error.ts';

/** Domain-separation labels (shared contract; see docs/PROTOCOL.md §11). */
export const MAILBOX_LABEL = 'Petrel_Mailbox';
export const AUTH_LABEL = 'Petrel_Auth';
export const SPK_SIGNATURE_LABEL = 'Petrel_SPK';
export const PQPK_SIGNATURE_LABEL = 'Petrel_PQPK';

const MAILBOX_PREFIX = utf8(MAILBOX_LABEL);
const AUTH_PREFIX = utf8(AUTH_LABEL);
const SPK_PREFIX = utf8(SPK_SIGNATURE_LABEL);
const PQPK_PREFIX = utf8(PQPK_SIGNATURE_LABEL);

/** Self-certifying mailbox address: SHA-256("Petrel_Mailbox" ‖ IK_pub). */
export function mailboxAddress(ikPub: Uint8Array): Uint8Array {
  if (!(ikPub instanceof Uint8Array) || ikPub.length !== IDENTITY_KEY_BYTES) {
    throw new WireError('invalid_field', `identity key must be ${IDENTITY_KEY_BYTES} bytes`, 'ik');
  }
  return sha256(concatBytes(MAILBOX_PREFIX, ikPub));
}

/** The bytes a client signs with its identity key to answer a relay challenge: "Petrel_Auth" ‖ nonce. */
export function authPayload(nonce: Uint8Array): Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) {
    throw new WireError('invalid_field', `nonce must be ${NONCE_BYTES} bytes`, 'nonce');
  }
  return concatBytes(AUTH_PREFIX, nonce);
}

/** The bytes signed for a signed prekey: "Petrel_SPK" ‖ pub. */
export function spkSignaturePayload(pub: Uint8Array): Uint8Array {
  return concatBytes(SPK_PREFIX, pub);
}

/** The bytes signed for a PQ prekey (last-resort or one-time): "Petrel_PQPK" ‖ pub. */
export function pqpkSignaturePayload(pub: Uint8Array): Uint8Array {
  return concatBytes(PQPK_PREFIX, pub);
}
