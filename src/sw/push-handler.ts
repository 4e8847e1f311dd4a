/**
 * The service worker's side of Web Push. A push from the relay carries nothing but "a
 * message waits" (docs/PROTOCOL.md, Web Push), and browsers require a visible notification
 * for every push, so one is always shown — without waking the messaging core.
 *
 * What it says today: "New message", whatever the Settings choice. With "New message"
 * that is the choice itself. "Name and text" and "Name only" would need the waiting
 * envelopes fetched and decrypted here (the core booted headless in the worker under the
 * tabs' Web Lock); that is not built yet, so those choices also get "New message" from a
 * push, and show the name (and text) only in the in-app notifications of a hidden tab.
 * The choice read is kept in the notification's data, so what was shown can be checked.
 */
import { GENERIC_NOTIFICATION_TEXT, loadNotificationContent } from '../platform/notification-settings.ts';

/** One notification at a time: a new push replaces the one still shown. */
export const PUSH_NOTIFICATION_TAG = 'petrel-new-message';

export async function showPushNotification(registration: ServiceWorkerRegistration): Promise<void> {
  const content = await loadNotificationContent();
  await registration.showNotification('Petrel', {
    body: GENERIC_NOTIFICATION_TEXT,
    tag: PUSH_NOTIFICATION_TAG,
    icon: '/icons/icon-192.png',
    data: { content, source: 'push' },
  });
}

/** A click opens the app: an open window is focused, else a new one is opened. */
export async function openAppFromNotification(clients: Clients, scope: string): Promise<void> {
  const windows = await clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).origin === new URL(scope).origin) as WindowClient | undefined;
  if (open) await open.focus();
  else await clients.openWindow(scope);
}
