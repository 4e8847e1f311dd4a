/**
 * Petrel crypto core, public API (protocol "petrel/1", docs/PROTOCOL.md). Every function is
 * pure over values: no I/O, inputs never modified, new state returned.
 */
export * from './errors.ts';
export * as limits from './limits.ts';
export { mlKemImplementation } from './ml-kem-wasm.ts';
export {
  Identity,
  identityFromSeed,
  generateIdentity,
  loadOrCreateIdentity,
  compareContactIdentity,
  verifySignature,
  identityX25519Public,
  isValidIdentityKey,
  mailboxAddress,
  signRelayChallenge,
  verifyRelayChallenge,
  type IdentitySeedStore,
} from './identity.ts';
export {
  X25519KeyPair,
  MlKemKeyPair,
  generateSignedPreKey,
  generateOneTimePreKey,
  generatePqPreKey,
  signSignedPreKey,
  signPqPreKey,
  verifySignedPreKeySignature,
  verifyPqPreKeySignature,
  verifyFetchedBundle,
  verifyPublishedBundle,
  type SignedPreKey,
  type OneTimePreKey,
  type PqPreKey,
  type SignedPublicPreKey,
  type PublicOneTimePreKey,
  type PublishedBundle,
  type FetchedBundle,
  type VerifiedBundle,
} from './prekeys.ts';
export {
  PreKeyPool,
  createPreKeyPool,
  buildPublishedBundle,
  replenishPreKeys,
  addOneTimePreKeys,
  oneTimePreKeysNeeded,
  rotateSignedPreKeys,
  buildSignedPreKeyBundle,
  signedPreKeyRotationDue,
  findPreKeys,
  removeOneTimePreKeys,
  serializePreKeyPool,
  deserializePreKeyPool,
  isCurrentPreKeyPoolFormat,
  type PreKeyPoolData,
  type PreKeysToPublish,
  type PreKeysForMessage,
  type OneTimePreKeyCounts,
} from './prekey-pool.ts';
export { messageType, parseMessage, type ParsedMessage, type PreKeyMessage, type RatchetMessage } from './message-format.ts';
export { STATE_INTEGRITY_BYTES } from './state-integrity.ts';
export { SessionState, serializeSession, deserializeSession } from './session-state.ts';
export { initiateSession, acceptSession, acceptSessionFromPool, encrypt, decrypt, type InitialMessageInfo, type AcceptedSession } from './session.ts';
export { seal, unseal, sealedSender, SEALED_SENDER_OVERHEAD_BYTES } from './sealed-sender.ts';
export { safetyNumber, safetyNumberQrPayload, compareScannedSafetyNumber, type SafetyNumberOptions } from './safety-number.ts';
export { CryptoRuntime, cryptoRuntime, type CryptoDeps, type CryptoRuntimeOptions } from './crypto-runtime.ts';
