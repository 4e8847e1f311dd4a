import { useCallback } from 'react';
import { useMessenger } from '../messenger-context.tsx';
import { useUiStore } from '../ui-store.ts';
import { openConversation } from './open-conversation.ts';
import { enterChatInHistory } from './useChatRoute.ts';
import { WIDE_LAYOUT_QUERY, useMediaQuery } from './useMediaQuery.ts';

/** Opens a conversation, a contact's or a group's (and, on phones, the chat pane, as a history entry Back leaves). */
export function useOpenChat(): (conversationId: string) => void {
  const messenger = useMessenger();
  const ui = useUiStore();
  const wide = useMediaQuery(WIDE_LAYOUT_QUERY);
  return useCallback(
    (conversationId: string) => {
      ui.getState().linkChat(undefined);
      ui.getState().showPane('chat');
      ui.getState().requestFocus({ kind: 'chat', contactId: conversationId });
      enterChatInHistory(conversationId, wide);
      openConversation(messenger, ui, conversationId);
    },
    [messenger, ui, wide],
  );
}
