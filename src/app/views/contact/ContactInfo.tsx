import { useState } from 'react';
import type { ContactView } from '../../../core/messenger/messenger-api.ts';
import { useMessenger } from '../../messenger-context.tsx';
import { useUiStore } from '../../ui-store.ts';
import { contactName } from '../contact-name.ts';
import './contact.css';

export interface ContactInfoProps {
  readonly contact: ContactView;
  /** The element id (the header's **Contact info** button controls it). */
  readonly id: string;
}

/**
 * A contact's info view, opened from the chat header (**Contact info**): who it is, and
 * **Rename**, **Delete conversation** (after a confirmation) and **Block** / **Unblock**.
 */
export function ContactInfo({ contact, id }: ContactInfoProps) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const name = contactName(contact);
  const toggleBlock = () => {
    setBusy(true);
    setFailed(false);
    messenger
      .setBlocked(contact.id, !contact.blocked)
      .catch(() => setFailed(true))
      .finally(() => setBusy(false));
  };
  return (
    <section id={id} className="contact-info-panel" aria-label={`About ${name}`}>
      <dl>
        <dt>Name</dt>
        <dd dir="auto">{name}</dd>
        {contact.profileName !== undefined && (
          <>
            <dt>Their own name</dt>
            <dd dir="auto">{contact.profileName}</dd>
          </>
        )}
        <dt>Identity key</dt>
        <dd className="contact-info-key">{contact.id.slice(0, 8)}…</dd>
        {contact.blocked && (
          <>
            <dt>Status</dt>
            <dd>Blocked: their messages are not shown, and nothing is sent to them.</dd>
          </>
        )}
        {contact.ended && (
          <>
            <dt>Status</dt>
            <dd>This conversation ended: they continue under a new identity key.</dd>
          </>
        )}
      </dl>
      <div className="contact-info-actions">
        <button type="button" onClick={() => ui.getState().openDialog({ kind: 'rename-contact', contactId: contact.id })}>
          Rename
        </button>
        <button type="button" onClick={() => ui.getState().openDialog({ kind: 'delete-conversation', contactId: contact.id })}>
          Delete conversation
        </button>
        <button type="button" onClick={toggleBlock} disabled={busy}>
          {contact.blocked ? 'Unblock' : 'Block'}
        </button>
      </div>
      {failed && (
        <p role="alert" className="field-error">
          That did not work. Try again.
        </p>
      )}
    </section>
  );
}
