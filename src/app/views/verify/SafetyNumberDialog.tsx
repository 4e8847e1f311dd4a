import { Fragment, useCallback, useEffect, useState } from 'react';
import type { MessengerState, SafetyNumber } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { groupDigits } from '../../components/format.ts';
import { QrCode } from '../../components/QrCode.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import './safety-number.css';
import { contactName } from '../contact-name.ts';

type Loaded = { readonly key: string; readonly number?: SafetyNumber; readonly failed?: boolean };

export interface SafetyNumberDialogProps {
  readonly contactId: string;
  readonly onClose: () => void;
}

/** The safety number with a contact (60 digits in 12 blocks, and as a QR code) and the verified toggle. */
export function SafetyNumberDialog({ contactId, onClose }: SafetyNumberDialogProps) {
  const messenger = useMessenger();
  const contact = useMessengerState(useCallback((s: MessengerState) => s.contacts.find((c) => c.id === contactId), [contactId]));
  // A key change gives a new safety number: fetch again when it happens.
  const key = `${contactId}:${contact?.keyChanged ? 'changed' : 'same'}`;
  const [loaded, setLoaded] = useState<Loaded>({ key: '' });
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    messenger.safetyNumber(contactId).then(
      (number) => live && setLoaded({ key, number }),
      () => live && setLoaded({ key, failed: true }),
    );
    return () => {
      live = false;
    };
  }, [messenger, contactId, key]);

  const name = contact ? contactName(contact) : 'this contact';
  const current = loaded.key === key ? loaded : undefined;
  const toggle = () => {
    if (!contact) return;
    setBusy(true);
    messenger
      .setVerified(contact.id, !contact.verified)
      .catch(() => undefined)
      .finally(() => setBusy(false));
  };

  return (
    <Dialog title={`Verify ${name}’s identity`} onClose={onClose} className="safety-dialog">
      <p>
        Compare these numbers with the ones <bdi>{name}</bdi> sees on their device, in person or on a call, or scan each other’s
        code. If they match, nobody is in between.
      </p>
      {!current && <p>Working out the safety number…</p>}
      {current?.failed && <p role="alert">The safety number could not be computed. Close this and try again.</p>}
      {current?.number && (
        <>
          <div className="safety-digits" role="group" aria-label="Safety number">
            {groupDigits(current.number.digits).map((group, i) => (
              <Fragment key={i}>
                {i > 0 && ' '}
                <span>{group}</span>
              </Fragment>
            ))}
          </div>
          <QrCode data={current.number.qr} label={`QR code to scan on ${name}’s device`} />
        </>
      )}
      {contact && (
        <div className="safety-verified">
          <p>{contact.verified ? `You have marked ${name} as verified.` : `${name} is not verified yet.`}</p>
          <button type="button" onClick={toggle} disabled={busy}>
            {contact.verified ? 'Unmark as verified' : 'Mark as verified'}
          </button>
        </div>
      )}
    </Dialog>
  );
}
