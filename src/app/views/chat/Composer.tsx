import { useId, useState, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_MESSAGE_TEXT_BYTES, messageTextBytes } from '../../../core/messenger/message-text-limit.ts';
import { useMessenger } from '../../messenger-context.tsx';
import { useUi, useUiStore } from '../../ui-store.ts';

export interface ComposerProps {
  readonly contactId: string;
  /** Why sending is not possible right now (Send is disabled and this is shown). */
  readonly blockedReason?: string;
}

const count = new Intl.NumberFormat('en');

/** What the composer says about a draft over the limit `send` enforces (UTF-8 bytes). */
export function tooLongText(bytes: number): string {
  return (
    `This message is too long to send: a message can hold up to ${count.format(MAX_MESSAGE_TEXT_BYTES)} bytes of text ` +
    `(about ${count.format(MAX_MESSAGE_TEXT_BYTES)} letters of English, a third as many in Chinese, Hindi or emoji), ` +
    `and this one has ${count.format(bytes)}. Shorten it or split it into several messages.`
  );
}

/**
 * The message field: Enter sends, Shift+Enter starts a new line; blank messages are
 * not sent, nor are texts over the size limit (said in words; the draft stays). The draft
 * lives in the UI store, so it survives switching chats.
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
  const bytes = messageTextBytes(text);
  const tooLong = bytes > MAX_MESSAGE_TEXT_BYTES;

  const send = () => {
    if (!canSend) return;
    // Refused here, before it is queued: the core would refuse it too, and no retry could help.
    if (tooLong) {
      setError(tooLongText(bytes));
      return;
    }
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

  const note = blockedReason ?? error ?? (tooLong ? tooLongText(bytes) : undefined);
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
          aria-invalid={tooLong || undefined}
          onChange={(e) => {
            if (error) setError(undefined);
            ui.getState().setDraft(contactId, e.target.value);
          }}
          onKeyDown={onKeyDown}
        />
        <button type="submit" className="composer-send" disabled={!canSend}>
          Send
        </button>
      </div>
    </form>
  );
}
