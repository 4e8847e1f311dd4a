/**
 * A client tab's own chat window, read by the host from the store: each tab may have a
 * different conversation open, while the running core projects only its own tab's.
 */
import type { ChatWindow } from '../../core/messenger/messenger-api.ts';
import { messageView } from '../../core/messenger/message-view.ts';
import type { PetrelStore } from '../../core/store/index.ts';

/** Most messages one window holds (the core's own window has the same bound per read). */
export const CHAT_WINDOW_MAX = 1_000;
const PAGE = 200;

export type ChatReader = (contactId: string, limit: number) => Promise<ChatWindow>;

/** `now` decides which messages may still be edited (the core's clock in the browser is `Date.now`). */
export function storeChatReader(store: PetrelStore, now: () => number = Date.now): ChatReader {
  return async (contactId, limit) => {
    const want = Math.max(1, Math.min(limit, CHAT_WINDOW_MAX));
    const page = await store.pageMessages(contactId, { limit: Math.min(want, PAGE) });
    let messages = [...page.messages];
    let cursor = page.olderCursor;
    while (messages.length < want && cursor !== undefined) {
      const older = await store.pageMessages(contactId, { before: cursor, limit: PAGE });
      messages = [...older.messages, ...messages];
      cursor = older.olderCursor;
    }
    return {
      contactId,
      messages: messages.map((m) => messageView(m, now())),
      hasOlder: cursor !== undefined,
    };
  };
}
