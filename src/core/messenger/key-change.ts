/**
 * The rules for a contact whose identity key is not the one we trusted before.
 *
 * Contacts are keyed by identity key. A different key is never merged into an existing
 * contact silently; it is flagged, and sending is blocked until the user acknowledges:
 * - A new invite for the name of an existing contact with another key (`keyChange`): the
 *   contact moves to the new key (`commitKeyChange`: its session is deleted and unsent
 *   messages wait, unencrypted, for the acknowledgement).
 * - An unknown sender whose profile claims the name of an existing contact with another
 *   key (`possibleKeyChangeOf`): it stays its own contact, flagged as claiming to be the
 *   other one ("claims to be Bob, with a different key: verify before trusting").
 */
import { compareContactIdentity } from '../crypto/index.ts';
import type { ContactRecord } from '../store/index.ts';

/** Names compared as a person reads them: compatibility-normalised, trimmed, case-folded. */
export function sameName(a: string, b: string): boolean {
  const norm = (s: string) => s.normalize('NFKC').trim().toLocaleLowerCase();
  return norm(a) === norm(b);
}

/** True while a key change or a claimed name of this contact waits for the user's acknowledgement. */
export function sendBlocked(c: ContactRecord): boolean {
  return (!!c.keyChange && !c.keyChange.acknowledged) || (!!c.possibleKeyChangeOf && !c.possibleKeyChangeOf.acknowledged);
}

/** The existing contact named `name` whose trusted key is not `key`, if any. */
export function claimedContact(contacts: Iterable<ContactRecord>, name: string, key: Uint8Array): ContactRecord | undefined {
  for (const c of contacts) {
    if (sameName(c.displayName, name) && compareContactIdentity(c.identityKey, key) === 'changed') return c;
  }
  return undefined;
}

/** `known` moved to `newKey` (its id stays), unverified, with the change waiting for acknowledgement. */
export function withChangedKey(known: ContactRecord, newKey: Uint8Array, displayName: string, now: number): ContactRecord {
  return {
    ...known,
    displayName,
    identityKey: newKey.slice(),
    verification: 'unverified',
    keyChange: { previousIdentityKey: known.identityKey, detectedAt: now, acknowledged: false },
  };
}
