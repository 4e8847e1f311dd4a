/**
 * The rules for a contact whose identity key is not the one we trusted before.
 *
 * Contacts are keyed by identity key, and a contact's key never changes: a different key
 * under a known name is a different person until the user says otherwise. Whether it comes
 * from an invite or from an unknown sender whose profile claims the name, it becomes a
 * contact of its own, flagged `possibleKeyChangeOf` the existing one ("claims to be Bob,
 * with a different key: verify before trusting"), and sending to it is blocked until the
 * user acknowledges. The existing contact, its session and its conversation are untouched.
 *
 * Rows written by earlier versions may still carry `keyChange` (an invite used to move the
 * contact to the new key); it blocks sending the same way until acknowledged.
 */
import { compareContactIdentity } from '../crypto/index.ts';
import type { ContactRecord } from '../store/index.ts';

import { sameName } from './same-name.ts';

export { sameName };

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

