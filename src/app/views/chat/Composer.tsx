import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useMessenger } from '../../messenger-context.tsx';
import { useUi, useUiStore } from '../../ui-store.ts';

export interface ComposerProps {
  readonly contactId: string;
  /** Why sending is not possible right now (Send is disabled and this is shown). */
  readonly blockedReason?: string;
}

/**
 * The message field: Enter sends, Shift+Enter starts a new line; blank messages are
 * not sent. The draft lives in the UI store, so it survives switching chats.
 */
export function Composer({ contactId, blockedReason }: ComposerProps) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const draft = useUi((s) => s.drafts[contactId] ?? '');
  const [error, setError] = useState<string>();
  const fieldId = useId();
  const noteId = useId();
  const text = draft.trim();
  const canSend = !blockedReason && text !== '';

  const send = () => {
    if (!canSend) return;
    ui.getState().setDraft(contactId, '');
    setError(undefined);
    messenger.send(contactId, text).catch(() => {
      // Not queued: give the text back unless something new was typed meanwhile.
      if (!ui.getState().drafts[contactId]) ui.getState().setDraft(contactId, draft);
      setError('The message could not be saved for sending. Please try again.');
    });
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    send();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing) return;
    e.preventDefault();
    send();
  };

  const note = blockedReason ?? error;
  return (
    <form className="composer" onSubmit={onSubmit}>
      {note && (
        <p id={noteId} className="composer-note" role={error && !blockedReason ? 'alert' : undefined}>
          {note}
        </p>
      )}
      <div className="composer-row">
        <label htmlFor={fieldId} className="visually-hidden">
          Message
        </label>
        <textarea
          id={fieldId}
          className="composer-field"
          value={draft}
          rows={1}
          placeholder="Write a message"
          aria-describedby={note ? noteId : undefined}
          onChange={(e) => ui.getState().setDraft(contactId, e.target.value)}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="composer-send" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
