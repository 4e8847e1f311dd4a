/**
 * The service worker's side of Web Push. A push from the relay carries nothing but "a
 * message waits" (docs/PROTOCOL.md, Web Push), and browsers require a visible notification
 * for every push, so one is always shown.
 *
 * With "Name and text" or "Name only" chosen and no window open, the core first runs here
 * until it has caught up with the mailbox (push-catch-up.ts), and the notification names
 * who wrote (and what): one conversation by its name, several as "3 new messages from Ada
 * and Bo". Otherwise — "New message" chosen, a window open, a tab holding the core, nothing
 * unread, or the catch-up failing — it says "New message". The choice and where the words
 * came from are kept in the notification's data, so what was shown can be checked.
 */
import { GENERIC_NOTIFICATION_TEXT, loadNotificationContent } from '../platform/notification-settings.ts';
import { notificationTarget } from './notification-target.ts';
import { catchUpForPush, type CatchUpScope } from './push-catch-up.ts';

/** One notification at a time: a new push replaces the one still shown. */
export const PUSH_NOTIFICATION_TAG = 'petrel-new-message';

export async function showPushNotification(registration: ServiceWorkerRegistration, scope?: CatchUpScope): Promise<void> {
  const content = await loadNotificationContent();
  const { outcome, notice } = scope ? await catchUpForPush(scope, content) : { outcome: 'not_run', notice: undefined };
  await registration.showNotification(notice?.title ?? 'Petrel', {
    body: notice?.body ?? GENERIC_NOTIFICATION_TEXT,
    tag: PUSH_NOTIFICATION_TAG,
    icon: '/icons/icon-192.png',
    data: { content, source: 'push', outcome, ...(notice ? { unread: notice.unread } : {}), ...(notice?.contactId ? { contactId: notice.contactId } : {}) },
  });
}

/** A click opens the app (at the conversation it names): an open window is focused and sent there, else a new one is opened. */
export async function openAppFromNotification(clients: Clients, scope: string, data?: unknown): Promise<void> {
  const target = notificationTarget(scope, data);
  const windows = await clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((w) => new URL(w.url).origin === new URL(scope).origin) as WindowClient | undefined;
  if (open) {
    const focused = await open.focus();
    if (target !== scope) await focused.navigate(target).catch(() => undefined);
  } else await clients.openWindow(target);
}
