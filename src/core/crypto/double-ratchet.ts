/**
 * The Double Ratchet (Signal spec revision 4, §3) over immutable SessionState values.
 * `ratchetEncrypt`/`ratchetDecrypt` never modify their input; decryption works on a draft
 * and returns it only after AES-GCM authenticated the message, so any failure leaves the
 * caller's state exactly as it was (all-or-nothing).
 *
 * The DH ratchet step (§3.5 DHRatchet) runs both halves when a new remote ratchet key
 * arrives, as the spec does: the receiving half DH(DHs, DHr) and the sending half's
 * GENERATE_DH() + DH(DHs', DHr) are independent, so they run concurrently (two WebCrypto
 * jobs in flight); only the two KDF_RK steps are sequential. Decryption therefore draws
 * randomness (one 32-byte key) on a ratchet step.
 */
import { bytesEqual } from '../bytes.ts';
import { kdfChainKey } from './chain-key.ts';
import { cryptoRuntime, type CryptoDeps } from './crypto-runtime.ts';
import { DuplicateMessageError, InvalidHeaderError, InvalidKeyError, MalformedHeaderError, MalformedStateError, SkipLimitExceededError } from './errors.ts';
import { FinishedChains } from './finished-chains.ts';
import { decodeHeader, encodeHeader } from './header.ts';
import { MAX_SKIP, MAX_STORED_SKIPPED_KEYS } from './limits.ts';
import { decryptWithMessageKey, encryptWithMessageKey } from './message-keys.ts';
import type { SecretBytes } from './redacted.ts';
import { kdfRootKey } from './root-key.ts';
import { SessionState, type ChainState, type PendingPreKey, type SessionData, type SkippedKey } from './session-state.ts';
import type { DhPrivate } from './x25519.ts';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * RatchetInitAlice (§3.3): DHs = GENERATE_DH(); DHr = bob_dh_public_key;
 * RK, CKs = KDF_RK(SK, DH(DHs, DHr)); CKr = None.
 */
export async function initRatchetAsInitiator(
  params: { sk: SecretBytes; ad: Uint8Array; baseKey: Uint8Array; remoteSignedPreKey: Uint8Array; pendingPreKey?: PendingPreKey },
  deps: CryptoDeps,
): Promise<SessionState> {
  const rt = cryptoRuntime(deps);
  const sendingRatchet = await rt.generateDhKeyPair();
  const { rootKey, chainKey } = kdfRootKey(params.sk, await rt.dh(sendingRatchet, params.remoteSignedPreKey));
  return new SessionState({
    initiator: true,
    ad: params.ad,
    baseKey: params.baseKey,
    rootKey,
    sendingRatchet,
    sendingChain: { chainKey, n: 0 },
    previousSendingCount: 0,
    remoteRatchetKey: params.remoteSignedPreKey,
    finishedChains: FinishedChains.none,
    skipped: [],
    ...(params.pendingPreKey ? { pendingPreKey: params.pendingPreKey } : {}),
  });
}

/** RatchetInitBob (§3.3): DHs = bob_dh_key_pair (the SPK); DHr = None; RK = SK; CKs = CKr = None. */
export function initRatchetAsResponder(params: { sk: SecretBytes; ad: Uint8Array; baseKey: Uint8Array; signedPreKey: DhPrivate }): SessionState {
  return new SessionState({
    initiator: false,
    ad: params.ad,
    baseKey: params.baseKey,
    rootKey: params.sk,
    sendingRatchet: params.signedPreKey,
    previousSendingCount: 0,
    finishedChains: FinishedChains.none,
    skipped: [],
  });
}

/**
 * RatchetEncrypt (§3.4). A sending chain always exists after the first decrypt; the
 * fallback step below only serves a state that has none (never produced by this module).
 */
