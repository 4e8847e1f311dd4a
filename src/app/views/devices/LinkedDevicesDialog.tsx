import { useEffect, useId, useState } from 'react';
import type { DeviceLinkView, MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { QrCode } from '../../components/QrCode.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { deviceLinkUrl } from './device-link-url.ts';
import './devices.css';

const selectDevices = (s: MessengerState) => s.devices;
const selectLink = (s: MessengerState) => s.deviceLink;

function linkStatus(link: DeviceLinkView): string {
  switch (link.status) {
    case 'waiting':
      return `Open this link on the new device, or scan the QR code. It works once, until ${new Date(link.expiresAt).toLocaleTimeString()}.`;
    case 'sending':
      return `Sending your history to the new device: ${link.messages} messages so far…`;
    case 'done':
      return `The new device is linked and has your history (${link.messages} messages).`;
    case 'failed':
      return link.error;
  }
}

/** The account's devices by name: this one marked (and renamable here), Unlink on each, and a one-time link (with its QR code) for a new one. */
export function LinkedDevicesDialog({ onClose }: { readonly onClose: () => void }) {
  const messenger = useMessenger();
  const devices = useMessengerState(selectDevices);
  const link = useMessengerState(selectLink);
  const [offered, setOffered] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const fieldId = useId();
  const nameId = useId();
  /** This device's name being edited (undefined: not editing). */
  const [naming, setNaming] = useState<string | undefined>(undefined);
  useEffect(() => {
    messenger.listDevices().catch(() => setError('The devices could not be read.'));
  }, [messenger]);
  const run = (what: () => Promise<unknown>, failure: string) => {
    setBusy(true);
    setError('');
    what()
      .catch((err: unknown) => setError(err instanceof Error && err.message ? `${failure} ${err.message}` : failure))
      .finally(() => setBusy(false));
  };
  const linkText = offered && link?.status === 'waiting' ? deviceLinkUrl(link.link, window.location.href) : undefined;
  return (
    <Dialog title="Linked devices" onClose={onClose} className="devices-dialog">
      <ul className="devices-list" aria-label="Devices of this account">
        {(devices ?? []).map((d) => (
          <li key={d.id} className="devices-item">
            <span>
              <bdi dir="auto">{d.name}</bdi>
              {d.thisDevice && ' · This device'} <small className="devices-id">{d.id.slice(0, 8)}</small>
            </span>
            {d.thisDevice && (
              <button type="button" disabled={busy} onClick={() => setNaming(d.name)}>
                Rename
              </button>
            )}
            <button type="button" disabled={busy} onClick={() => run(() => messenger.unlinkDevice(d.id), 'The device could not be unlinked.')}>
              Unlink
            </button>
          </li>
        ))}
      </ul>
      {naming !== undefined && (
        <form
          className="devices-rename"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              await messenger.renameThisDevice(naming);
              setNaming(undefined);
            }, 'The name could not be saved.');
          }}
        >
          <label htmlFor={nameId}>Device name</label>
          <input id={nameId} value={naming} maxLength={64} onChange={(e) => setNaming(e.currentTarget.value)} />
          <button type="submit" disabled={busy || naming.trim() === ''}>
            Save name
          </button>
        </form>
      )}
      <button
        type="button"
        disabled={busy}
        onClick={() =>
          run(async () => {
            await messenger.createDeviceLink();
            setOffered(true);
          }, 'No link could be made.')
        }
      >
        Link a new device
      </button>
      {linkText && (
        <div className="devices-link">
          <label htmlFor={fieldId}>Device link</label>
          <input id={fieldId} readOnly value={linkText} onFocus={(e) => e.currentTarget.select()} />
          <QrCode data={linkText} label="QR code to link a new device" />
        </div>
      )}
      {offered && link && (
        <p role="status" className="devices-status">
          {linkStatus(link)}
        </p>
      )}
      {error && (
        <p role="alert" className="devices-error">
          {error}
        </p>
      )}
    </Dialog>
  );
}
