import { useEffect, useId, useState } from 'react';
import { Dialog } from '../../components/Dialog.tsx';
import { usePushControl } from '../../hooks/usePush.ts';
import { describePushStatus } from '../../../platform/web-push-subscription.ts';
import {
  DEFAULT_NOTIFICATION_CONTENT,
  loadNotificationContent,
  NOTIFICATION_CONTENT_LABELS,
  NOTIFICATION_CONTENTS,
  saveNotificationContent,
  type NotificationContent,
} from '../../../platform/notification-settings.ts';
import { BackupDialog } from '../backup/BackupDialog.tsx';
import { LinkedDevicesDialog } from '../devices/LinkedDevicesDialog.tsx';
import { DisplayNameForm } from './DisplayNameForm.tsx';
import { ThemeChoice } from './ThemeChoice.tsx';
import './settings.css';
import '../../components/visually-hidden.css';

const CONTENT_HINTS: Readonly<Record<NotificationContent, string>> = {
  name_and_text: 'Who wrote and what they said. When Petrel is closed, this device fetches and decrypts the message itself to show it; the push carries nothing.',
  name_only: 'Who wrote, not what. When Petrel is closed, this device fetches and decrypts the message itself to learn who; the push carries nothing.',
  generic: 'Nothing about who wrote or what, wherever the notification comes from.',
};

function NotificationContentChoice() {
  const [content, setContent] = useState<NotificationContent>();
  const [saved, setSaved] = useState('');
  const name = useId();
  useEffect(() => {
    let live = true;
    void loadNotificationContent().then((c) => live && setContent(c));
    return () => {
      live = false;
    };
  }, []);
  const choose = (c: NotificationContent) => {
    setContent(c);
    saveNotificationContent(c).then(
      () => setSaved('Saved.'),
      () => setSaved('Could not be saved on this device.'),
    );
  };
  return (
    <fieldset className="settings-group">
      <legend>Notification content</legend>
      {NOTIFICATION_CONTENTS.map((c) => (
        <div key={c} className="settings-choice">
          <input
            type="radio"
            id={`${name}-${c}`}
            name={name}
            value={c}
            checked={(content ?? DEFAULT_NOTIFICATION_CONTENT) === c}
            disabled={content === undefined}
            aria-describedby={`${name}-${c}-hint`}
            onChange={() => choose(c)}
          />
          <label htmlFor={`${name}-${c}`}>{NOTIFICATION_CONTENT_LABELS[c]}</label>
          <small id={`${name}-${c}-hint`}>{CONTENT_HINTS[c]}</small>
        </div>
      ))}
      <p role="status" className="settings-saved">
        {saved}
      </p>
    </fieldset>
  );
}

function PushSwitch() {
  const { status, busy, turnOn, turnOff } = usePushControl();
  const on = status?.kind === 'on' || status?.kind === 'pending';
  return (
    <section className="settings-group" aria-labelledby="settings-push-title">
      <h3 id="settings-push-title">Notifications when Petrel is closed</h3>
      <p role="status" data-testid="push-status" className="settings-status">
        {status ? describePushStatus(status) : 'Checking…'}
      </p>
      <button type="button" onClick={on ? turnOff : turnOn} disabled={busy || status === undefined}>
        {on ? 'Turn off notifications' : 'Turn on notifications'}
      </button>
    </section>
  );
}

/** Linked devices (issue 16) and Backup (issue 17) from Settings: each opens its own dialog over this one. */
function DevicesAndBackup({ onOpen }: { readonly onOpen: (which: 'devices' | 'backup') => void }) {
  return (
    <section className="settings-group" aria-labelledby="settings-devices-title">
      <h3 id="settings-devices-title">Devices and backup</h3>
      <p className="settings-status">Use Petrel on another device with the same account, or keep an encrypted backup to restore from.</p>
      <div className="settings-buttons">
        <button type="button" aria-haspopup="dialog" onClick={() => onOpen('devices')}>
          Linked devices
        </button>
        <button type="button" aria-haspopup="dialog" onClick={() => onOpen('backup')}>
          Backup
        </button>
      </div>
    </section>
  );
}

/**
 * Settings: your name, the theme, what notifications show, whether this device gets them
 * while Petrel is closed, and the way to linked devices and backup. Those open over
 * Settings (Escape or Close returns to it, focus back on the button that opened them).
 */
export function SettingsDialog({ onClose }: { readonly onClose: () => void }) {
  const [over, setOver] = useState<'devices' | 'backup'>();
  const back = () => setOver(undefined);
  return (
    <>
      <Dialog title="Settings" onClose={onClose} className="settings-dialog">
        <DisplayNameForm />
        <ThemeChoice />
        <NotificationContentChoice />
        <PushSwitch />
        <DevicesAndBackup onOpen={setOver} />
      </Dialog>
      {over === 'devices' && <LinkedDevicesDialog onClose={back} />}
      {over === 'backup' && <BackupDialog onClose={back} />}
    </>
  );
}
