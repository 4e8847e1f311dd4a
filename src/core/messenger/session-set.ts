/**
 * The ratchet sessions kept for one contact: the current one first, then up to
 * MAX_PREVIOUS_SESSIONS older ones.
 *
 * Why more than one: when both people start a session at the same moment, each side
 * accepts the other's initial message and ends up with two sessions. Messages already
 * encrypted under the replaced session must still decrypt, so the replaced session is
 * kept; whichever session decrypts an incoming message becomes current, which makes the
 * two sides converge on one session after a single round trip (Signal keeps archived
 * session states for the same reason).
 *
 * Encoding (stored as the session row's opaque state):
 *   0x53 ‖ count (1 byte, 1..1+MAX_PREVIOUS_SESSIONS) ‖ (len (uint32 BE) ‖ session bytes)*
 */
import { deserializeSession, serializeSession, type SessionState } from '../crypto/index.ts';
import { MalformedSessionSetError } from './errors.ts';

export const MAX_PREVIOUS_SESSIONS = 2;
const MAGIC = 0x53;

export type SessionSet = readonly SessionState[];

export function encodeSessionSet(set: SessionSet): Uint8Array {
  const parts = set.slice(0, 1 + MAX_PREVIOUS_SESSIONS).map(serializeSession);
  const out = new Uint8Array(2 + parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  out[0] = MAGIC;
  out[1] = parts.length;
  let o = 2;
  for (const p of parts) {
    view.setUint32(o, p.length);
    out.set(p, o + 4);
    o += 4 + p.length;
  }
  return out;
}

export function decodeSessionSet(bytes: Uint8Array): SessionState[] {
  if (bytes.length < 2 || bytes[0] !== MAGIC) throw new MalformedSessionSetError('not a session set');
  const count = bytes[1]!;
  if (count < 1 || count > 1 + MAX_PREVIOUS_SESSIONS) throw new MalformedSessionSetError('bad session count');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: SessionState[] = [];
  let o = 2;
  for (let i = 0; i < count; i++) {
    if (o + 4 > bytes.length) throw new MalformedSessionSetError('truncated');
    const len = view.getUint32(o);
    if (o + 4 + len > bytes.length) throw new MalformedSessionSetError('truncated');
    out.push(deserializeSession(bytes.subarray(o + 4, o + 4 + len)));
    o += 4 + len;
  }
  if (o !== bytes.length) throw new MalformedSessionSetError('trailing bytes');
  return out;
}

/** `session` becomes current; the others follow, most recent first, within the limit. */
export function promote(set: SessionSet, session: SessionState, replacing?: SessionState): SessionState[] {
  return [session, ...set.filter((s) => s !== replacing && s !== session)].slice(0, 1 + MAX_PREVIOUS_SESSIONS);
}
