/**
 * Every named constant of Petrel protocol v1: KDF labels, signature labels and limits.
 * docs/PROTOCOL.md quotes these values; changing one changes the protocol.
 */
import { utf8 } from '../bytes.ts';

/** Protocol name as published in tests/vectors/protocol-v1.json. */
export const PROTOCOL_NAME = 'petrel/1';

// ---- KDF labels (HKDF `info` strings, UTF-8) ------------------------------------------

/** PQXDH session key: HKDF info for SK (Signal PQXDH §2.2 "info" parameter). */
export const PQXDH_INFO = 'Petrel_CURVE25519_SHA-256_ML-KEM-768';
/** KDF_RK: HKDF info when the root key absorbs a DH output (Double Ratchet §5.2). */
export const RATCHET_INFO = 'Petrel_Ratchet';
/** Message key → AES-256 key ‖ 12-byte nonce (Double Ratchet §5.2 ENCRYPT recommendation). */
export const MESSAGE_KEYS_INFO = 'Petrel_MessageKeys';
/** Sealed-sender envelope key derivation. */
export const SEALED_SENDER_INFO = 'Petrel_SealedSender';

// ---- Signature and hashing labels ------------------------------------------------------

/** Signed prekey signature = Ed25519(IK, "Petrel_SPK" ‖ SPK_pub). */
export const SPK_SIGNATURE_LABEL = 'Petrel_SPK';
/** PQ prekey signature = Ed25519(IK, "Petrel_PQPK" ‖ PQPK_pub), last-resort and one-time alike. */
export const PQPK_SIGNATURE_LABEL = 'Petrel_PQPK';
/** Relay authentication: Ed25519(IK, "Petrel_Auth" ‖ nonce) (shared contract). */
export const RELAY_AUTH_LABEL = 'Petrel_Auth';

export const PQXDH_INFO_BYTES = utf8(PQXDH_INFO);
export const RATCHET_INFO_BYTES = utf8(RATCHET_INFO);
export const MESSAGE_KEYS_INFO_BYTES = utf8(MESSAGE_KEYS_INFO);
export const SEALED_SENDER_INFO_BYTES = utf8(SEALED_SENDER_INFO);
export const SPK_SIGNATURE_LABEL_BYTES = utf8(SPK_SIGNATURE_LABEL);
export const PQPK_SIGNATURE_LABEL_BYTES = utf8(PQPK_SIGNATURE_LABEL);
export const RELAY_AUTH_LABEL_BYTES = utf8(RELAY_AUTH_LABEL);

// ---- Sizes -------------------------------------------------------------------------------

export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const ML_KEM_768_PUBLIC_KEY_BYTES = 1184;
export const ML_KEM_768_CIPHERTEXT_BYTES = 1088;
/** ML-KEM key generation seed (d ‖ z, FIPS 203 ML-KEM.KeyGen_internal). Pools store this, not the 2,400-byte key. */
export const ML_KEM_768_SEED_BYTES = 64;
/** Ratchet header: ratchet public key (32) ‖ PN (uint32 BE) ‖ N (uint32 BE). */
export const HEADER_BYTES = 40;
export const AES_GCM_TAG_BYTES = 16;
export const AES_GCM_NONCE_BYTES = 12;

// ---- Limits --------------------------------------------------------------------------------

/**
 * Double Ratchet MAX_SKIP (§3.5): the most message keys one header may make us skip in
 * one chain (both when catching up the current chain and when finishing the previous
 * one before a DH ratchet step). A header asking for more is refused.
 */
export const MAX_SKIP = 1000;
/** Stored skipped message keys per session; when full, the oldest are evicted (Double Ratchet §6.4 "Deletion of skipped message keys"). */
export const MAX_STORED_SKIPPED_KEYS = 2000;
/**
 * Finished receiving chains a session remembers: the remote ratchet public key and the
 * chain's length (the PN that ended it), 36 bytes each, at most 1,152 bytes per session. A
 * replay of any message of these chains is reported as DuplicateMessageError; one from an
 * older chain cannot be told from a forged new ratchet key and fails AES-GCM instead. 32
 * chains = 32 changes of speaker in the conversation since the replayed message.
 */
export const MAX_FINISHED_RECEIVING_CHAINS = 32;
/** Largest plaintext `encrypt` accepts (the relay envelope body is ≤ 192 KiB incl. overheads). */
export const MAX_PLAINTEXT_BYTES = 180 * 1024;

/** Below this many one-time prekeys (of either kind) left, `replenishPreKeys` tops the pool up. */
export const ONE_TIME_PREKEY_REPLENISH_THRESHOLD = 25;
/** `replenishPreKeys` tops up to this many (also the per-upload maximum of the bundle contract). */
export const ONE_TIME_PREKEY_TARGET = 100;
/**
 * One-time prekeys of each kind a new identity starts with. The rest, up to
 * ONE_TIME_PREKEY_TARGET, are made after the first screen, a few at a time: an ML-KEM-768
 * key pair plus its signature costs about 3 ms here and far more on a cheap phone, so 100
 * of them would hold the first screen for a third of a second (seconds on such a phone).
 */
export const INITIAL_ONE_TIME_PREKEYS = 10;
/** Private one-time prekeys kept locally per kind (handed out but unused ones pile up); oldest dropped. */
export const MAX_LOCAL_ONE_TIME_PREKEYS = 400;

/**
 * How often `signedPreKeyRotationDue` asks for a new SPK and PQSPK (PQXDH §3.2 suggests e.g.
 * weekly). A pool keeps one previous pair, so an initial message stays acceptable for at
 * least this long after its bundle was fetched.
 */
export const SIGNED_PREKEY_ROTATION_INTERVAL_MS = 7 * 24 * 60 * 60 * 1000;

/** Safety numbers: SHA-512 iterations per fingerprint (Signal's NumericFingerprintGenerator uses 5200). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
/** Version prefix hashed into each fingerprint (uint16 BE). */
export const SAFETY_NUMBER_FORMAT_VERSION = 0;
/** QR payload version byte. */
export const SAFETY_NUMBER_QR_VERSION = 1;
