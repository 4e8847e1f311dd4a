import { useState } from 'react';
import type { ContactView } from '../../../core/messenger/messenger-api.ts';
import { useMessenger } from '../../messenger-context.tsx';

export interface KeyChangeBannerProps {
  readonly contact: ContactView;
  readonly onVerify: () => void;
}

/** Shown while the contact's identity key changed and the user has not acknowledged it. */
export function KeyChangeBanner({ contact, onVerify }: KeyChangeBannerProps) {
  const messenger = useMessenger();
  const [busy, setBusy] = useState(false);
  const acknowledge = () => {
    setBusy(true);
    messenger
      .acknowledgeKeyChange(contact.id)
      .catch(() => undefined)
      .finally(() => setBusy(false));
  };
  return (
    <div role="alert" className="key-change-banner">
      <p>
        <strong>{contact.displayName}'s safety number has changed.</strong> This usually means they reinstalled Petrel or
        moved to a new device, but it could also mean someone is trying to intercept your messages. Compare safety
        numbers before sending anything sensitive. Sending is paused until you acknowledge the change.
      </p>
      <div className="key-change-actions">
        <button type="button" onClick={onVerify}>
          Compare safety numbers
        </button>
        <button type="button" onClick={acknowledge} disabled={busy}>
          Acknowledge and continue
        </button>
      </div>
    </div>
  );
}
