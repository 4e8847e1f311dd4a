/**
 * The ratchet sessions kept for one contact — the current one first, then up to
 * MAX_PREVIOUS_SESSIONS older ones — and the base keys of every session start we accepted
 * from this contact (the last MAX_ACCEPTED_BASE_KEYS).
 *
 * Why more than one session: when both people start a session at the same moment, each
 * side accepts the other's initial message and ends up with two sessions. Messages already
 * encrypted under the replaced session must still decrypt, so the replaced session is
 * kept; whichever session decrypts an incoming message becomes current, which makes the
 * two sides converge on one session after a single round trip (Signal keeps archived
 * session states for the same reason).
 *
 * Why the base keys: a session start (a prekey message) made without a one-time prekey can
 * be accepted again as long as its signed prekeys are kept. Anyone holding a copy (the
 * relay, an observer of a `ws:` link) could deposit it again once the session it started
 * had left the set or forgotten that chain, and it would replace the working session. A
 * base key in this list is never accepted again (PROTOCOL.md §4.2). The bound covers
 * every session start a contact can make within the life of our signed prekeys (two
 * rotations, 14 days) many times over; a replay older than that names a signed prekey we
 * no longer have.
 *
 * Encoding (the session row's opaque state), version 3:
 *   0x55 ‖ count (1 byte, 1..1+MAX_PREVIOUS_SESSIONS) ‖ (len (uint32 BE) ‖ session bytes)*
 *        ‖ baseKeyCount (1 byte, ≤ MAX_ACCEPTED_BASE_KEYS) ‖ base key (32 bytes)*
 *        ‖ integrity tag (16 bytes: SHA-256("Petrel_SessionSet_v3" ‖ everything before)[0..16))
 * A set whose bytes changed is a CorruptStateError (the crypto core's; state-integrity.ts)
 * and is never used. Version 2 (0x54, the same without the tag) and version 1 (0x53, no
 * base keys: its accepted base keys are those of the responder sessions it holds) are
 * still read; the core rewrites such rows as version 3 when it starts.
 */
import { bytesEqual } from '../bytes.ts';
import { checkedBody, withIntegrity } from '../crypto/state-integrity.ts';
import { deserializeSession, serializeSession, type SessionState } from '../crypto/index.ts';
import { MalformedSessionSetError } from './errors.ts';

export const MAX_PREVIOUS_SESSIONS = 2;
/** Base keys of accepted session starts remembered per contact (see the file comment). */
export const MAX_ACCEPTED_BASE_KEYS = 32;
const MAGIC_V1 = 0x53;
const MAGIC_V2 = 0x54;
const MAGIC_V3 = 0x55;
const INTEGRITY_LABEL = 'Petrel_SessionSet_v3';
const BASE_KEY_BYTES = 32;

export interface SessionSet {
  /** Current first; never empty in a stored set. */
  readonly sessions: readonly SessionState[];
  /** Base keys of the session starts accepted from this contact, oldest first. */
  readonly acceptedBaseKeys: readonly Uint8Array[];
}

export const EMPTY_SESSION_SET: SessionSet = { sessions: [], acceptedBaseKeys: [] };

/** A set holding one session (a session we started: no base key of theirs to remember). */
export function sessionSetOf(session: SessionState): SessionSet {
  return { sessions: [session], acceptedBaseKeys: [] };
}

export function encodeSessionSet(set: SessionSet): Uint8Array {
  const parts = set.sessions.slice(0, 1 + MAX_PREVIOUS_SESSIONS).map(serializeSession);
  const baseKeys = set.acceptedBaseKeys.slice(-MAX_ACCEPTED_BASE_KEYS);
  const out = new Uint8Array(2 + parts.reduce((n, p) => n + 4 + p.length, 0) + 1 + BASE_KEY_BYTES * baseKeys.length);
  const view = new DataView(out.buffer);
  out[0] = MAGIC_V3;
  out[1] = parts.length;
  let o = 2;
  for (const p of parts) {
    view.setUint32(o, p.length);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  out[o++] = baseKeys.length;
  for (const k of baseKeys) {
    out.set(k, o);
    o += BASE_KEY_BYTES;
  }
  return withIntegrity(INTEGRITY_LABEL, out);
}

/** Is this row in an older format the core should rewrite (version 1 or 2, no integrity tag)? */
export function isLegacySessionSet(bytes: Uint8Array): boolean {
  return bytes[0] === MAGIC_V1 || bytes[0] === MAGIC_V2;
}

export function decodeSessionSet(stored: Uint8Array): SessionSet {
  if (stored.length < 2 || (stored[0] !== MAGIC_V1 && stored[0] !== MAGIC_V2 && stored[0] !== MAGIC_V3)) throw new MalformedSessionSetError('not a session set');
  const bytes = stored[0] === MAGIC_V3 ? checkedBody(INTEGRITY_LABEL, stored) : stored;
  const count = bytes[1]!;
  if (count < 1 || count > 1 + MAX_PREVIOUS_SESSIONS) throw new MalformedSessionSetError('bad session count');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sessions: SessionState[] = [];
  let o = 2;
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) throw new MalformedSessionSetError('truncated');
    const len = view.getUint32(o);
    if (o + 4 + len > bytes.length) throw new MalformedSessionSetError('truncated');
    sessions.push(deserializeSession(bytes.subarray(o + 4, o + 4 + len)));
    o += 4 + len;
  }
  let acceptedBaseKeys: Uint8Array[];
  if (bytes[0] === MAGIC_V1) {
    acceptedBaseKeys = sessions.filter((s) => !s.data.initiator).map((s) => s.data.baseKey.slice());
  } else {
    if (o + 1 > bytes.length) throw new MalformedSessionSetError('truncated');
    const n = bytes[o++]!;
    if (n > MAX_ACCEPTED_BASE_KEYS) throw new MalformedSessionSetError('bad base key count');
    if (o + n * BASE_KEY_BYTES > bytes.length) throw new MalformedSessionSetError('truncated');
    acceptedBaseKeys = [];
    for (let i = 0; i < n; i++, o += BASE_KEY_BYTES) acceptedBaseKeys.push(bytes.slice(o, o + BASE_KEY_BYTES));
  }
  if (o !== bytes.length) throw new MalformedSessionSetError('trailing bytes');
  return { sessions, acceptedBaseKeys };
}

/** `session` becomes current; the others follow, most recent first, within the limit. */
export function promote(set: SessionSet, session: SessionState, replacing?: SessionState): SessionSet {
  const sessions = [session, ...set.sessions.filter((s) => s !== replacing && s !== session)].slice(0, 1 + MAX_PREVIOUS_SESSIONS);
  return { sessions, acceptedBaseKeys: set.acceptedBaseKeys };
}

/** Was a session start with this base key already accepted from the contact? */
export function wasAccepted(set: SessionSet, baseKey: Uint8Array): boolean {
  return set.acceptedBaseKeys.some((k) => bytesEqual(k, baseKey));
}

/** `session` (accepted from a session start with `baseKey`) becomes current, and its base key is remembered. */
export function withAcceptedSession(set: SessionSet, session: SessionState, baseKey: Uint8Array): SessionSet {
  const promoted = promote(set, session);
  return { sessions: promoted.sessions, acceptedBaseKeys: [...set.acceptedBaseKeys, baseKey.slice()].slice(-MAX_ACCEPTED_BASE_KEYS) };
}
