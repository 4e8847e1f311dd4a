import type { ContactView } from '../../core/messenger/messenger-api.ts';

/** What the app calls a contact that has not told us its name yet. */
export const UNNAMED_CONTACT = 'Unknown contact';

/** The name shown for a contact: its display name, or our words for one without a name. */
export function contactName(c: Pick<ContactView, 'displayName' | 'unnamed'>): string {
  return c.unnamed ? UNNAMED_CONTACT : c.displayName;
}
