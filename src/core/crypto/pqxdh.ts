/**
 * PQXDH key agreement (Signal PQXDH spec revision 3, §3.3 "Sending the initial message",
 * §3.4 "Receiving the initial message") with Petrel's parameters:
 *
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  DH4 = DH(EK_A, OPK_B)
 *   (CT, SS) = PQKEM-ENC(PQPK_B)
 *   SK = KDF(DH1 ‖ DH2 ‖ DH3 ‖ SS)  or  KDF(DH1 ‖ DH2 ‖ DH3 ‖ DH4 ‖ SS)
 *   KDF = HKDF-SHA-256(IKM = 32×0xFF ‖ input, salt = 32 zero bytes,
 *                      info = "Petrel_CURVE25519_SHA-256_ML-KEM-768") → 32 bytes
 *   AD = IK_A_pub ‖ IK_B_pub (raw Ed25519 public keys)
 */
import { concatBytes } from '../bytes.ts';
import { cryptoRuntime, type CryptoDeps, type CryptoRuntime } from './crypto-runtime.ts';
import { identityX25519Public, type Identity } from './identity.ts';
import { hkdfSha256 } from './kdf.ts';
import { KEY_BYTES, PQXDH_INFO_BYTES } from './limits.ts';
import type { VerifiedBundle } from './prekeys.ts';
import { SecretBytes } from './redacted.ts';
import type { DhPrivate } from './x25519.ts';

/** §2.2: "F = 32 0xFF bytes for curve X25519" prepended to the KDF input (domain separation from XEdDSA). */
const KDF_PREFIX = new Uint8Array(KEY_BYTES).fill(0xff);
const ZERO_SALT = new Uint8Array(KEY_BYTES);

/** SK = HKDF(F ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS). */
export function deriveSessionKey(dh1: Uint8Array, dh2: Uint8Array, dh3: Uint8Array, dh4: Uint8Array | undefined, kemSharedSecret: Uint8Array): SecretBytes {
  const ikm = dh4 ? concatBytes(KDF_PREFIX, dh1, dh2, dh3, dh4, kemSharedSecret) : concatBytes(KDF_PREFIX, dh1, dh2, dh3, kemSharedSecret);
  const sk = hkdfSha256(ikm, ZERO_SALT, PQXDH_INFO_BYTES, KEY_BYTES);
  ikm.fill(0);
  return new SecretBytes(sk);
}

/** AD = Encode(IK_A) ‖ Encode(IK_B), Petrel's encoding being the raw 32-byte Ed25519 key. */
export function associatedData(initiatorIdentity: Uint8Array, responderIdentity: Uint8Array): Uint8Array {
  return concatBytes(initiatorIdentity, responderIdentity);
}

/** Alice's side of SK from explicit keys (also what the published vectors exercise). */
export async function initiatorSessionKey(p: {
  identity: Identity;
  ephemeral: DhPrivate;
  remoteIdentity: Uint8Array;
  /** `identityX25519Public(remoteIdentity)` when the caller already has it (a VerifiedBundle's `ikX25519`). */
  remoteIdentityX25519?: Uint8Array;
  remoteSignedPreKey: Uint8Array;
  remoteOneTimePreKey?: Uint8Array;
  kemSharedSecret: Uint8Array;
}, deps: CryptoDeps): Promise<SecretBytes> {
  const rt = cryptoRuntime(deps);
  const [dh1, dh2, dh3, dh4] = await Promise.all([
    rt.dh(p.identity.dhPrivate(), p.remoteSignedPreKey),
    rt.dh(p.ephemeral, p.remoteIdentityX25519 ?? identityX25519Public(p.remoteIdentity)),
    rt.dh(p.ephemeral, p.remoteSignedPreKey),
    p.remoteOneTimePreKey ? rt.dh(p.ephemeral, p.remoteOneTimePreKey) : undefined,
  ]);
  return deriveSessionKey(dh1, dh2, dh3, dh4, p.kemSharedSecret);
}

/** Bob's side of SK (§3.4: "Bob … repeats the DH and KDF calculations from the previous section"). */
export async function responderSessionKey(p: {
  identity: Identity;
  signedPreKey: DhPrivate;
  oneTimePreKey?: DhPrivate;
  remoteIdentity: Uint8Array;
  /** `identityX25519Public(remoteIdentity)` when the caller has already computed it (it costs a point decoding). */
  remoteIdentityX25519?: Uint8Array;
  remoteBaseKey: Uint8Array;
  kemSharedSecret: Uint8Array;
}, deps: CryptoDeps): Promise<SecretBytes> {
  const rt = cryptoRuntime(deps);
  const [dh1, dh2, dh3, dh4] = await Promise.all([
    rt.dh(p.signedPreKey, p.remoteIdentityX25519 ?? identityX25519Public(p.remoteIdentity)),
    rt.dh(p.identity.dhPrivate(), p.remoteBaseKey),
    rt.dh(p.signedPreKey, p.remoteBaseKey),
    p.oneTimePreKey ? rt.dh(p.oneTimePreKey, p.remoteBaseKey) : undefined,
  ]);
  return deriveSessionKey(dh1, dh2, dh3, dh4, p.kemSharedSecret);
}

export interface InitiatorAgreement {
  readonly sk: SecretBytes;
  readonly ad: Uint8Array;
  /** EK_A public. Its private key is deleted (§3.3 "Alice deletes her ephemeral private key"). */
  readonly baseKey: Uint8Array;
  readonly kemCipherText: Uint8Array;
}

/**
 * §3.3 after signature verification (the VerifiedBundle type proves it happened).
 * Randomness is drawn in this order: EK_A private (32), ML-KEM encapsulation message (32);
 * a runtime with native key generation draws neither from its `random` (crypto-runtime.ts).
 */
export async function pqxdhInitiate(identity: Identity, bundle: VerifiedBundle, rt: CryptoRuntime): Promise<InitiatorAgreement> {
  const ephemeral = await rt.generateDhKeyPair();
  const { cipherText, sharedSecret } = await rt.mlKemEncapsulate(bundle.pq.pub);
  const sk = await initiatorSessionKey({
    identity,
    ephemeral,
    remoteIdentity: bundle.ik,
    remoteIdentityX25519: bundle.ikX25519,
    remoteSignedPreKey: bundle.spk.pub,
    ...(bundle.opk ? { remoteOneTimePreKey: bundle.opk.pub } : {}),
    kemSharedSecret: sharedSecret,
  }, rt);
  return { sk, ad: associatedData(identity.publicKey, bundle.ik), baseKey: ephemeral.publicKey, kemCipherText: cipherText };
}
