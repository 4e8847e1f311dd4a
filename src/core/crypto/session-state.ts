/**
 * Double Ratchet session state (Double Ratchet §3.2 state variables) as an immutable
 * value, and its compact binary form for storage. Operations never modify a state; they
 * return a new one that shares unchanged parts with the old. Every secret in it (RK, the
 * chain keys, DHs's private key, skipped message keys) is a SecretBytes, so printing a
 * state or its data shows labels, never key bytes.
 */
import { ByteReader, ByteWriter } from './binary.ts';
import { MalformedStateError } from './errors.ts';
import { FINISHED_CHAIN_RECORD_BYTES, FinishedChains } from './finished-chains.ts';
import { checkedBody, withIntegrity } from './state-integrity.ts';
import { KEY_BYTES, MAX_FINISHED_RECEIVING_CHAINS, MAX_STORED_SKIPPED_KEYS, ML_KEM_768_CIPHERTEXT_BYTES } from './limits.ts';
import { Redacted, SecretBytes } from './redacted.ts';
import { dhKeyPair, type DhPrivate } from './x25519.ts';

export interface ChainState {
  readonly chainKey: SecretBytes;
  /** Next message number in this chain (Ns / Nr). */
  readonly n: number;
}

/** MKSKIPPED entry: a message key kept for a message that has not arrived yet. */
export interface SkippedKey {
  readonly dh: Uint8Array;
  readonly n: number;
  readonly messageKey: SecretBytes;
}

/** What the initiator repeats in every message until the responder's first reply arrives. */
export interface PendingPreKey {
  readonly signedPreKeyId: number;
  readonly oneTimePreKeyId?: number;
  readonly pqPreKeyId: number;
  readonly kemCipherText: Uint8Array;
}

export interface SessionData {
  /** True for the side that ran the PQXDH initiator (Alice). */
  readonly initiator: boolean;
  /** AD = IK_A_pub ‖ IK_B_pub (64 bytes). */
  readonly ad: Uint8Array;
  /** The initiator's ephemeral public key EK_A: names the session in prekey messages. */
  readonly baseKey: Uint8Array;
  /** RK. */
  readonly rootKey: SecretBytes;
  /** DHs (the responder's starts as its SPK until the first message arrives). */
  readonly sendingRatchet?: DhPrivate;
  /** CKs and Ns; absent only in the responder's transient state before its first decrypt. */
  readonly sendingChain?: ChainState;
  /** PN. */
  readonly previousSendingCount: number;
  /** DHr. */
  readonly remoteRatchetKey?: Uint8Array;
  /** CKr and Nr. */
  readonly receivingChain?: ChainState;
  /** The last finished receiving chains (remote ratchet key and length), for replay detection. */
  readonly finishedChains: FinishedChains;
  /** MKSKIPPED, oldest first. */
  readonly skipped: readonly SkippedKey[];
  readonly pendingPreKey?: PendingPreKey;
}

export class SessionState extends Redacted {
  protected readonly redactedLabel = 'SessionState';
  readonly #data: SessionData;

  constructor(data: SessionData) {
    super();
    this.#data = data;
  }

  /** @internal The state variables for the ratchet functions (secrets inside print redacted). */
  get data(): SessionData {
    return this.#data;
  }

  get localIdentity(): Uint8Array {
    return this.#data.initiator ? this.#data.ad.subarray(0, KEY_BYTES) : this.#data.ad.subarray(KEY_BYTES);
  }

  get remoteIdentity(): Uint8Array {
    return this.#data.initiator ? this.#data.ad.subarray(KEY_BYTES) : this.#data.ad.subarray(0, KEY_BYTES);
  }

  /** True until the initiator has received the responder's first message. */
  get awaitingFirstReply(): boolean {
    return this.#data.pendingPreKey !== undefined;
  }
}

