/**
 * The two panes of the ready (and follower) phase: the sidebar (your invite, **New group**, contacts and groups)
 * and the chat pane (an invite under review, a conversation, or a hint). The frame
 * lays them out side by side from 720 px and shows one at a time on phones.
 */
import { useCallback, useMemo } from 'react';
import type { ContactView, GroupView, Me, MessengerState } from '../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../messenger-context.tsx';
import { WIDE_LAYOUT_QUERY, useMediaQuery } from '../hooks/useMediaQuery.ts';
import { leaveChatInHistory } from '../hooks/useChatRoute.ts';
import { useOpenChat } from '../hooks/useOpenChat.ts';
import { useUi, useUiStore, type Pane } from '../ui-store.ts';
import { ChatView } from './chat/ChatView.tsx';
import { GroupChatView } from './groups/GroupChatView.tsx';
import { mergeConversations } from './groups/conversation-order.ts';
import { InviteReview } from './invite/InviteReview.tsx';
import { ContactList } from './sidebar/ContactList.tsx';
import { InvitePanel } from './sidebar/InvitePanel.tsx';
import { MessageRequests } from './sidebar/MessageRequests.tsx';
import { OpenInviteForm } from './sidebar/OpenInviteForm.tsx';
import './sidebar/sidebar.css';
import './conversations.css';
import { openConversation, useActiveConversationId } from '../hooks/open-conversation.ts';

const NO_GROUPS: readonly GroupView[] = [];
const selectContacts = (s: MessengerState) => s.contacts;
const selectGroups = (s: MessengerState) => s.groups ?? NO_GROUPS;

export interface ConversationsLayout {
  /** What a phone shows: the chat pane only when it has something to show. */
  readonly pane: Pane;
  /** Both panes are visible at once. */
  readonly wide: boolean;
  readonly active?: ContactView;
  /** The open group, when the open conversation is a group's. */
  readonly activeGroup?: GroupView;
}

/** Which pane is visible and which conversation is open. */
export function useConversationsLayout(): ConversationsLayout {
  const contacts = useMessengerState(selectContacts);
  const groups = useMessengerState(selectGroups);
  const activeId = useActiveConversationId();
  const pendingInvite = useUi((s) => s.pendingInvite);
  const inviteProblem = useUi((s) => s.inviteProblem);
  const pane = useUi((s) => s.pane);
  const wide = useMediaQuery(WIDE_LAYOUT_QUERY);
  const active = contacts.find((c) => c.id === activeId);
  const activeGroup = active ? undefined : groups.find((g) => g.id === activeId);
  const chatHasContent = pendingInvite !== undefined || inviteProblem !== undefined || active !== undefined || activeGroup !== undefined;
  return { pane: pane === 'chat' && chatHasContent ? 'chat' : 'list', wide, active, activeGroup };
}

export function ConversationsSidebar({ me }: { readonly me: Me }) {
  const contacts = useMessengerState(selectContacts);
  const groups = useMessengerState(selectGroups);
  const activeId = useActiveConversationId();
  const open = useOpenChat();
  const ui = useUiStore();
  // Message requests have their own section, above the conversations.
  const requests = useMemo(() => contacts.filter((c) => c.request), [contacts]);
  const listed = useMemo(
    () =>
      mergeConversations(
        contacts.filter((c) => !c.request),
        groups,
      ),
    [contacts, groups],
  );
  return (
    <div className="sidebar">
      <InvitePanel me={me} />
      <OpenInviteForm />
      <div className="sidebar-actions">
        <button type="button" onClick={() => ui.getState().openDialog({ kind: 'new-group' })}>
          New group
        </button>
      </div>
      <MessageRequests requests={requests} activeId={activeId} onOpen={open} />
      <ContactList conversations={listed} activeId={activeId} onOpen={open} />
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
  const { active, activeGroup, wide } = layout;
  const back = () => {
    ui.getState().showPane('list');
    const openId = active?.id ?? activeGroup?.id;
    if (openId !== undefined) ui.getState().requestFocus({ kind: 'contact', contactId: openId });
    openConversation(messenger, ui, undefined);
    leaveChatInHistory();
  };
  const dismissInvite = () => {
    ui.getState().reviewInvite(undefined);
    if (!active && !activeGroup) ui.getState().showPane('list');
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
      ) : activeGroup ? (
        <GroupChatView group={activeGroup} shown={wide || layout.pane === 'chat'} onBack={wide ? undefined : back} />
      ) : (
        <p className="chat-pane-empty">{contactCount > 0 ? 'Choose a conversation.' : 'Add a contact to start a conversation.'}</p>
      )}
    </div>
  );
}
