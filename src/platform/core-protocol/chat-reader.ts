/**
 * A client tab's own chat window, read by the host from the store: each tab may have a
 * different conversation open, while the running core projects only its own tab's.
 */
import type { ChatDevice, ChatWindow } from '../../core/messenger/messenger-api.ts';
import { messageView } from '../../core/messenger/message-view.ts';
import type { PetrelStore } from '../../core/store/index.ts';

/** Most messages one window holds (the core's own window has the same bound per read). */
export const CHAT_WINDOW_MAX = 1_000;
const PAGE = 200;

export type ChatReader = (contactId: string, limit: number) => Promise<ChatWindow>;

/** The devices a 1:1 chat names for its messages' Details (Messenger.chatDevices); undefined: none. */
export type ChatDevicesOf = (contactId: string) => Promise<readonly ChatDevice[] | undefined>;

/**
 * `now` decides which messages may still be edited (the core's clock in the browser is
 * `Date.now`). `devicesOf` names a multi-device contact's devices, as the core's own window
 * does: without it another tab's message Details could not list them.
 */
export function storeChatReader(store: PetrelStore, now: () => number = Date.now, devicesOf?: ChatDevicesOf): ChatReader {
  return async (contactId, limit) => {
    // Read alongside the messages; a failure only leaves the devices out (the window still shows).
    const devices = devicesOf?.(contactId).catch(() => undefined);
    const want = Math.max(1, Math.min(limit, CHAT_WINDOW_MAX));
    const page = await store.pageMessages(contactId, { limit: Math.min(want, PAGE) });
    let messages = [...page.messages];
    let cursor = page.olderCursor;
    while (messages.length < want && cursor !== undefined) {
      const older = await store.pageMessages(contactId, { before: cursor, limit: PAGE });
      messages = [...older.messages, ...messages];
      cursor = older.olderCursor;
    }
    const named = await devices;
    return {
      contactId,
      messages: messages.map((m) => messageView(m, now())),
      hasOlder: cursor !== undefined,
      ...(named ? { devices: named } : {}),
    };
  };
}
