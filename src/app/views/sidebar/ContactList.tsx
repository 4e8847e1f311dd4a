import { useEffect, useRef } from 'react';
import type { ContactView } from '../../../core/messenger/messenger-api.ts';
import { useUi, useUiStore } from '../../ui-store.ts';
import { formatMessageTime } from '../../components/format.ts';
import { useNow } from '../../hooks/useNow.ts';
import { contactAccessibleName, preview } from './contact-label.ts';
import { contactName } from '../contact-name.ts';

const MINUTE_MS = 60_000;

export interface ContactListProps {
  /** Most recent conversation first (the core sorts them). */
  readonly contacts: readonly ContactView[];
  readonly activeId?: string;
  readonly onOpen: (contactId: string) => void;
}

/** The conversations: one button per contact with preview, unread count and badges. */
export function ContactList({ contacts, activeId, onOpen }: ContactListProps) {
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
      {contacts.length === 0 ? (
        <p className="contact-list-empty">No contacts yet. Share your invite link, or open someone else’s.</p>
      ) : (
        <ul ref={list}>
          {contacts.map((c) => (
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
          ))}
        </ul>
      )}
    </div>
  );
}
