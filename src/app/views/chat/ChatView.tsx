import { useCallback, useEffect, useId, useRef, useState } from 'react';
import type { ContactView, MessageView, MessengerState } from '../../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { useUi, useUiStore } from '../../ui-store.ts';
import { Composer } from './Composer.tsx';
import { RequestDecision } from './RequestDecision.tsx';
import { KeyChangeBanner } from './KeyChangeBanner.tsx';
import { ContactInfo } from '../contact/ContactInfo.tsx';
import { MessageLog } from './MessageLog.tsx';
import { UnsavedMessages } from './UnsavedMessages.tsx';
import './chat.css';
import '../../components/visually-hidden.css';
import { contactName } from '../contact-name.ts';
import { selectChat, selectFollower, selectStorageGone, selectUnlinked } from './chat-selectors.ts';

const NO_MESSAGES: readonly MessageView[] = [];
const selectContacts = (s: MessengerState) => s.contacts;

export interface ChatViewProps {
  readonly contact: ContactView;
  /** The chat is on screen (not hidden behind the contact list on a phone). */
  readonly shown: boolean;
  /** Narrow layout: show a Back button to the contact list. */
  readonly onBack?: () => void;
}

/** One conversation: header, key-change warning, the message log and the composer. */
export function ChatView({ contact, shown, onBack }: ChatViewProps) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const chat = useMessengerState(selectChat);
  const follower = useMessengerState(selectFollower);
  const storageGone = useMessengerState(selectStorageGone);
  const unlinked = useMessengerState(selectUnlinked);
  const contacts = useMessengerState(selectContacts);
  const claimed = contact.possibleKeyChangeOf === undefined ? undefined : contacts.find((c) => c.id === contact.possibleKeyChangeOf);
  const titleId = useId();
  const infoId = useId();
  const [infoOpen, setInfoOpen] = useState(false);
  const section = useRef<HTMLElement>(null);
  const focusRequest = useUi((s) => s.focusRequest);
  const loaded = chat?.contactId === contact.id;
  const messages = loaded ? chat.messages : NO_MESSAGES;
  // A message request is not read until accepted (its sender learns nothing); accepting it reads what is on screen.
  const canRead = shown && loaded && !follower && !contact.request;
  const markSeen = useCallback((messageId: string) => messenger.markRead(contact.id, messageId), [messenger, contact.id]);

  // Opened by the user: focus the composer on wide screens, the title on phones (no
  // on-screen keyboard popping up), so keyboard and screen-reader users land in the chat.
  useEffect(() => {
    if (!shown || focusRequest?.kind !== 'chat' || focusRequest.contactId !== contact.id) return;
    const target = section.current?.querySelector<HTMLElement>(onBack ? 'h2' : 'textarea');
    if (!target) return;
    target.focus();
    ui.getState().requestFocus(undefined);
  }, [focusRequest, contact.id, shown, onBack, ui]);

  const openVerify = () => ui.getState().openDialog({ kind: 'safety-number', contactId: contact.id });
  const loadOlder = useCallback(() => messenger.loadOlder(), [messenger]);
  let blockedReason: string | undefined;
  if (unlinked) blockedReason = 'This device was unlinked from your account: it can no longer send.';
  else if (storageGone) blockedReason = 'Petrel’s storage is closed in this tab: reload the page to send again.';
  else if (follower) blockedReason = 'Petrel is open in another tab: send from there.';
  else if (contact.keyChanged && contact.possibleKeyChangeOf !== undefined) {
    blockedReason = `This is not the ${(claimed ? contactName(claimed) : contactName(contact))} in your contacts: read the warning above before replying.`;
  } else if (contact.keyChanged) blockedReason = `Acknowledge ${contactName(contact)}'s new safety number to send again.`;
  else if (contact.blocked) blockedReason = `You blocked ${contactName(contact)}. Unblock them in Contact info to send again.`;
  else if (contact.request) blockedReason = `${contactName(contact)} is a message request: accept it under Message requests to reply.`;
  // Nothing can be written to an ended conversation (a request or an ended one has no composer).
  let footer = <Composer contactId={contact.id} blockedReason={blockedReason} />;
  if (contact.ended) {
    footer = (
      <p className="chat-ended">
        This conversation has ended: {contactName(contact)} started over with a new safety number, which you accepted. Their new
        conversation is in your list; write to them there.
      </p>
    );
  } else if (contact.request && !storageGone && !follower && !contact.keyChanged) footer = <RequestDecision contact={contact} />;

  return (
    <section ref={section} className="chat" aria-labelledby={titleId}>
      <header className="chat-header">
        {onBack && (
          <button type="button" className="chat-back" onClick={onBack}>
            <span aria-hidden="true">‹ </span>Back<span className="visually-hidden"> to contacts</span>
          </button>
        )}
        <div className="chat-title">
          <h2 id={titleId} tabIndex={-1} dir="auto">
            {contactName(contact)}
          </h2>
          <p className="chat-subtitle">
            {contact.verified ? <span className="badge badge-verified">Verified</span> : <span className="badge">Not verified</span>}
            {contact.direct && <span className="badge badge-direct">Direct connection</span>}
            {contact.blocked && <span className="badge">Blocked</span>}
            {contact.ended && <span className="badge">Conversation ended</span>}
          </p>
        </div>
        <button type="button" className="chat-verify" onClick={openVerify}>
          Verify<span className="chat-verify-more"> safety number</span>
        </button>
        <button type="button" className="chat-info" aria-expanded={infoOpen} aria-controls={infoId} onClick={() => setInfoOpen(!infoOpen)}>
          Contact info
        </button>
      </header>
      {infoOpen && <ContactInfo contact={contact} id={infoId} />}
      {contact.keyChanged && <KeyChangeBanner contact={contact} claimed={claimed} onVerify={openVerify} />}
      <MessageLog key={contact.id} messages={messages} hasOlder={loaded && chat.hasOlder} peerName={contactName(contact)} onLoadOlder={loadOlder} canRead={canRead} onSeen={markSeen} loading={!loaded} />
      <UnsavedMessages contactId={contact.id} />
      {footer}
    </section>
  );
}
