import { useEffect, useRef } from 'react';
import type { GroupView } from '../../../core/messenger/messenger-api.ts';
import type { Conversation } from '../groups/conversation-order.ts';
import { groupAccessibleName } from '../groups/group-label.ts';
import { useUi, useUiStore } from '../../ui-store.ts';
import { formatMessageTime } from '../../components/format.ts';
import { useNow } from '../../hooks/useNow.ts';
import { contactAccessibleName, preview } from './contact-label.ts';
import { contactName } from '../contact-name.ts';

const MINUTE_MS = 60_000;

export interface ContactListProps {
  /** Contacts and groups, most recent conversation first (mergeConversations). */
  readonly conversations: readonly Conversation[];
  readonly activeId?: string;
  readonly onOpen: (contactId: string) => void;
}

/** The conversations: one button per contact or group with preview, unread count and badges. */
export function ContactList({ conversations, activeId, onOpen }: ContactListProps) {
  const now = useNow(true, MINUTE_MS);
  const list = useRef<HTMLUListElement>(null);
  const ui = useUiStore();
  const focusRequest = useUi((s) => s.focusRequest);
  // Back from a chat on a phone: focus returns to that contact, not to the page start.
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusRequest?.kind !== 'list') return;
    heading.current?.focus();
    ui.getState().requestFocus(undefined);
  }, [focusRequest, ui]);
  useEffect(() => {
    if (focusRequest?.kind !== 'contact') return;
    const button = list.current?.querySelector<HTMLElement>(`[data-contact-id="${focusRequest.contactId}"]`);
    if (!button) return;
    button.focus();
    ui.getState().requestFocus(undefined);
  }, [focusRequest, ui]);
  return (
    <div className="contact-list">
      <h2 ref={heading} tabIndex={-1}>
        Conversations
      </h2>
      {conversations.length === 0 ? (
        <p className="contact-list-empty">No contacts yet. Share your invite link, or open someone else’s.</p>
      ) : (
        <ul ref={list}>
          {conversations.map((entry) => {
            if (entry.kind === 'group') return <GroupEntry key={entry.group.id} group={entry.group} active={entry.group.id === activeId} now={now} onOpen={onOpen} />;
            const c = entry.contact;
            return (
              <li key={c.id}>
                <button
                  type="button"
                  className="contact"
                  data-contact-id={c.id}
                  aria-label={contactAccessibleName(c)}
                  aria-current={c.id === activeId ? 'true' : undefined}
                  onClick={() => onOpen(c.id)}
                >
                  <span className="contact-top">
                    <span className="contact-name" dir="auto">{contactName(c)}</span>
                    {c.verified && (
                      <span className="contact-verified" title="Verified">
                        ✓
                      </span>
                    )}
                    {c.keyChanged && (
                      <span className="badge badge-warning">{c.possibleKeyChangeOf !== undefined ? 'Different key: not your contact' : 'Safety number changed'}</span>
                    )}
                    {c.blocked && <span className="badge">Blocked</span>}
                    {c.ended && <span className="badge">Ended</span>}
                    {c.lastMessage && <span className="contact-time">{formatMessageTime(c.lastMessage.at, now)}</span>}
                  </span>
                  <span className="contact-bottom">
                    <span className="contact-preview">
                      {c.lastMessage ? (
                        <>
                          {c.lastMessage.direction === 'out' && 'You: '}
                          <bdi dir="auto">{preview(c.lastMessage.text)}</bdi>
                        </>
                      ) : (
                        'No messages yet'
                      )}
                    </span>
                    {c.unread > 0 && <span className="contact-unread">{c.unread}</span>}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

/** A group in the conversation list: its name, "Group", the last message with its sender, unread count. */
function GroupEntry({ group, active, now, onOpen }: { readonly group: GroupView; readonly active: boolean; readonly now: number; readonly onOpen: (id: string) => void }) {
  const last = group.lastMessage;
  return (
    <li>
      <button
        type="button"
        className="contact contact-group"
        data-contact-id={group.id}
        aria-label={groupAccessibleName(group)}
        aria-current={active ? 'true' : undefined}
        onClick={() => onOpen(group.id)}
      >
        <span className="contact-top">
          <span className="contact-name" dir="auto">
            {group.name}
          </span>
          <span className="badge">Group</span>
          {group.left && <span className="badge">Not a member</span>}
          {last && <span className="contact-time">{formatMessageTime(last.at, now)}</span>}
        </span>
        <span className="contact-bottom">
          <span className="contact-preview">
            {last ? (
              <>
                {last.direction === 'out' && 'You: '}
                <bdi dir="auto">{preview(last.text)}</bdi>
              </>
            ) : (
              'No messages yet'
            )}
          </span>
          {group.unread > 0 && <span className="contact-unread">{group.unread}</span>}
        </span>
      </button>
    </li>
  );
}
