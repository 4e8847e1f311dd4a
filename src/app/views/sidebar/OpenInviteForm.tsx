import { useId, useState, type FormEvent } from 'react';
import { readInviteUrl } from '../../../core/messenger/invite.ts';
import { INVITE_LINK_DAMAGED } from '../invite/invite-text.ts';
import { useMessenger } from '../../messenger-context.tsx';
import { useUiStore } from '../../ui-store.ts';

/** For invite links received as text: paste one to review it (same as opening it). */
export function OpenInviteForm() {
  const messenger = useMessenger();
  const ui = useUiStore();
  const fieldId = useId();
  const errorId = useId();
  const [url, setUrl] = useState('');
  const [error, setError] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const invite = messenger.parseInvite(url.trim());
    if (!invite) {
      setError(readInviteUrl(url.trim()).kind === 'invalid' ? INVITE_LINK_DAMAGED : 'That is not a Petrel invite link.');
      return;
    }
    setError('');
    setUrl('');
    ui.getState().reviewInvite(invite);
    ui.getState().showPane('chat');
  };
  return (
    <form className="open-invite" onSubmit={submit}>
      <label htmlFor={fieldId}>Paste an invite link</label>
      <div className="invite-row">
        <input
          id={fieldId}
          value={url}
          inputMode="url"
          autoComplete="off"
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          onChange={(e) => setUrl(e.target.value)}
        />
        <button type="submit" disabled={url.trim() === ''}>
          Open<span className="visually-hidden"> invite link</span>
        </button>
      </div>
      {error && (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
