/**
 * The stateless session cipher the messenger calls: values in, values out, no I/O, inputs
 * never modified. The caller loads state bytes, calls one of these, and commits the new
 * state bytes together with its own records in one storage transaction.
 */
import { bytesEqual } from '../bytes.ts';
import { secureRandom } from '../random.ts';
import { cryptoRuntime, type CryptoDeps } from './crypto-runtime.ts';
import { ratchetDecrypt, ratchetEncrypt, initRatchetAsInitiator, initRatchetAsResponder } from './double-ratchet.ts';
import { MalformedMessageError, PlaintextTooLargeError, SessionMismatchError, UnknownPreKeyError, WrongIdentityError } from './errors.ts';
import type { Identity } from './identity.ts';
import { identityX25519Public } from './identity.ts';
import { MAX_PLAINTEXT_BYTES } from './limits.ts';
import { encodePreKeyMessage, encodeRatchetMessage, parseMessage, type PreKeyMessage } from './message-format.ts';
import { findPreKeys, removeOneTimePreKeys, type PreKeyPool, type PreKeysForMessage } from './prekey-pool.ts';
import type { VerifiedBundle } from './prekeys.ts';
import { associatedData, pqxdhInitiate, responderSessionKey } from './pqxdh.ts';
import type { PendingPreKey, SessionState } from './session-state.ts';

/** What the initiator's first messages carry (also inside every prekey message it sends). */
export interface InitialMessageInfo {
  readonly senderIdentity: Uint8Array;
  readonly baseKey: Uint8Array;
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId?: number;
  readonly pqPreKeyId: number;
  readonly kemCipherText: Uint8Array;
}

/**
 * PQXDH initiator + RatchetInitAlice. The returned state sends prekey messages (carrying
 * `info`) until the responder's first reply is decrypted.
 */
export async function initiateSession(identity: Identity, bundle: VerifiedBundle, deps: CryptoDeps): Promise<{ state: SessionState; info: InitialMessageInfo }> {
  const rt = cryptoRuntime(deps);
  const agreement = await pqxdhInitiate(identity, bundle, rt);
  const pendingPreKey: PendingPreKey = {
    signedPreKeyId: bundle.spk.id,
    pqPreKeyId: bundle.pq.id,
    kemCipherText: agreement.kemCipherText,
    ...(bundle.opk ? { oneTimePreKeyId: bundle.opk.id } : {}),
  };
  const state = await initRatchetAsInitiator({ sk: agreement.sk, ad: agreement.ad, baseKey: agreement.baseKey, remoteSignedPreKey: bundle.spk.pub, pendingPreKey }, rt);
  return { state, info: { senderIdentity: identity.publicKey, baseKey: agreement.baseKey, ...pendingPreKey } };
}

/** Encrypts one message. (Randomness is drawn only by a state without a sending chain, which this module never returns.) */
export async function encrypt(state: SessionState, plaintext: Uint8Array, deps: CryptoDeps): Promise<{ state: SessionState; message: Uint8Array }> {
  if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new PlaintextTooLargeError(`plaintext over ${MAX_PLAINTEXT_BYTES} bytes`);
  const out = await ratchetEncrypt(state, plaintext, deps);
  const pending = state.data.pendingPreKey;
  const message = pending
    ? encodePreKeyMessage({ senderIdentity: state.localIdentity, baseKey: state.data.baseKey, ...pending, header: out.header, ciphertext: out.ciphertext })
    : encodeRatchetMessage(out.header, out.ciphertext);
  return { state: out.state, message };
}

/**
 * Decrypts a message of an existing session. A prekey message is accepted when it belongs
 * to this session (same sender and base key: the initiator repeats it until our reply);
 * one that starts a different session raises SessionMismatchError (use `acceptSession`).
 * On any error the given state is untouched and still valid. A message on a new remote
 * ratchet key draws one new key pair (the DH ratchet step).
 */
export async function decrypt(state: SessionState, message: Uint8Array, deps: CryptoDeps = secureRandom): Promise<{ state: SessionState; plaintext: Uint8Array }> {
  const parsed = parseMessage(message);
  if (parsed.type === 'prekey') {
    if (!bytesEqual(parsed.senderIdentity, state.remoteIdentity)) throw new WrongIdentityError('prekey message from another identity');
    if (!bytesEqual(parsed.baseKey, state.data.baseKey)) throw new SessionMismatchError('prekey message starts a new session');
  }
  return ratchetDecrypt(state, parsed.header, parsed.ciphertext, deps);
}

