/**
 * Contacts by id and by current identity key, cached in memory (a person has tens or
 * hundreds of contacts, and every incoming envelope needs the lookup by key).
 */
import { toHex } from '../bytes.ts';
import type { ContactRecord, PetrelStore } from '../store/index.ts';

/**
 * Our own account as a contact record: the "contact" our other devices are (a copy to
 * them, a session start with them, a retry request from or to them). Never stored.
 */
export function ownAccountContact(identityKey: Uint8Array): ContactRecord {
  return { id: toHex(identityKey), displayName: '', identityKey, verification: 'verified', addedAt: 0 };
}

export class ContactDirectory {
  private readonly byIdMap = new Map<string, ContactRecord>();
  private readonly byKeyMap = new Map<string, ContactRecord>();

  static async load(store: PetrelStore): Promise<ContactDirectory> {
    const d = new ContactDirectory();
    for (const c of await store.listContacts()) d.remember(c);
    return d;
  }

  byId(id: string): ContactRecord | undefined {
    return this.byIdMap.get(id);
  }

  byKey(identityKey: Uint8Array): ContactRecord | undefined {
    return this.byKeyMap.get(toHex(identityKey));
  }

  all(): ContactRecord[] {
    return [...this.byIdMap.values()];
  }

  /** Call after the record was committed. */
  remember(contact: ContactRecord): void {
    const previous = this.byIdMap.get(contact.id);
    if (previous) this.byKeyMap.delete(toHex(previous.identityKey));
    this.byIdMap.set(contact.id, contact);
    this.byKeyMap.set(toHex(contact.identityKey), contact);
  }
}
