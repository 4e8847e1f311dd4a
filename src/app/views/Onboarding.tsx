import { useId, useState, type FormEvent } from 'react';
import './onboarding.css';

export interface OnboardingProps {
  /** Creates the identity; a rejection is shown and the user may try again. */
  onCreate?: (displayName: string) => Promise<void> | void;
  /** Someone's invite was opened before this device had an identity. */
  invitedBy?: string;
}

/** Longest display name in UTF-8 bytes, as the core checks it (an invite carries it). */
export const MAX_DISPLAY_NAME_BYTES = 64;

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

/** First screen: choose a display name; the identity is created from it. */
export function Onboarding({ onCreate, invitedBy }: OnboardingProps) {
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
  );
}
