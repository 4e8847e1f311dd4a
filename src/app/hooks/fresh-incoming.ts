/**
 * Contacts with a newer incoming message than the last state showed: what the live-region
 * announcement and the hidden-tab notifications both react to. Conversations already
 * there when the subscription starts are not fresh.
 */
import type { ContactView, MessengerApi } from '../../core/messenger/messenger-api.ts';

/** The time of each contact's last incoming message. */
function lastIncoming(contacts: readonly ContactView[]): Map<string, number> {
  const at = new Map<string, number>();
  for (const c of contacts) if (c.lastMessage?.direction === 'in') at.set(c.id, c.lastMessage.at);
  return at;
}

/** Calls `onFresh` with the contacts that have a newer incoming message, on every state change that brings one; returns the unsubscribe. */
export function subscribeFreshIncoming(messenger: Pick<MessengerApi, 'getState' | 'subscribe'>, onFresh: (fresh: readonly ContactView[]) => void): () => void {
  let seenContacts = messenger.getState().contacts;
  let seen = lastIncoming(seenContacts);
  return messenger.subscribe(() => {
    const contacts = messenger.getState().contacts;
    if (contacts === seenContacts) return;
    const now = lastIncoming(contacts);
    const fresh = contacts.filter((c) => (now.get(c.id) ?? 0) > (seen.get(c.id) ?? 0));
    seenContacts = contacts;
    seen = now;
    if (fresh.length > 0) onFresh(fresh);
  });
}
