import { useId, useState, type FormEvent } from 'react';
import { RestoreFromBackup, type RestoreFromBackupProps } from './RestoreFromBackup.tsx';
import './onboarding.css';

export interface OnboardingProps {
  /** Creates the identity; a rejection is shown and the user may try again. */
  onCreate?: (displayName: string) => Promise<void> | void;
  /** Someone's invite was opened before this device had an identity. */
  invitedBy?: string;
  /** Takes an existing account over a device link; a rejection (a typed link error) is shown. */
  onLink?: (linkText: string) => Promise<void> | void;
  /** A device link opened in the address bar: the link form is filled with it. */
  initialLink?: string;
  /** How far linking got (history arriving). */
  linking?: { readonly status: 'connecting' | 'receiving'; readonly contacts: number; readonly messages: number };
  /** Restores an account from a backup file (RestoreFromBackup.tsx). */
  onRestore?: RestoreFromBackupProps['onRestore'];
  /** Restores from the relay's copy with the recovery key alone. */
  onRestoreFromRelay?: RestoreFromBackupProps['onRestoreFromRelay'];
}

/** Longest display name in UTF-8 bytes, as the core checks it (an invite carries it). */
export const MAX_DISPLAY_NAME_BYTES = 64;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** First screen: choose a display name; the identity is created from it. */
export function Onboarding({ onCreate, invitedBy, onLink, initialLink, linking, onRestore, onRestoreFromRelay }: OnboardingProps) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const fieldId = useId();
  const trimmed = name.trim();
  const tooLong = utf8Length(trimmed) > MAX_DISPLAY_NAME_BYTES;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!trimmed || tooLong || busy) return;
    setBusy(true);
    setError('');
    Promise.resolve(onCreate?.(trimmed)).catch(() => {
      setBusy(false);
      setError('Your identity could not be created. Please try again.');
    });
  };
  return (
    <>
      <form className="onboarding" onSubmit={submit} aria-labelledby={`${fieldId}-title`}>
        <h2 id={`${fieldId}-title`}>Welcome to Petrel</h2>
        <p>Messages are end-to-end encrypted and wait safely on your device until they can be sent.</p>
        {invitedBy && (
          <p className="onboarding-invite">
            <strong>{invitedBy}</strong> invited you. Choose your name first; then you can add them.
          </p>
        )}
        <label htmlFor={fieldId}>Display name</label>
        <input
          id={fieldId}
          value={name}
          autoComplete="nickname"
          aria-invalid={tooLong || undefined}
          aria-describedby={tooLong ? `${fieldId}-length` : undefined}
          onChange={(e) => setName(e.target.value)}
        />
        {tooLong && (
          <p id={`${fieldId}-length`} className="onboarding-error" role="alert">
            This name is too long. It can have up to {MAX_DISPLAY_NAME_BYTES} plain letters; accented letters, other scripts and
            emoji take up more room (2 to 4 each), so shorten it a little.
          </p>
        )}
        {error && (
          <p role="alert" className="onboarding-error">
            {error}
          </p>
        )}
        <button type="submit" disabled={!trimmed || tooLong || busy}>
          {busy ? 'Creating identity…' : 'Create identity'}
        </button>
      </form>
      {onLink && <LinkExistingAccount key={initialLink ?? ''} onLink={onLink} initialLink={initialLink} linking={linking} />}
      {onRestore && <RestoreFromBackup onRestore={onRestore} onRestoreFromRelay={onRestoreFromRelay} />}
    </>
  );
}

/** The other way in: this browser becomes one more device of an account the user already has. */
function LinkExistingAccount({ onLink, initialLink, linking }: Required<Pick<OnboardingProps, 'onLink'>> & Pick<OnboardingProps, 'initialLink' | 'linking'>) {
  const [text, setText] = useState(initialLink ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const fieldId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim() || busy) return;
    setBusy(true);
    setError('');
    Promise.resolve(onLink(text.trim())).catch((err: unknown) => {
      setBusy(false);
      setError(`This device could not be linked: ${err instanceof Error && err.message ? err.message : 'please try again'}.`);
    });
  };
  return (
    <form className="onboarding onboarding-link" onSubmit={submit} aria-labelledby={`${fieldId}-title`}>
      <h2 id={`${fieldId}-title`}>Link to an existing account</h2>
      <p>On a device that already has your account, open Linked devices, choose Link a new device, and copy the link here (or open it on this device).</p>
      <label htmlFor={fieldId}>Device link</label>
      <input id={fieldId} value={text} autoComplete="off" spellCheck={false} onChange={(e) => setText(e.target.value)} />
      {busy && linking && (
        <p role="status" className="onboarding-progress">
          {linking.status === 'connecting' ? 'Reaching your other device…' : `Receiving your account: ${linking.contacts} contacts, ${linking.messages} messages…`}
        </p>
      )}
      {error && (
        <p role="alert" className="onboarding-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={!text.trim() || busy}>
        {busy ? 'Linking…' : 'Link this device'}
      </button>
    </form>
  );
}
