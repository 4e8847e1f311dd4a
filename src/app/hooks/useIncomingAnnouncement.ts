import { useEffect, useState } from 'react';
import { useMessenger } from '../messenger-context.tsx';
import { contactName } from '../views/contact-name.ts';
import { subscribeFreshIncoming } from './fresh-incoming.ts';

export interface Announcement {
  readonly text: string;
  /** Grows with every announcement, so a repeated text is a new node and is spoken again. */
  readonly seq: number;
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
    return subscribeFreshIncoming(messenger, (fresh) => {
      const senders = fresh.map(contactName);
      const text = senders.length === 1 ? `New message from ${senders[0]}` : `New messages from ${senders.join(', ')}`;
      setAnnouncement((a) => ({ text, seq: a.seq + 1 }));
    });
  }, [messenger]);
  return announcement;
}