export interface AcceptedSession {
  readonly state: SessionState;
  readonly plaintext: Uint8Array;
  /** IK_A: compare with the known contact identity (`compareContactIdentity`). */
  readonly senderIdentity: Uint8Array;
  /** One-time prekeys this message consumed: delete their private keys with the commit. */
  readonly usedOneTimePreKeys: { readonly oneTimePreKeyId?: number; readonly pqOneTimePreKeyId?: number };
}

/**
 * PQXDH responder (§3.4) + RatchetInitBob + the first RatchetDecrypt, given the private
 * prekeys the message names (learn them with `parseMessage`). With `expectedSender` (e.g.
 * the sealed-sender identity) a different IK_A raises WrongIdentityError.
 */
export async function acceptSession(
  identity: Identity,
  prekeys: PreKeysForMessage,
  message: Uint8Array | PreKeyMessage,
  opts: { expectedSender?: Uint8Array; random?: CryptoDeps } = {},
): Promise<AcceptedSession> {
  const rt = cryptoRuntime(opts.random ?? secureRandom);
  const m = message instanceof Uint8Array ? parseMessage(message) : message;
  if (m.type !== 'prekey') throw new MalformedMessageError('not a prekey message');
  if (opts.expectedSender && !bytesEqual(opts.expectedSender, m.senderIdentity)) throw new WrongIdentityError('prekey message identity differs from the sender');
  if (prekeys.signedPreKey.id !== m.signedPreKeyId) throw new UnknownPreKeyError('spk', m.signedPreKeyId);
  if (prekeys.pqPreKey.id !== m.pqPreKeyId) throw new UnknownPreKeyError('pq', m.pqPreKeyId);
  if (m.oneTimePreKeyId !== undefined && prekeys.oneTimePreKey?.id !== m.oneTimePreKeyId) throw new UnknownPreKeyError('opk', m.oneTimePreKeyId);
  const senderX25519 = identityX25519Public(m.senderIdentity); // InvalidKeyError for a non-point, before any work.

  const kemSharedSecret = await prekeys.pqPreKey.keyPair.decapsulate(m.kemCipherText);
  const sk = await responderSessionKey({
    identity,
    signedPreKey: prekeys.signedPreKey.keyPair.dhPrivate(),
    ...(m.oneTimePreKeyId !== undefined && prekeys.oneTimePreKey ? { oneTimePreKey: prekeys.oneTimePreKey.keyPair.dhPrivate() } : {}),
    remoteIdentity: m.senderIdentity,
    remoteIdentityX25519: senderX25519,
    remoteBaseKey: m.baseKey,
    kemSharedSecret,
  }, rt);
  const senderIdentity = m.senderIdentity.slice();
  const initial = initRatchetAsResponder({
    sk,
    ad: associatedData(senderIdentity, identity.publicKey),
    baseKey: m.baseKey.slice(),
    signedPreKey: prekeys.signedPreKey.keyPair.dhPrivate(),
  });
  const { state, plaintext } = await ratchetDecrypt(initial, m.header, m.ciphertext, rt);
  const usedOneTimePreKeys = {
    ...(m.oneTimePreKeyId !== undefined ? { oneTimePreKeyId: m.oneTimePreKeyId } : {}),
    ...(prekeys.pqPreKey.lastResort ? {} : { pqOneTimePreKeyId: m.pqPreKeyId }),
  };
  return { state, plaintext, senderIdentity, usedOneTimePreKeys };
}

/** `acceptSession` with the keys looked up in our pool; also returns the pool without the used one-time keys. */
export async function acceptSessionFromPool(
  identity: Identity,
  pool: PreKeyPool,
  message: Uint8Array,
  opts: { expectedSender?: Uint8Array; random?: CryptoDeps } = {},
): Promise<AcceptedSession & { pool: PreKeyPool }> {
  const m = parseMessage(message);
  if (m.type !== 'prekey') throw new MalformedMessageError('not a prekey message');
  if (opts.expectedSender && !bytesEqual(opts.expectedSender, m.senderIdentity)) throw new WrongIdentityError('prekey message identity differs from the sender');
  const keys = findPreKeys(pool, m);
  const accepted = await acceptSession(identity, keys, m, opts);
  return { ...accepted, pool: removeOneTimePreKeys(pool, accepted.usedOneTimePreKeys) };
}
