import { useEffect } from 'react';
import { useMessenger } from '../messenger-context.tsx';
import { useDocumentVisible } from './useDocumentVisible.ts';

/**
 * Tells the core a conversation was read while its messages are on screen: the chat
 * is shown (`shown`), the page is visible and there is something unread. Runs again
 * whenever the unread count or the newest message changes, so messages arriving in an
 * open chat are read. The newest message id matters as much as the count: a message
 * arriving while a read is being committed can leave the count where it was (1 → 0 → 1
 * in two coalesced updates) and would otherwise stay unread, its sender never told.
 */
export function useMarkRead(contactId: string, unread: number, newestMessageId: string | undefined, shown: boolean): void {
  const messenger = useMessenger();
  const visible = useDocumentVisible();
  useEffect(() => {
    if (!shown || !visible || unread === 0) return;
    // A failure leaves the count as it is; the next change or visibility retries it.
    messenger.markRead(contactId).catch(() => undefined);
  }, [messenger, contactId, unread, newestMessageId, shown, visible]);
}
