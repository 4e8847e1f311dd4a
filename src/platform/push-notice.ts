/**
 * What a notification says after a push woke the service worker and the core caught up
 * with the mailbox (src/sw/push-catch-up.ts): every conversation with unread incoming
 * messages, in the words the Settings choice allows. The same tag every time, so the one
 * notification always shows the current unread state instead of a pile of them.
 */
import type { ContactView } from '../core/messenger/messenger-api.ts';
import { GENERIC_NOTIFICATION_TEXT, type NotificationContent } from './notification-settings.ts';

export interface PushNotice {
  readonly title: string;
  readonly body: string;
  /** The one conversation it is about (a click opens it); absent when several are. */
  readonly contactId?: string;
  /** Unread incoming messages it counts. */
  readonly unread: number;
}

/** Names joined the way a person writes them: "Ada", "Ada and Bo", "Ada, Bo and Cy", "Ada, Bo and 3 others". */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? '';
  if (names.length <= 3) return `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  return `${names.slice(0, 2).join(', ')} and ${names.length - 2} others`;
}

const messages = (n: number) => (n === 1 ? 'New message' : `${n} new messages`);

/**
 * The notice for these contacts (most recent first, as the view sorts them), or undefined
 * when no conversation has an unread incoming message. `generic` never names anyone.
 */
export function pushNotice(contacts: readonly ContactView[], content: NotificationContent, nameOf: (c: ContactView) => string): PushNotice | undefined {
  const waiting = contacts.filter((c) => c.unread > 0 && !c.blocked && c.lastMessage?.direction === 'in');
  if (waiting.length === 0) return undefined;
  const unread = waiting.reduce((n, c) => n + c.unread, 0);
  if (content === 'generic') return { title: 'Petrel', body: GENERIC_NOTIFICATION_TEXT, unread };
  if (waiting.length === 1) {
    const c = waiting[0]!;
    const text = c.lastMessage?.text ?? '';
    const body = content === 'name_and_text' && text ? (c.unread === 1 ? text : `${messages(c.unread)}. Latest: ${text}`) : messages(c.unread);
    return { title: nameOf(c), body, contactId: c.id, unread };
  }
  return { title: 'Petrel', body: `${messages(unread)} from ${joinNames(waiting.map(nameOf))}`, unread };
}
