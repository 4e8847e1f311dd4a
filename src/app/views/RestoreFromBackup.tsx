import { useId, useState, type FormEvent } from 'react';
import { restoreFailure } from './backup/backup-text.ts';

export interface RestoreFromBackupProps {
  /** Restores from a backup file opened with its recovery key or passphrase; a rejection (a typed BackupError) is shown. */
  readonly onRestore: (backup: Uint8Array, secret: string) => Promise<void> | void;
  /** Restores from the copy the relay keeps under the recovery key alone. */
  readonly onRestoreFromRelay?: (recoveryKey: string) => Promise<void> | void;
}

/** The third way in: this browser restores an account from a backup and becomes a new device of it. */
export function RestoreFromBackup({ onRestore, onRestoreFromRelay }: RestoreFromBackupProps) {
  const [file, setFile] = useState<File | undefined>();
  const [key, setKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const id = useId();
  const run = (what: () => Promise<void> | void) => {
    setBusy(true);
    setError('');
    Promise.resolve()
      .then(what)
      .catch((err: unknown) => {
        setBusy(false);
        setError(restoreFailure(err));
      });
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!file || !key.trim() || busy) return;
    run(async () => onRestore(new Uint8Array(await file.arrayBuffer()), key.trim()));
  };
  return (
    <form className="onboarding onboarding-restore" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Restore from backup</h2>
      <p>Choose the backup file you downloaded and enter its recovery key (or its passphrase). Everything comes back on this browser, as a new device.</p>
      <label htmlFor={`${id}-file`}>Backup file</label>
      <input id={`${id}-file`} type="file" accept=".petrel,application/octet-stream" onChange={(e) => setFile(e.currentTarget.files?.[0])} />
      <label htmlFor={`${id}-key`}>Recovery key</label>
      <input id={`${id}-key`} value={key} autoComplete="off" spellCheck={false} onChange={(e) => setKey(e.currentTarget.value)} />
      {busy && (
        <p role="status" className="onboarding-progress">
          Restoring your account…
        </p>
      )}
      {error && (
        <p role="alert" className="onboarding-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={!file || !key.trim() || busy}>
        Restore
      </button>
      {onRestoreFromRelay && (
        <button type="button" disabled={!key.trim() || busy} onClick={() => run(() => onRestoreFromRelay(key.trim()))}>
          Use the copy kept on the relay
        </button>
      )}
    </form>
  );
}
