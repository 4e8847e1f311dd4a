import { useEffect, useId, useState } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { backupFileName } from './backup-text.ts';
import './backup.css';

const selectBackup = (s: MessengerState) => s.backup;

/** Hands `bytes` to the browser as a file download. */
function download(bytes: Uint8Array, name: string): void {
  if (typeof URL.createObjectURL !== 'function') return;
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Back up: a backup file to download (its recovery key shown once, here, after it is made)
 * and the switch that keeps a copy on the relay, replaced at most daily.
 */
export function BackupDialog({ onClose }: { readonly onClose: () => void }) {
  const messenger = useMessenger();
  const backup = useMessengerState(selectBackup);
  const [recoveryKey, setRecoveryKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [saved, setSaved] = useState('');
  const keyId = useId();
  const switchId = useId();
  // Shown once: gone when the dialog closes.
  useEffect(() => () => setRecoveryKey(''), []);
  const run = (what: () => Promise<void>, failure: string) => {
    setBusy(true);
    setError('');
    setSaved('');
    what()
      .catch((err: unknown) => setError(err instanceof Error && err.message ? `${failure} ${err.message}` : failure))
      .finally(() => setBusy(false));
  };
  const makeFile = () =>
    run(async () => {
      const made = await messenger.createBackup();
      download(made.bytes, backupFileName(new Date()));
      if (made.recoveryKey) setRecoveryKey(made.recoveryKey);
      setSaved('The backup file is downloaded. Keep it, and the recovery key below, somewhere safe.');
    }, 'The backup could not be made.');
  const setRelay = (on: boolean) =>
    run(async () => {
      const { recoveryKey: fresh } = await messenger.setRelayBackup(on);
      if (fresh) setRecoveryKey(fresh);
      setSaved(on ? 'A backup is kept on the relay and replaced at most once a day.' : 'The relay no longer keeps a backup.');
    }, on ? 'The backup could not be kept on the relay.' : 'The relay backup could not be removed.');
  return (
    <Dialog title="Back up" onClose={onClose} className="backup-dialog">
      <p>
        A backup holds your account, contacts (and whom you verified) and every message, encrypted with a recovery key only you get. With it, a new browser
        restores everything as a new device of your account.
      </p>
      {backup?.lastBackupAt && <p className="backup-when">Last backup: {new Date(backup.lastBackupAt).toLocaleString()}</p>}
      <button type="button" disabled={busy} onClick={makeFile}>
        Download backup
      </button>
      {recoveryKey && (
        <div className="backup-key">
          <label htmlFor={keyId}>Recovery key</label>
          <input id={keyId} readOnly value={recoveryKey} spellCheck={false} onFocus={(e) => e.currentTarget.select()} />
          <p>Write it down or store it in a password manager now: it is shown only this once, and without it the backup cannot be opened.</p>
        </div>
      )}
      <div className="backup-relay">
        <input id={switchId} type="checkbox" role="switch" checked={backup?.relay ?? false} disabled={busy} onChange={(e) => setRelay(e.currentTarget.checked)} />
        <label htmlFor={switchId}>Keep a backup on the relay</label>
      </div>
      <p className="backup-hint">The relay sees only encrypted bytes; the recovery key alone fetches and opens them.</p>
      {saved && <p role="status">{saved}</p>}
      {error && (
        <p role="alert" className="backup-error">
          {error}
        </p>
      )}
    </Dialog>
  );
}