// ---- Serialisation ---------------------------------------------------------------------
//
// version u8 (=2) ‖ flags u8 ‖ ad 64 ‖ baseKey 32 ‖ rootKey 32 ‖ PN u32
// [flags&1] DHs private 32 ‖ DHs public 32
// [flags&64] CKs 32 ‖ Ns u32
// [flags&2] DHr 32
// [flags&4] CKr 32 ‖ Nr u32
// [flags&8] spkId u32 ‖ pqId u32 ‖ kemCt 1088 ‖ [flags&16] opkId u32
// flags&32: initiator
// count u8 ‖ finished chains (DHr 32 ‖ length u32) each     [version 1: DHr 32 each, no length]
// count u16 ‖ skipped (dh 32 ‖ n u32 ‖ mk 32) each
//
// Version 3 is version 2's layout (version byte 3) followed by a 16-byte integrity tag
// (state-integrity.ts): SHA-256("Petrel_Session_v3" ‖ everything before it)[0..16).
// Versions 1 (up to 5 finished chains, keys only; its chains get UNKNOWN_CHAIN_LENGTH) and
// 2 (no tag) are still read, so rows written before the tag existed load once and are
// rewritten as version 3. A version-3 state whose bytes changed is a CorruptStateError.

export const SESSION_FORMAT_VERSION = 3;
const SESSION_FORMAT_V1 = 1;
const SESSION_FORMAT_V2 = 2;
const SESSION_INTEGRITY_LABEL = 'Petrel_Session_v3';
const F_SENDING = 1;
const F_REMOTE = 2;
const F_RECEIVING = 4;
const F_PENDING = 8;
const F_PENDING_OPK = 16;
const F_INITIATOR = 32;
const F_SENDING_CHAIN = 64;

export function serializeSession(state: SessionState): Uint8Array {
  const d = state.data;
  let flags = d.initiator ? F_INITIATOR : 0;
  if (d.sendingRatchet) flags |= F_SENDING;
  if (d.sendingChain) flags |= F_SENDING_CHAIN;
  if (d.remoteRatchetKey) flags |= F_REMOTE;
  if (d.receivingChain) flags |= F_RECEIVING;
  if (d.pendingPreKey) flags |= F_PENDING | (d.pendingPreKey.oneTimePreKeyId !== undefined ? F_PENDING_OPK : 0);
  const size =
    2 + 64 + 32 + 32 + 4 + 100 + 36 + 32 + 36 + (d.pendingPreKey ? 12 + ML_KEM_768_CIPHERTEXT_BYTES : 0) + 3 + d.finishedChains.bytes.length + 68 * d.skipped.length;
  const w = new ByteWriter(size);
  w.u8(SESSION_FORMAT_VERSION).u8(flags).bytes(d.ad).bytes(d.baseKey).bytes(d.rootKey.expose()).u32(d.previousSendingCount);
  if (d.sendingRatchet) w.bytes(d.sendingRatchet.privateKey.expose()).bytes(d.sendingRatchet.publicKey);
  if (d.sendingChain) w.bytes(d.sendingChain.chainKey.expose()).u32(d.sendingChain.n);
  if (flags & F_REMOTE) w.bytes(d.remoteRatchetKey!);
  if (flags & F_RECEIVING) w.bytes(d.receivingChain!.chainKey.expose()).u32(d.receivingChain!.n);
  if (d.pendingPreKey) {
    w.u32(d.pendingPreKey.signedPreKeyId).u32(d.pendingPreKey.pqPreKeyId).bytes(d.pendingPreKey.kemCipherText);
    if (d.pendingPreKey.oneTimePreKeyId !== undefined) w.u32(d.pendingPreKey.oneTimePreKeyId);
  }
  w.u8(d.finishedChains.count).bytes(d.finishedChains.bytes);
  w.u16(d.skipped.length);
  for (const s of d.skipped) w.bytes(s.dh).u32(s.n).bytes(s.messageKey.expose());
  return withIntegrity(SESSION_INTEGRITY_LABEL, w.finish());
}

