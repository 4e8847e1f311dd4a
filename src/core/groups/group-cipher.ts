/**
 * The group cipher (docs/PROTOCOL.md §17.2), stateless like the pairwise session cipher:
 * the caller loads a record, calls one of these, and commits the returned record with its
 * own rows in one transaction. On any error nothing is returned, so nothing changes.
 *
 *   groupEncrypt  our chain's next message key seals the plaintext once for every member;
 *                 the chain's signing key signs header and ciphertext.
 *   groupDecrypt  in this order, each failure its own error and before any key is derived
 *                 where it can be: the bytes parse (MalformedMessageError); the group id is
 *                 the one expected (MalformedMessageError); we hold the chain
 *                 (NoSenderKeyError); the signature verifies under the chain's signing key
 *                 (BadSignatureError); the iteration is not one already read
 *                 (DuplicateMessageError) nor more than MAX_SENDER_KEY_FORWARD_JUMP ahead
 *                 (SkipLimitExceededError); then AES-GCM (AuthenticationFailedError).
 *
 * Message keys: HKDF-SHA-256(salt = 32 zero bytes, ikm = the chain's message key,
 * info = "Petrel_SenderKey_MessageKeys") → AES-256 key ‖ 12-byte nonce, each used once.
 */
import { bytesEqual } from '../bytes.ts';
import type { CryptoRuntime } from '../crypto/crypto-runtime.ts';
import { verifyEd25519StrictAsync } from '../crypto/ed25519-verify.ts';
import { BadSignatureError, DuplicateMessageError, MalformedMessageError, NoSenderKeyError, PlaintextTooLargeError, SkipLimitExceededError } from '../crypto/errors.ts';
import { hkdfSha256WithFixedSalt } from '../crypto/kdf.ts';
import { AES_GCM_NONCE_BYTES, KEY_BYTES, MAX_PLAINTEXT_BYTES } from '../crypto/limits.ts';
import type { SecretBytes } from '../crypto/redacted.ts';
import { MAX_SENDER_KEY_FORWARD_JUMP, SENDER_KEY_MESSAGE_KEYS_INFO_BYTES } from './limits.ts';
import { encodeSenderKeyHeader, encodeSenderKeyMessage, parseSenderKeyMessage, signedPart } from './sender-key-message.ts';
import { findChain, withState, type SenderKeyRecord } from './sender-key-record.ts';
import { messageKeyAt, nextMessageKey, takeSkippedKey, type SenderKeyState } from './sender-key-state.ts';

const expand = hkdfSha256WithFixedSalt(new Uint8Array(KEY_BYTES), SENDER_KEY_MESSAGE_KEYS_INFO_BYTES, KEY_BYTES + AES_GCM_NONCE_BYTES);

function keyAndNonce(messageKey: SecretBytes): { key: Uint8Array; nonce: Uint8Array } {
  const out = expand(messageKey.expose());
  return { key: out.subarray(0, KEY_BYTES), nonce: out.subarray(KEY_BYTES) };
}

/** Encrypts `plaintext` for the group with our chain `state` (which must hold its signing seed). */
export async function groupEncrypt(state: SenderKeyState, groupId: Uint8Array, plaintext: Uint8Array, rt: CryptoRuntime): Promise<{ state: SenderKeyState; message: Uint8Array }> {
  if (!state.signingSeed) throw new NoSenderKeyError('this chain is not ours: no signing key');
  if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new PlaintextTooLargeError(`group plaintext over ${MAX_PLAINTEXT_BYTES} bytes`);
  const step = nextMessageKey(state);
  const header = encodeSenderKeyHeader(groupId, state.chainId, step.iteration);
  const { key, nonce } = keyAndNonce(step.messageKey);
  const ciphertext = await rt.aesGcmEncrypt(key, nonce, plaintext, header);
  // Native Ed25519 where the platform has it (ed25519-sign.ts): the same bytes, ~30× faster.
  const signature = await rt.ed25519.sign(state.signingSeed.expose(), state.signingPublic, signedPart(header, ciphertext));
  return { state: step.state, message: encodeSenderKeyMessage(header, ciphertext, signature) };
}

export interface GroupDecrypted {
  readonly record: SenderKeyRecord;
  readonly plaintext: Uint8Array;
  readonly chainId: number;
  readonly iteration: number;
}

/** Decrypts a group message from the sender whose record this is (order of checks in the file comment). */
export async function groupDecrypt(record: SenderKeyRecord, expectedGroupId: Uint8Array, bytes: Uint8Array, rt: CryptoRuntime): Promise<GroupDecrypted> {
  const m = parseSenderKeyMessage(bytes);
  if (!bytesEqual(m.groupId, expectedGroupId)) throw new MalformedMessageError('group message for another group');
  const chain = findChain(record, m.chainId);
  if (!chain) throw new NoSenderKeyError(`no sender key for chain ${m.chainId}`);
  if (!(await verifyEd25519StrictAsync(chain.signingPublic, signedPart(m.header, m.ciphertext), m.signature))) throw new BadSignatureError('group message signature does not verify');

  let found: { messageKey: SecretBytes; state: SenderKeyState };
  if (m.iteration < chain.iteration) {
    const taken = takeSkippedKey(chain, m.iteration);
    if (!taken) throw new DuplicateMessageError(`group message ${m.iteration} of chain ${m.chainId} already read (or its key dropped)`);
    found = taken;
  } else {
    if (m.iteration - chain.iteration > MAX_SENDER_KEY_FORWARD_JUMP) throw new SkipLimitExceededError(`group message ${m.iteration - chain.iteration} ahead of the chain`);
    found = messageKeyAt(chain, m.iteration);
  }
  const { key, nonce } = keyAndNonce(found.messageKey);
  const plaintext = await rt.aesGcmDecrypt(key, nonce, m.ciphertext, m.header);
  return { record: withState(record, found.state), plaintext, chainId: m.chainId, iteration: m.iteration };
}
