/**
 * Opening a conversation without waiting for the core. The core (in its worker) loads the
 * chat's first page and then names it as its open chat; until then the UI already shows
 * the conversation the user chose (`UiState.opening`), so text typed right after the click
 * goes to that conversation's draft and Enter sends to it, not to the one shown before.
 */
import { useEffect } from 'react';
import type { MessengerApi, MessengerState } from '../../core/messenger/messenger-api.ts';
import { useMessengerState } from '../messenger-context.tsx';
import { useUi, useUiStore, type UiStore } from '../ui-store.ts';

/** Shows `id` (undefined: no conversation) at once and asks the core to open it. */
export function openConversation(messenger: MessengerApi, ui: UiStore, id: string | undefined): void {
  ui.getState().setOpening({ id });
  messenger.openChat(id).catch(() => {
    // Not opened: show what the core shows.
    if (ui.getState().opening?.id === id) ui.getState().setOpening(undefined);
  });
}

const selectCoreChat = (s: MessengerState) => s.chat?.contactId;

/** The conversation on screen: the one being opened, else the core's open chat. */
export function useActiveConversationId(): string | undefined {
  const ui = useUiStore();
  const coreId = useMessengerState(selectCoreChat);
  const opening = useUi((s) => s.opening);
  useEffect(() => {
    if (opening && opening.id === coreId) ui.getState().setOpening(undefined);
  }, [opening, coreId, ui]);
  return opening ? opening.id : coreId;
}