export async function ratchetEncrypt(state: SessionState, plaintext: Uint8Array, deps: CryptoDeps): Promise<{ state: SessionState; header: Uint8Array; ciphertext: Uint8Array }> {
  const rt = cryptoRuntime(deps);
  let d: SessionData = state.data;
  let sendingRatchet = d.sendingRatchet;
  let sendingChain = d.sendingChain;
  let rootKey = d.rootKey;
  if (!sendingRatchet || !sendingChain) {
    // DHRatchet (§3.5), sending half: DHs = GENERATE_DH(); RK, CKs = KDF_RK(RK, DH(DHs, DHr)).
    if (!d.remoteRatchetKey) throw new MalformedStateError('session has no remote ratchet key to send to');
    sendingRatchet = await rt.generateDhKeyPair();
    const next = kdfRootKey(rootKey, await rt.dh(sendingRatchet, d.remoteRatchetKey));
    rootKey = next.rootKey;
    sendingChain = { chainKey: next.chainKey, n: 0 };
  }
  // state.CKs, mk = KDF_CK(state.CKs); header = HEADER(state.DHs, state.PN, state.Ns); state.Ns += 1
  const { messageKey, chainKey } = kdfChainKey(sendingChain.chainKey);
  const header = encodeHeader({ dh: sendingRatchet.publicKey, pn: d.previousSendingCount, n: sendingChain.n });
  // ENCRYPT(mk, plaintext, CONCAT(AD, header))
  const ciphertext = await encryptWithMessageKey(messageKey, plaintext, d.ad, header, rt);
  d = { ...d, rootKey, sendingRatchet, sendingChain: { chainKey, n: sendingChain.n + 1 } };
  return { state: new SessionState(d), header, ciphertext };
}

function findSkipped(skipped: readonly SkippedKey[], dh: Uint8Array, n: number): number {
  for (let i = skipped.length - 1; i >= 0; i--) {
    const s = skipped[i]!;
    if (s.n === n && bytesEqual(s.dh, dh)) return i;
  }
  return -1;
}

/**
 * SkipMessageKeys (§3.5): "if state.Nr + MAX_SKIP < until: raise Error"; otherwise store
 * the message keys of Nr … until-1 and return the advanced chain.
 */
function skipMessageKeys(chain: ChainState, dh: Uint8Array, until: number, out: SkippedKey[]): ChainState {
  if (until - chain.n > MAX_SKIP) throw new SkipLimitExceededError(`header skips ${until - chain.n} messages (max ${MAX_SKIP})`);
  let chainKey = chain.chainKey;
  for (let n = chain.n; n < until; n++) {
    const step = kdfChainKey(chainKey);
    out.push({ dh, n, messageKey: step.messageKey });
    chainKey = step.chainKey;
  }
  return { chainKey, n: Math.max(chain.n, until) };
}

/**
 * RatchetDecrypt (§3.5) on a draft; the result exists only if the message authenticated.
 * Every check on the header runs before any key is derived; errors.ts lists what each
 * failure means and docs/PROTOCOL.md §5.5 what it can and cannot say about tampering.
 */
