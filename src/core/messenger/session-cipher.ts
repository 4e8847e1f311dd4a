/**
 * The per-contact session cipher, in the manner of libsignal's `session_cipher.rs`: every
 * message to or from a contact goes through here, over that contact's session set
 * (session-set.ts). Stateless: the caller loads the set, calls one of these, and commits
 * the returned set with its own rows in one transaction.
 *
 *   encryptFor  the current session encrypts, the advanced session stays current, the
 *               message is sealed to the contact (sealed-sender).
 *   decryptWith each session in turn (current first) tries the unsealed message; the one
 *               that opens it becomes current. A session start (prekey message) none of
 *               them opens starts a new session from our prekey pool — unless its base
 *               key was accepted from this contact before: that is a replay of an old
 *               first message (ReplayedSessionStartError), and it never replaces a
 *               working session (PROTOCOL.md §4.2).
 */
import {
  acceptSession,
  decrypt,
  DuplicateMessageError,
  encrypt,
  findPreKeys,
  messageType,
  parseMessage,
  removeOneTimePreKeys,
  seal,
  type CryptoRuntime,
  type Identity,
  type PreKeyPool,
} from '../crypto/index.ts';
import { NoSessionError, ReplayedSessionStartError } from './errors.ts';
import { promote, wasAccepted, withAcceptedSession, type SessionSet } from './session-set.ts';

export interface SessionCipherDeps {
  readonly identity: Identity;
  readonly crypto: CryptoRuntime;
  /** Our device routing: while our list names this device, its id is sealed into the box (§13.5). */
  readonly devices?: { readonly sealDevice?: Uint8Array };
}

/** Encrypts `content` with the contact's current session and seals it to `recipientIdentity`. NoSessionError for an empty set. */
export async function encryptFor(deps: SessionCipherDeps, set: SessionSet, recipientIdentity: Uint8Array, content: Uint8Array): Promise<{ set: SessionSet; envelope: Uint8Array }> {
  const current = set.sessions[0];
  if (!current) throw new NoSessionError('no session to encrypt with');
  const out = await encrypt(current, content, deps.crypto);
  const envelope = await seal(deps.identity, recipientIdentity, out.message, deps.crypto, deps.devices?.sealDevice);
  return { set: promote(set, out.state, current), envelope };
}

export interface Decrypted {
  readonly set: SessionSet;
  readonly plaintext: Uint8Array;
  /** The pool without the one-time prekeys a new session consumed (only when one started). */
  readonly pool?: PreKeyPool;
}

/**
 * Decrypts `inner` (unsealed, from `sender`) with the contact's sessions, or starts a new
 * session from `pool` when it is a session start none of them opens. Throws the typed error
 * of the last attempt (CryptoError kinds), NoSessionError, or ReplayedSessionStartError.
 */
export async function decryptWith(deps: SessionCipherDeps & { readonly pool: PreKeyPool }, set: SessionSet, sender: Uint8Array, inner: Uint8Array): Promise<Decrypted> {
  let lastError: unknown;
  for (const s of set.sessions) {
    try {
      const out = await decrypt(s, inner, deps.crypto);
      return { set: promote(set, out.state, s), plaintext: out.plaintext };
    } catch (err) {
      lastError = err;
      // A replay of a message one of our sessions already read: no other session may take it.
      if (err instanceof DuplicateMessageError) throw err;
    }
  }
  if (messageType(inner) !== 'prekey') throw lastError ?? new NoSessionError('no session with this contact');
  const parsed = parseMessage(inner);
  if (parsed.type !== 'prekey') throw new NoSessionError('no session with this contact');
  if (wasAccepted(set, parsed.baseKey)) throw new ReplayedSessionStartError('session start already accepted from this contact');
  const accepted = await acceptSession(deps.identity, findPreKeys(deps.pool, parsed), parsed, { expectedSender: sender, random: deps.crypto });
  return {
    set: withAcceptedSession(set, accepted.state, parsed.baseKey),
    plaintext: accepted.plaintext,
    pool: removeOneTimePreKeys(deps.pool, accepted.usedOneTimePreKeys),
  };
}
