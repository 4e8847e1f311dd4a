/**
 * Conversations in the browser's history (see `chat-route.ts` for the address form).
 *
 * - A phone (one pane at a time) pushes a `#/chat/<id>` entry when a chat opens, so the
 *   browser's Back (popstate) returns to the list; the list entry below it is Petrel's
 *   own, so Back from a chat never leaves the app. The in-app Back button goes back
 *   through that entry too, keeping the two in step.
 * - A wide layout replaces the current entry instead (both panes are visible; Back is
 *   the browser's ordinary Back), so the address still names the open chat.
 * - An address naming a chat (on load, or navigated to) opens it once its contact is
 *   known; on a phone a list entry is put below it first.
 */
import { useEffect, useRef } from 'react';
import type { MessengerState } from '../../core/messenger/messenger-api.ts';
import { addressWithoutFragment, chatRoute, chatRouteOf, isChatHistoryState, type ChatHistoryState } from '../chat-route.ts';
import { useMessenger, useMessengerState } from '../messenger-context.tsx';
import { useUi, useUiStore } from '../ui-store.ts';
import { WIDE_LAYOUT_QUERY, useMediaQuery } from './useMediaQuery.ts';
import { openConversation } from './open-conversation.ts';

const selectContacts = (s: MessengerState) => s.contacts;
const selectGroups = (s: MessengerState) => s.groups;

/**
 * Records an opened chat in the history: a new entry on a phone, the current one replaced
 * when wide. Only an entry Petrel pushed carries `ChatHistoryState`: the in-app Back goes
 * back through that one, and never through an entry that was not ours.
 */
export function enterChatInHistory(contactId: string, wide: boolean): void {
  const url = addressWithoutFragment() + chatRoute(contactId);
  const current: unknown = window.history.state;
  if (isChatHistoryState(current)) window.history.replaceState({ petrel: 'chat', contactId } satisfies ChatHistoryState, '', url);
  else if (wide) window.history.replaceState(current, '', url);
  else window.history.pushState({ petrel: 'chat', contactId } satisfies ChatHistoryState, '', url);
}

/** The chat was left for the list by the in-app Back: leave its history entry too. */
export function leaveChatInHistory(): void {
  if (isChatHistoryState(window.history.state)) window.history.back();
  else if (chatRouteOf(window.location.hash) !== undefined) window.history.replaceState(null, '', addressWithoutFragment());
}

/** Follows the address: opens linked chats, and on a phone returns to the list on Back. */
export function useChatRoute(): void {
  const messenger = useMessenger();
  const ui = useUiStore();
  const wide = useMediaQuery(WIDE_LAYOUT_QUERY);
  const wideNow = useRef(wide);
  useEffect(() => {
    wideNow.current = wide;
  }, [wide]);

  useEffect(() => {
    const linked = chatRouteOf(window.location.hash);
    if (linked !== undefined) {
      ui.getState().linkChat(linked);
      // Opened from a link on a phone: put the list below it, so Back stays in Petrel.
      if (!wideNow.current && !isChatHistoryState(window.history.state)) {
        const url = window.location.href;
        window.history.replaceState(null, '', addressWithoutFragment());
        window.history.pushState({ petrel: 'chat', contactId: linked } satisfies ChatHistoryState, '', url);
      }
    }
    const onNavigate = () => {
      const id = chatRouteOf(window.location.hash);
      if (id !== undefined) {
        ui.getState().linkChat(id);
        return;
      }
      // Back to an entry without a chat: on a phone, that is the list.
      const s = ui.getState();
      if (wideNow.current || s.pane !== 'chat' || s.pendingInvite !== undefined || s.inviteProblem !== undefined) return;
      const active = messenger.getState().chat?.contactId;
      s.showPane('list');
      if (active !== undefined) s.requestFocus({ kind: 'contact', contactId: active });
      openConversation(messenger, ui, undefined);
    };
    window.addEventListener('popstate', onNavigate);
    window.addEventListener('hashchange', onNavigate);
    return () => {
      window.removeEventListener('popstate', onNavigate);
      window.removeEventListener('hashchange', onNavigate);
    };
  }, [messenger, ui]);

  // A linked chat opens as soon as its contact or group is in the list (after loading, or once added).
  const linkedChat = useUi((s) => s.linkedChat);
  const contacts = useMessengerState(selectContacts);
  const groups = useMessengerState(selectGroups);
  useEffect(() => {
    if (linkedChat === undefined || !(contacts.some((c) => c.id === linkedChat) || groups?.some((g) => g.id === linkedChat))) return;
    const s = ui.getState();
    s.linkChat(undefined);
    if (s.pane === 'chat' && messenger.getState().chat?.contactId === linkedChat) return;
    s.showPane('chat');
    s.requestFocus({ kind: 'chat', contactId: linkedChat });
    openConversation(messenger, ui, linkedChat);
  }, [linkedChat, contacts, groups, messenger, ui]);
}
