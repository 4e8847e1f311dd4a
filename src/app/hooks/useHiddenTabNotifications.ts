import { useEffect } from 'react';
import { loadNotificationContent, notificationText } from '../../platform/notification-settings.ts';
import { useMessenger } from '../messenger-context.tsx';
import { subscribeFreshIncoming } from './fresh-incoming.ts';


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
    return subscribeFreshIncoming(messenger, (fresh) => {
      if (document.visibilityState !== 'hidden') return;
      if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
      void loadNotificationContent().then(async (content) => {
        for (const c of fresh) {
          const { title, body } = notificationText(content, { name: c.name, text: c.text });
          await show(title, body, `petrel-chat-${c.id}`, { content, source: 'page', contactId: c.id }).catch(() => undefined);
        }
      });
    });
  }, [messenger]);
}