export async function ratchetDecrypt(
  state: SessionState,
  headerBytes: Uint8Array,
  ciphertext: Uint8Array,
  deps: CryptoDeps,
): Promise<{ state: SessionState; plaintext: Uint8Array }> {
  const rt = cryptoRuntime(deps);
  const d = state.data;
  const header = decodeHeader(headerBytes); // MalformedHeaderError: wrong length, low-order ratchet key

  // TrySkippedMessageKeys: a stored key for (header.dh, header.n) opens a late message.
  const hit = findSkipped(d.skipped, header.dh, header.n);
  if (hit >= 0) {
    const plaintext = await decryptWithMessageKey(d.skipped[hit]!.messageKey, ciphertext, d.ad, headerBytes, rt);
    const skipped = d.skipped.slice(0, hit).concat(d.skipped.slice(hit + 1));
    return { state: new SessionState(withoutPending({ ...d, skipped })), plaintext };
  }

  const draft: Mutable<SessionData> = { ...d };
  const newSkipped: SkippedKey[] = [];
  const sameChain = d.remoteRatchetKey !== undefined && bytesEqual(header.dh, d.remoteRatchetKey);
  if (sameChain) {
    if (!d.receivingChain) throw new InvalidHeaderError('message on a chain the peer never sent on');
    if (header.n < d.receivingChain.n) throw new DuplicateMessageError('message key already used');
  } else {
    // A finished chain: every key below its length was used or is in MKSKIPPED (checked above).
    const finishedLength = d.finishedChains.lengthOf(header.dh);
    if (finishedLength !== undefined) {
      if (header.n < finishedLength) throw new DuplicateMessageError('message key of a finished chain already used');
      throw new InvalidHeaderError('message number past the announced end of a finished chain');
    }
    // A new remote ratchet key. The peer only makes one after reading our current one, so
    // none can come while our current sending chain (made at the last step) is unused.
    if (!d.sendingRatchet || (d.receivingChain && d.sendingChain?.n === 0)) throw new InvalidHeaderError('new ratchet key before we sent ours');
    if (header.n > MAX_SKIP) throw new SkipLimitExceededError(`header skips ${header.n} messages (max ${MAX_SKIP})`);
    if (d.receivingChain && d.remoteRatchetKey) {
      if (header.pn < d.receivingChain.n) throw new InvalidHeaderError('previous chain length below messages already received');
      // SkipMessageKeys(state, header.pn): finish the old chain.
      skipMessageKeys(d.receivingChain, d.remoteRatchetKey, header.pn, newSkipped);
      draft.finishedChains = d.finishedChains.add(d.remoteRatchetKey, header.pn);
    }
    // DHRatchet: the receiving DH and the next sending key's DH at once. Each promise
    // settles on its own, so a failure of one never becomes an unhandled rejection.
    const remote = header.dh.slice();
    const receivingDh = settle(rt.dh(d.sendingRatchet, remote));
    const nextSending = settle(rt.generateDhKeyPair().then(async (pair) => ({ pair, dh: await rt.dh(pair, remote) })));
    const [recv, send] = [await receivingDh, await nextSending];
    if (!recv.ok || !send.ok) {
      const e = !recv.ok ? recv.error : !send.ok ? send.error : undefined;
      // decodeHeader refuses every low-order key; this stays for a runtime whose X25519 refuses more.
      if (e instanceof InvalidKeyError) throw new MalformedHeaderError('ratchet key is not a usable X25519 key');
      throw e;
    }
    // PN = Ns; Ns = 0; Nr = 0; DHr = header.dh; RK, CKr = KDF_RK(RK, DH(DHs, DHr))
    const r1 = kdfRootKey(d.rootKey, recv.value);
    // DHs = GENERATE_DH(); RK, CKs = KDF_RK(RK, DH(DHs, DHr))
    const r2 = kdfRootKey(r1.rootKey, send.value.dh);
    draft.previousSendingCount = d.sendingChain?.n ?? 0;
    draft.remoteRatchetKey = remote;
    draft.rootKey = r2.rootKey;
    draft.receivingChain = { chainKey: r1.chainKey, n: 0 };
    draft.sendingRatchet = send.value.pair;
    draft.sendingChain = { chainKey: r2.chainKey, n: 0 };
  }
  // SkipMessageKeys(state, header.n); state.CKr, mk = KDF_CK(state.CKr); state.Nr += 1
  const chain = skipMessageKeys(draft.receivingChain!, draft.remoteRatchetKey!, header.n, newSkipped);
  const step = kdfChainKey(chain.chainKey);
  const plaintext = await decryptWithMessageKey(step.messageKey, ciphertext, d.ad, headerBytes, rt);
  draft.receivingChain = { chainKey: step.chainKey, n: chain.n + 1 };
  if (newSkipped.length > 0) {
    // Oldest evicted beyond MAX_STORED_SKIPPED_KEYS.
    draft.skipped = d.skipped.concat(newSkipped).slice(-MAX_STORED_SKIPPED_KEYS);
  }
  return { state: new SessionState(withoutPending(draft)), plaintext };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** Any authenticated message from the responder proves it has the session: stop sending prekey info. */
function withoutPending(d: SessionData): SessionData {
  if (!d.pendingPreKey) return d;
  const { pendingPreKey: _dropped, ...rest } = d;
  return rest;
}
