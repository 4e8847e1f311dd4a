import type { ContactView } from '../../core/messenger/messenger-api.ts';

/** What the app calls a contact that has not told us its name yet. */
export const UNNAMED_CONTACT = 'Unknown contact';

/**
 * The name shown for a contact: its display name (the user's local name when they gave
 * one), or our words for one without a name, with what tells it apart from another
 * contact of the same name ("Bob (ended)", "Bob (key 1a2b3c4d)").
 */
export function contactName(c: Pick<ContactView, 'displayName' | 'unnamed' | 'nameDetail'>): string {
  const name = c.unnamed ? UNNAMED_CONTACT : c.displayName;
  return c.nameDetail ? `${name} (${c.nameDetail})` : name;
}
