import { Fragment, useCallback, useEffect, useState } from 'react';
import type { MessengerState, SafetyNumber } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { groupDigits } from '../../components/format.ts';
import { QrCode } from '../../components/QrCode.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import './safety-number.css';
import { contactName } from '../contact-name.ts';
import { parseSafetyQrText, safetyQrText } from '../../../core/messenger/safety-qr-text.ts';
import { QrScanner } from '../scan/QrScanner.tsx';

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
  const [scanning, setScanning] = useState(false);
  const [scanResult, setScanResult] = useState<'match' | 'mismatch'>();

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

  /** Their code, scanned: compared by the core; a match marks them verified. */
  const compareScanned = async (text: string): Promise<string | undefined> => {
    const payload = parseSafetyQrText(text);
    if (!payload) return 'That is not a Petrel safety-number code. Scan the code in their “Verify safety number”.';
    let result: 'match' | 'mismatch';
    try {
      result = await messenger.compareSafetyNumber(contactId, payload);
    } catch {
      return 'That code could not be read as a safety number. Try again.';
    }
    setScanResult(result);
    setScanning(false);
    if (result === 'match' && contact && !contact.verified) await messenger.setVerified(contact.id, true).catch(() => undefined);
    return undefined;
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
          <QrCode data={safetyQrText(current.number)} label={`QR code to scan on ${name}’s device`} />
          {!scanning && (
            <button
              type="button"
              onClick={() => {
                setScanResult(undefined);
                setScanning(true);
              }}
            >
              Scan QR code
            </button>
          )}
          {scanning && <QrScanner target={`the code on ${name}’s screen`} onText={compareScanned} />}
          {scanResult === 'match' && (
            <p className="safety-scan-match" role="status">
              The safety numbers match: nobody is in between. {name} is marked as verified.
            </p>
          )}
          {scanResult === 'mismatch' && (
            <p className="safety-scan-mismatch" role="alert">
              These safety numbers do not match. You may not be talking to {name}: do not mark them verified until you know why.
            </p>
          )}
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
