import { useState } from 'react';
import type { ContactView } from '../../../core/messenger/messenger-api.ts';
import { useMessenger } from '../../messenger-context.tsx';
import { contactName } from '../contact-name.ts';

export interface KeyChangeBannerProps {
  readonly contact: ContactView;
  /** The contact this one claims to be (`possibleKeyChangeOf`), when that is the warning. */
  readonly claimed?: ContactView;
  readonly onVerify: () => void;
}

/**
 * Shown while the contact's identity key changed, or while a newcomer claims an existing
 * contact's name with another key, and the user has not acknowledged it.
 */
export function KeyChangeBanner({ contact, claimed, onVerify }: KeyChangeBannerProps) {
  const messenger = useMessenger();
  const [busy, setBusy] = useState(false);
  const acknowledge = () => {
    setBusy(true);
    messenger
      .acknowledgeKeyChange(contact.id)
      .catch(() => undefined)
      .finally(() => setBusy(false));
  };
  const impostor = contact.possibleKeyChangeOf !== undefined;
  const known = (claimed ? contactName(claimed) : contactName(contact));
  return (
    <div role="alert" className="key-change-banner" data-warning={impostor ? 'claims-name' : 'key-changed'}>
      {impostor ? (
        <p>
          <strong>This is not the <bdi>{known}</bdi> in your contacts.</strong> Someone wrote to you as “<bdi>{contactName(contact)}</bdi>”, but with a
          different identity key from your contact <bdi>{known}</bdi>. It may be <bdi>{known}</bdi> on a new device, or someone pretending to be
          them. Ask <bdi>{known}</bdi> in person or on a call, and compare safety numbers, before you trust it. Replying is paused until
          you acknowledge this.
        </p>
      ) : (
        <p>
          <strong><bdi>{contactName(contact)}</bdi>'s safety number has changed.</strong> This usually means they reinstalled Petrel or
          moved to a new device, but it could also mean someone is trying to intercept your messages. Compare safety
          numbers before sending anything sensitive. Sending is paused until you acknowledge the change.
        </p>
      )}
      <div className="key-change-actions">
        <button type="button" onClick={onVerify}>
          Compare safety numbers
        </button>
        <button type="button" onClick={acknowledge} disabled={busy}>
          {impostor ? 'I understand, let me reply' : 'Acknowledge and continue'}
        </button>
      </div>
    </div>
  );
}