/** Parses serialised state; MalformedStateError for anything else. Never keeps a reference to `bytes`. */
export function deserializeSession(bytes: Uint8Array): SessionState {
  if (!(bytes instanceof Uint8Array)) throw new MalformedStateError('session state must be bytes');
  if (bytes.length < 1) throw new MalformedStateError('empty session state');
  const version = bytes[0]!;
  if (version !== SESSION_FORMAT_VERSION && version !== SESSION_FORMAT_V2 && version !== SESSION_FORMAT_V1) throw new MalformedStateError('unknown session state format');
  const r = new ByteReader(version === SESSION_FORMAT_VERSION ? checkedBody(SESSION_INTEGRITY_LABEL, bytes).slice() : bytes.slice());
  r.u8();
  const flags = r.u8();
  if (flags > 127 || (flags & F_PENDING_OPK && !(flags & F_PENDING))) throw new MalformedStateError('bad flags');
  const ad = r.bytes(64);
  const baseKey = r.bytes(KEY_BYTES);
  const rootKey = new SecretBytes(r.bytes(KEY_BYTES));
  const previousSendingCount = r.u32();
  let sendingRatchet: DhPrivate | undefined;
  let sendingChain: ChainState | undefined;
  if (flags & F_SENDING) sendingRatchet = dhKeyPair(r.bytes(KEY_BYTES), r.bytes(KEY_BYTES));
  if (flags & F_SENDING_CHAIN) sendingChain = { chainKey: new SecretBytes(r.bytes(KEY_BYTES)), n: r.u32() };
  if (sendingChain && !sendingRatchet) throw new MalformedStateError('sending chain without ratchet key');
  const remoteRatchetKey = flags & F_REMOTE ? r.bytes(KEY_BYTES) : undefined;
  const receivingChain = flags & F_RECEIVING ? { chainKey: new SecretBytes(r.bytes(KEY_BYTES)), n: r.u32() } : undefined;
  if (!sendingRatchet && !remoteRatchetKey) throw new MalformedStateError('session can neither send nor ratchet');
  let pendingPreKey: PendingPreKey | undefined;
  if (flags & F_PENDING) {
    const signedPreKeyId = r.u32();
    const pqPreKeyId = r.u32();
    const kemCipherText = r.bytes(ML_KEM_768_CIPHERTEXT_BYTES);
    pendingPreKey = flags & F_PENDING_OPK ? { signedPreKeyId, pqPreKeyId, kemCipherText, oneTimePreKeyId: r.u32() } : { signedPreKeyId, pqPreKeyId, kemCipherText };
  }
  const nFinished = r.u8();
  if (nFinished > MAX_FINISHED_RECEIVING_CHAINS) throw new MalformedStateError('too many finished chains');
  const finishedChains =
    version === SESSION_FORMAT_V1
      ? FinishedChains.fromKeysOfUnknownLength(Array.from({ length: nFinished }, () => r.bytes(KEY_BYTES)))
      : FinishedChains.fromBytes(r.bytes(nFinished * FINISHED_CHAIN_RECORD_BYTES));
  const nSkipped = r.u16();
  if (nSkipped > MAX_STORED_SKIPPED_KEYS) throw new MalformedStateError('too many skipped keys');
  const skipped: SkippedKey[] = new Array<SkippedKey>(nSkipped);
  for (let i = 0; i < nSkipped; i++) skipped[i] = { dh: r.bytes(KEY_BYTES), n: r.u32(), messageKey: new SecretBytes(r.bytes(KEY_BYTES)) };
  r.end();
  return new SessionState({
    initiator: (flags & F_INITIATOR) !== 0,
    ad,
    baseKey,
    rootKey,
    previousSendingCount,
    finishedChains,
    skipped,
    ...(sendingRatchet ? { sendingRatchet } : {}),
    ...(sendingChain ? { sendingChain } : {}),
    ...(remoteRatchetKey ? { remoteRatchetKey } : {}),
    ...(receivingChain ? { receivingChain } : {}),
    ...(pendingPreKey ? { pendingPreKey } : {}),
  });
}
