import { useEffect } from 'react';
import type { ContactView } from '../../core/messenger/messenger-api.ts';
import { loadNotificationContent, notificationText } from '../../platform/notification-settings.ts';
import { useMessenger } from '../messenger-context.tsx';
import { contactName } from '../views/contact-name.ts';

/** The last incoming message of each contact, by contact id. */
function lastIncoming(contacts: readonly ContactView[]): Map<string, number> {
  const at = new Map<string, number>();
  for (const c of contacts) if (c.lastMessage?.direction === 'in') at.set(c.id, c.lastMessage.at);
  return at;
}

async function show(title: string, body: string, tag: string, data: unknown): Promise<void> {
  // Through the service worker where there is one (Android allows no `new Notification`).
  const registration = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : undefined;
  if (registration) await registration.showNotification(title, { body, tag, icon: '/icons/icon-192.png', data });
  else new Notification(title, { body, tag, data });
}

/**
 * While this tab is open but hidden, a new incoming message shows a notification from the
 * page, with what the Settings choice allows (name and text, name only, "New message").
 * The relay sends no push then: the tab's connection is open, so it is not needed.
 */
export function useHiddenTabNotifications(): void {
  const messenger = useMessenger();
  useEffect(() => {
    let seenContacts = messenger.getState().contacts;
    let seen = lastIncoming(seenContacts);
    return messenger.subscribe(() => {
      const contacts = messenger.getState().contacts;
      if (contacts === seenContacts) return;
      const now = lastIncoming(contacts);
      const fresh = contacts.filter((c) => (now.get(c.id) ?? 0) > (seen.get(c.id) ?? 0));
      seenContacts = contacts;
      seen = now;
      if (fresh.length === 0 || document.visibilityState !== 'hidden') return;
      if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
      void loadNotificationContent().then(async (content) => {
        for (const c of fresh) {
          const { title, body } = notificationText(content, { name: contactName(c), text: c.lastMessage?.text ?? '' });
          await show(title, body, `petrel-chat-${c.id}`, { content, source: 'page', contactId: c.id }).catch(() => undefined);
        }
      });
    });
  }, [messenger]);
}
