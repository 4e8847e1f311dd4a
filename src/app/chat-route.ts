/**
 * The address of a conversation: `#/chat/<contactId>` (the contact id is the lowercase
 * hex of its identity key, as `ContactView.id`). A link of that form opens the chat; on
 * a phone every opened chat is a history entry of that form above the list, so the
 * browser's Back returns to the list instead of leaving Petrel.
 */

export const CHAT_ROUTE_PREFIX = '#/chat/';

/** Contact ids are hex: anything else in the fragment is not a chat route. */
const CONTACT_ID = /^(?:[0-9a-f]{2}){1,128}$/u;

/** What Petrel keeps in `history.state` for a chat entry it pushed. */
export interface ChatHistoryState {
  readonly petrel: 'chat';
  readonly contactId: string;
}

/** The fragment of a chat's address. */
export function chatRoute(contactId: string): string {
  return `${CHAT_ROUTE_PREFIX}${contactId}`;
}

/** The contact a fragment (`location.hash`) names, or undefined when it names none. */
export function chatRouteOf(hash: string): string | undefined {
  if (!hash.startsWith(CHAT_ROUTE_PREFIX)) return undefined;
  const id = hash.slice(CHAT_ROUTE_PREFIX.length).toLowerCase();
  return CONTACT_ID.test(id) ? id : undefined;
}

export function isChatHistoryState(state: unknown): state is ChatHistoryState {
  return typeof state === 'object' && state !== null && (state as { petrel?: unknown }).petrel === 'chat' && typeof (state as { contactId?: unknown }).contactId === 'string';
}

/** The address without a fragment (the list). */
export function addressWithoutFragment(): string {
  return window.location.pathname + window.location.search;
}
