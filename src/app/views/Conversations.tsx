/**
 * The two panes of the ready (and follower) phase: the sidebar (your invite, contacts)
 * and the chat pane (an invite under review, a conversation, or a hint). The frame
 * lays them out side by side from 720 px and shows one at a time on phones.
 */
import { useCallback, useMemo } from 'react';
import type { ContactView, Me, MessengerState } from '../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../messenger-context.tsx';
import { WIDE_LAYOUT_QUERY, useMediaQuery } from '../hooks/useMediaQuery.ts';
import { enterChatInHistory, leaveChatInHistory } from '../hooks/useChatRoute.ts';
import { useUi, useUiStore, type Pane } from '../ui-store.ts';
import { ChatView } from './chat/ChatView.tsx';
import { InviteReview } from './invite/InviteReview.tsx';
import { ContactList } from './sidebar/ContactList.tsx';
import { InvitePanel } from './sidebar/InvitePanel.tsx';
import { MessageRequests } from './sidebar/MessageRequests.tsx';
import { OpenInviteForm } from './sidebar/OpenInviteForm.tsx';
import './sidebar/sidebar.css';
import './conversations.css';

const selectContacts = (s: MessengerState) => s.contacts;
const selectActiveId = (s: MessengerState) => s.chat?.contactId;

export interface ConversationsLayout {
  /** What a phone shows: the chat pane only when it has something to show. */
  readonly pane: Pane;
  /** Both panes are visible at once. */
  readonly wide: boolean;
  readonly active?: ContactView;
}

/** Which pane is visible and which conversation is open. */
export function useConversationsLayout(): ConversationsLayout {
  const contacts = useMessengerState(selectContacts);
  const activeId = useMessengerState(selectActiveId);
  const pendingInvite = useUi((s) => s.pendingInvite);
  const inviteProblem = useUi((s) => s.inviteProblem);
  const pane = useUi((s) => s.pane);
  const wide = useMediaQuery(WIDE_LAYOUT_QUERY);
  const active = contacts.find((c) => c.id === activeId);
  const chatHasContent = pendingInvite !== undefined || inviteProblem !== undefined || active !== undefined;
  return { pane: pane === 'chat' && chatHasContent ? 'chat' : 'list', wide, active };
}

/** Opens a conversation (and, on phones, the chat pane, as a history entry Back leaves). */
function useOpenChat(): (contactId: string) => void {
  const messenger = useMessenger();
  const ui = useUiStore();
  const wide = useMediaQuery(WIDE_LAYOUT_QUERY);
  return useCallback(
    (contactId: string) => {
      ui.getState().linkChat(undefined);
      ui.getState().showPane('chat');
      ui.getState().requestFocus({ kind: 'chat', contactId });
      enterChatInHistory(contactId, wide);
      messenger.openChat(contactId).catch(() => undefined);
    },
    [messenger, ui, wide],
  );
}

export function ConversationsSidebar({ me }: { readonly me: Me }) {
  const contacts = useMessengerState(selectContacts);
  const activeId = useMessengerState(selectActiveId);
  const open = useOpenChat();
  // Message requests have their own section, above the conversations.
  const requests = useMemo(() => contacts.filter((c) => c.request), [contacts]);
  const listed = useMemo(() => contacts.filter((c) => !c.request), [contacts]);
  return (
    <div className="sidebar">
      <InvitePanel me={me} />
      <OpenInviteForm />
      <MessageRequests requests={requests} activeId={activeId} onOpen={open} />
      <ContactList contacts={listed} activeId={activeId} onOpen={open} />
    </div>
  );
}

export function ChatPane({ layout }: { readonly layout: ConversationsLayout }) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const contactCount = useMessengerState(useCallback((s: MessengerState) => s.contacts.length, []));
  const pendingInvite = useUi((s) => s.pendingInvite);
  const inviteProblem = useUi((s) => s.inviteProblem);
  const open = useOpenChat();
  const { active, wide } = layout;
  const back = () => {
    ui.getState().showPane('list');
    if (active) ui.getState().requestFocus({ kind: 'contact', contactId: active.id });
    messenger.openChat(undefined).catch(() => undefined);
    leaveChatInHistory();
  };
  const dismissInvite = () => {
    ui.getState().reviewInvite(undefined);
    if (!active) ui.getState().showPane('list');
  };
  const added = (contactId: string) => {
    ui.getState().reviewInvite(undefined);
    open(contactId);
  };
  return (
    <div className="chat-pane">
      {inviteProblem ? (
        <section className="invite-review" role="alert" aria-label="Invite link">
          <h2>This invite link does not work</h2>
          <p>{inviteProblem}</p>
          <div className="invite-review-actions">
            <button type="button" onClick={() => ui.getState().showInviteProblem(undefined)}>
              Dismiss
            </button>
          </div>
        </section>
      ) : pendingInvite ? (
        <InviteReview invite={pendingInvite} onAdded={added} onDismiss={dismissInvite} />
      ) : active ? (
        <ChatView contact={active} shown={wide || layout.pane === 'chat'} onBack={wide ? undefined : back} />
      ) : (
        <p className="chat-pane-empty">{contactCount > 0 ? 'Choose a conversation.' : 'Add a contact to start a conversation.'}</p>
      )}
    </div>
  );
}
