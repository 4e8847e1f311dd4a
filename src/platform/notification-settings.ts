/**
 * What a notification may show, chosen in Settings and read by both the app (in-app
 * notifications while a tab is hidden) and the service worker (a push while no tab is
 * open). Kept in a tiny IndexedDB database of its own: the service worker has no Web
 * Storage, and the messaging core's database is the core's alone.
 */
import { openDB, type IDBPDatabase } from 'idb';

export const NOTIFICATION_CONTENTS = ['name_and_text', 'name_only', 'generic'] as const;
export type NotificationContent = (typeof NOTIFICATION_CONTENTS)[number];
/** What a new install shows: nothing about who wrote or what (the most private choice). */
export const DEFAULT_NOTIFICATION_CONTENT: NotificationContent = 'generic';

/** The words of each choice, as Settings shows them. */
export const NOTIFICATION_CONTENT_LABELS: Readonly<Record<NotificationContent, string>> = {
  name_and_text: 'Name and text',
  name_only: 'Name only',
  generic: '“New message”',
};

export const GENERIC_NOTIFICATION_TEXT = 'New message';

const DB_NAME = 'petrel-settings';
/** The one object store of the settings database: setting name → value (account-settings-store.ts keeps the theme's copy here too). */
export const SETTINGS_STORE = 'settings';
const STORE = SETTINGS_STORE;
export const NOTIFICATION_CONTENT_KEY = 'notificationContent';
const KEY = NOTIFICATION_CONTENT_KEY;

let opened: Promise<IDBPDatabase> | undefined;
/** The settings database (one per origin, shared by the tabs, the core's worker and the service worker). */
export function settingsDatabase(): Promise<IDBPDatabase> {
  return db();
}
function db(): Promise<IDBPDatabase> {
  opened ??= openDB(DB_NAME, 1, {
    upgrade(d) {
      d.createObjectStore(STORE);
    },
  });
  return opened;
}

export const isNotificationContent = (v: unknown): v is NotificationContent => typeof v === 'string' && (NOTIFICATION_CONTENTS as readonly string[]).includes(v);

/** The stored choice; the default when none was made or storage cannot be read. */
export async function loadNotificationContent(): Promise<NotificationContent> {
  try {
    const v: unknown = await (await db()).get(STORE, KEY);
    return isNotificationContent(v) ? v : DEFAULT_NOTIFICATION_CONTENT;
  } catch {
    return DEFAULT_NOTIFICATION_CONTENT;
  }
}

export async function saveNotificationContent(content: NotificationContent): Promise<void> {
  await (await db()).put(STORE, content, KEY);
}

/** Title and body of a notification about a message from `name` saying `text`, as `content` allows. */
export function notificationText(content: NotificationContent, message: { readonly name: string; readonly text: string }): { readonly title: string; readonly body: string } {
  switch (content) {
    case 'name_and_text':
      return { title: message.name, body: message.text || GENERIC_NOTIFICATION_TEXT };
    case 'name_only':
      return { title: message.name, body: GENERIC_NOTIFICATION_TEXT };
    case 'generic':
      return { title: 'Petrel', body: GENERIC_NOTIFICATION_TEXT };
  }
}
