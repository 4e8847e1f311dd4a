import { useId, useState, type FormEvent } from 'react';
import './onboarding.css';

export interface OnboardingProps {
  /** Creates the identity; a rejection is shown and the user may try again. */
  onCreate?: (displayName: string) => Promise<void> | void;
  /** Someone's invite was opened before this device had an identity. */
  invitedBy?: string;
}

/** Longest display name (an invite carries at most 64 bytes of it). */
export const MAX_DISPLAY_NAME_CHARS = 64;

/** First screen: choose a display name; the identity is created from it. */
export function Onboarding({ onCreate, invitedBy }: OnboardingProps) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const fieldId = useId();
  const trimmed = name.trim();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!trimmed || busy) return;
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
      <input id={fieldId} value={name} maxLength={MAX_DISPLAY_NAME_CHARS} autoComplete="nickname" onChange={(e) => setName(e.target.value)} />
      {error && (
        <p role="alert" className="onboarding-error">
          {error}
        </p>
      )}
      <button type="submit" disabled={!trimmed || busy}>
        {busy ? 'Creating identity…' : 'Create identity'}
      </button>
    </form>
  );
}
