import { useCallback, useEffect, useId, useMemo, useRef } from 'react';
import type { GroupView, MessageView } from '../../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { useUi, useUiStore } from '../../ui-store.ts';
import { Composer } from '../chat/Composer.tsx';
import { selectChat, selectFollower, selectStorageGone, selectUnlinked } from '../chat/chat-selectors.ts';
import { MessageLog } from '../chat/MessageLog.tsx';
import { UnsavedMessages } from '../chat/UnsavedMessages.tsx';
import { departure, memberSummary } from './group-members.ts';
import '../chat/chat.css';
import './groups.css';

const NO_MESSAGES: readonly MessageView[] = [];

export interface GroupChatViewProps {
  readonly group: GroupView;
  /** The chat is on screen (not hidden behind the list on a phone). */
  readonly shown: boolean;
  /** Narrow layout: show a Back button to the list. */
  readonly onBack?: () => void;
}

/**
 * A group's conversation: header (name, member count, **Group info**), a warning when a
 * member's safety number changed, the log (each run of a member's messages headed by their
 * name, membership changes as lines of their own) and the composer — or, once we left or
 * were removed, why the chat is read-only.
 */
export function GroupChatView({ group, shown, onBack }: GroupChatViewProps) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const chat = useMessengerState(selectChat);
  const follower = useMessengerState(selectFollower);
  const storageGone = useMessengerState(selectStorageGone);
  const unlinked = useMessengerState(selectUnlinked);
  const titleId = useId();
  const section = useRef<HTMLElement>(null);
  const focusRequest = useUi((s) => s.focusRequest);
  const loaded = chat?.contactId === group.id;
  const messages = loaded ? chat.messages : NO_MESSAGES;
  const canRead = shown && loaded && !follower;
  const markSeen = useCallback((messageId: string) => messenger.markRead(group.id, messageId), [messenger, group.id]);
  const loadOlder = useCallback(() => messenger.loadOlder(), [messenger]);
  const changedKeys = useMemo(() => group.members.filter((m) => m.keyChanged && !m.me), [group.members]);

  // Opened by the user: the composer on wide screens, the title on phones (as ChatView).
  useEffect(() => {
    if (!shown || focusRequest?.kind !== 'chat' || focusRequest.contactId !== group.id) return;
    const target = section.current?.querySelector<HTMLElement>(onBack || group.left ? 'h2' : 'textarea');
    if (!target) return;
    target.focus();
    ui.getState().requestFocus(undefined);
  }, [focusRequest, group.id, group.left, shown, onBack, ui]);

  let blockedReason: string | undefined;
  if (unlinked) blockedReason = 'This device was unlinked from your account: it can no longer send.';
  else if (storageGone) blockedReason = 'Petrel’s storage is closed in this tab: reload the page to send again.';
  else if (follower) blockedReason = 'Petrel is open in another tab: send from there.';

  return (
    <section ref={section} className="chat group-chat" aria-labelledby={titleId}>
      <header className="chat-header">
        {onBack && (
          <button type="button" className="chat-back" onClick={onBack}>
            <span aria-hidden="true">‹ </span>Back<span className="visually-hidden"> to conversations</span>
          </button>
        )}
        <div className="chat-title">
          <h2 id={titleId} tabIndex={-1} dir="auto">
            {group.name}
          </h2>
          <p className="chat-subtitle">
            <span className="badge">Group</span>
            <span className="group-chat-count">{memberSummary(group)}</span>
            {group.admin && !group.left && <span className="badge">Admin</span>}
          </p>
        </div>
        <button type="button" className="chat-info" aria-haspopup="dialog" onClick={() => ui.getState().openDialog({ kind: 'group-info', groupId: group.id })}>
          Group info
        </button>
      </header>
      {changedKeys.length > 0 && !group.left && (
        <div className="key-change-banner" role="status">
          <p>
            {changedKeys.length === 1 ? (
              <>
                <bdi dir="auto">{changedKeys[0]!.name}</bdi>’s safety number changed.
              </>
            ) : (
              <>{changedKeys.map((m) => m.name).join(', ')} have new safety numbers.</>
            )}{' '}
            Their messages here come from the new key: compare safety numbers in your chat with them before you trust it.
          </p>
        </div>
      )}
      <MessageLog key={group.id} messages={messages} hasOlder={loaded && chat.hasOlder} peerName="A member" onLoadOlder={loadOlder} canRead={canRead} onSeen={markSeen} group readOnly={group.left === true} loading={!loaded} />
      <UnsavedMessages contactId={group.id} />
      {group.left ? (
        <p className="chat-ended group-left" role="status">
          {departure(messages) === 'removed' ? 'You were removed from this group.' : 'You left this group.'} You can read its history, but no longer send or
          receive its messages.
        </p>
      ) : (
        <Composer contactId={group.id} blockedReason={blockedReason} files={false} />
      )}
    </section>
  );
}
