import { useId, useState, type FormEvent } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';

const selectName = (s: MessengerState) => s.me?.displayName ?? '';
/** The core's limit is 64 bytes of UTF-8; 64 characters is the field's first guard. */
const MAX_CHARS = 64;

/** Your name: what new invites show and the identity row says. */
export function DisplayNameForm() {
  const messenger = useMessenger();
  const current = useMessengerState(selectName);
  const [name, setName] = useState(current);
  const [note, setNote] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const fieldId = useId();
  const hintId = useId();
  const errorId = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setNote('');
    setError('');
    if (name.trim() === '') {
      setError('Enter a name.');
      return;
    }
    setBusy(true);
    messenger
      .setDisplayName(name)
      .then(
        () => setNote('Saved. New invites show this name.'),
        () => setError('That name could not be saved: use at most 64 letters.'),
      )
      .finally(() => setBusy(false));
  };
  return (
    <form className="settings-group" onSubmit={submit}>
      <label htmlFor={fieldId}>Your name</label>
      <small id={hintId}>Shown in your invites. People who already have you keep the name they know.</small>
      <div className="invite-row">
        <input
          id={fieldId}
          value={name}
          maxLength={MAX_CHARS}
          autoComplete="nickname"
          aria-describedby={error ? `${hintId} ${errorId}` : hintId}
          aria-invalid={error ? true : undefined}
          onChange={(e) => setName(e.currentTarget.value)}
        />
        <button type="submit" disabled={busy || name.trim() === current}>
          Save<span className="visually-hidden"> name</span>
        </button>
      </div>
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
      <p role="status" className="settings-saved">
        {note}
      </p>
    </form>
  );
}
