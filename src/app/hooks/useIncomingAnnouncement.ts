import { useEffect, useState } from 'react';
import type { ContactView } from '../../core/messenger/messenger-api.ts';
import { useMessenger } from '../messenger-context.tsx';
import { contactName } from '../views/contact-name.ts';

export interface Announcement {
  readonly text: string;
  /** Grows with every announcement, so a repeated text is a new node and is spoken again. */
  readonly seq: number;
}

/** The time of each contact's last incoming message. */
function lastIncoming(contacts: readonly ContactView[]): Map<string, number> {
  const at = new Map<string, number>();
  for (const c of contacts) if (c.lastMessage?.direction === 'in') at.set(c.id, c.lastMessage.at);
  return at;
}

/**
 * Text for the polite live region: "New message from Bob" whenever a contact's last
 * message becomes a newer incoming one. Conversations already there when the app
 * opens are not announced.
 */
export function useIncomingAnnouncement(): Announcement {
  const messenger = useMessenger();
  const [announcement, setAnnouncement] = useState<Announcement>({ text: '', seq: 0 });
  useEffect(() => {
    let seenContacts = messenger.getState().contacts;
    let seen = lastIncoming(seenContacts);
    return messenger.subscribe(() => {
      const contacts = messenger.getState().contacts;
      if (contacts === seenContacts) return;
      const now = lastIncoming(contacts);
      const senders = contacts.filter((c) => (now.get(c.id) ?? 0) > (seen.get(c.id) ?? 0)).map(contactName);
      seenContacts = contacts;
      seen = now;
      if (senders.length === 0) return;
      const text = senders.length === 1 ? `New message from ${senders[0]}` : `New messages from ${senders.join(', ')}`;
      setAnnouncement((a) => ({ text, seq: a.seq + 1 }));
    });
  }, [messenger]);
  return announcement;
}
