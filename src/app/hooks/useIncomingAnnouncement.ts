import { useEffect, useState } from 'react';
import { useMessenger } from '../messenger-context.tsx';
import { subscribeFreshIncoming } from './fresh-incoming.ts';

export interface Announcement {
  readonly text: string;
  /** Grows with every announcement, so a repeated text is a new node and is spoken again. */
  readonly seq: number;
}


/**
 * Text for the polite live region: "New message from Bob" (or "in Trip", a group) whenever
 * a conversation's last message becomes a newer incoming one. Conversations already there when the app
 * opens are not announced.
 */
export function useIncomingAnnouncement(): Announcement {
  const messenger = useMessenger();
  const [announcement, setAnnouncement] = useState<Announcement>({ text: '', seq: 0 });
  useEffect(() => {
    return subscribeFreshIncoming(messenger, (fresh) => {
      const senders = fresh.map((f) => f.name);
      const only = fresh.length === 1 ? fresh[0] : undefined;
      const text = only ? `New message ${only.group ? 'in' : 'from'} ${only.name}` : `New messages ${fresh.some((f) => f.group) ? 'in' : 'from'} ${senders.join(', ')}`;
      setAnnouncement((a) => ({ text, seq: a.seq + 1 }));
    });
  }, [messenger]);
  return announcement;
}
