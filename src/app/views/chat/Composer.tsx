import { useCallback, useId, useState, type ChangeEvent, type DragEvent, type FormEvent, type KeyboardEvent } from 'react';
import { MAX_MESSAGE_TEXT_BYTES, messageTextBytes } from '../../../core/messenger/message-text-limit.ts';
import type { MessengerState, TransferView } from '../../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { useUi, useUiStore } from '../../ui-store.ts';
import { picturePreview } from './picture-preview.ts';
import { TransferProgress } from './TransferProgress.tsx';

const NO_TRANSFERS: readonly TransferView[] = [];
const sameList = (a: readonly TransferView[], b: readonly TransferView[]) => a.length === b.length && a.every((t, i) => t === b[i]);

export interface ComposerProps {
  readonly contactId: string;
  /** Why sending is not possible right now (Send is disabled and this is shown). */
  readonly blockedReason?: string;
  /** Files may be attached (not in a group yet). */
  readonly files?: boolean;
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
 * **Attach file** sends each chosen file; until its message is queued, its upload shows
 * here (a progressbar named after the file, Cancel), and a refusal (too large) as an alert.
 */
export function Composer({ contactId, blockedReason, files: canAttach = true }: ComposerProps) {
  const messenger = useMessenger();
  const ui = useUiStore();
  const draft = useUi((s) => s.drafts[contactId] ?? '');
  const target = useUi((s) => s.composeTargets[contactId]);
  const [error, setError] = useState<string>();
  const fieldId = useId();
  const noteId = useId();
  const text = draft.trim();
  const canSend = !blockedReason && text !== '';
  const bytes = messageTextBytes(text);
  const tooLong = bytes > MAX_MESSAGE_TEXT_BYTES;
  const attachId = useId();
  const selectUploads = useCallback(
    (s: MessengerState) => s.transfers?.filter((t) => t.direction === 'up' && t.contactId === contactId) ?? NO_TRANSFERS,
    [contactId],
  );
  const uploads = useMessengerState(selectUploads, sameList);

  const attach = (e: ChangeEvent<HTMLInputElement>) => {
    const files = [...(e.target.files ?? [])];
    e.target.value = '';
    sendFiles(files);
  };
  // Files dropped on the composer are sent like chosen ones.
  const onDragOver = (e: DragEvent) => {
    if (blockedReason || !canAttach || !e.dataTransfer.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  };
  const onDrop = (e: DragEvent) => {
    if (blockedReason || !canAttach) return;
    const files = [...(e.dataTransfer.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    sendFiles(files);
  };
  const sendFiles = (files: readonly File[]) => {
    setError(undefined);
    for (const f of files) {
      void picturePreview(f)
        .then((preview) => messenger.sendFile(contactId, f, { name: f.name, ...(preview ? { preview } : {}) }))
        .catch((err: unknown) => {
        const kind = (err as { kind?: unknown } | null)?.kind;
        // A refusal in words (too large, a bad name) is shown as it is; a failed upload shows in its transfer.
        if (kind === 'file_too_large' || kind === 'invalid_file') setError(err instanceof Error ? err.message : 'The file cannot be sent.');
        else if (kind !== 'cancelled' && kind !== 'refused' && kind !== 'network' && kind !== 'lost') setError(`${f.name} could not be sent. Please try again.`);
      });
    }
  };

  const send = () => {
    if (!canSend) return;
    // Refused here, before it is queued: the core would refuse it too, and no retry could help.
    if (tooLong) {
      setError(tooLongText(bytes));
      return;
    }
    ui.getState().setDraft(contactId, '');
    ui.getState().setComposeTarget(contactId, undefined);
    setError(undefined);
    const giveBack = (err: unknown, fallback: string) => {
      const kind = (err as { kind?: unknown } | null)?.kind;
      // Kept by the keypress journal, shown as not saved yet and tried again: giving it back would send it twice.
      if (kind === 'send_postponed') return;
      // Not done: give the text (and what it replied to or edited) back. A message's text
      // goes before anything typed meanwhile, so neither is lost; an edit comes back only
      // into an empty field (the message itself is unchanged).
      const typed = ui.getState().drafts[contactId];
      if (!typed) {
        ui.getState().setDraft(contactId, draft);
        if (target) ui.getState().setComposeTarget(contactId, target);
      } else if (target?.kind !== 'edit') {
        ui.getState().setDraft(contactId, `${draft}\n${typed}`);
      }
      setError(kind === 'action_refused' && err instanceof Error ? `${err.message[0]!.toUpperCase()}${err.message.slice(1)}.` : fallback);
    };
    if (target?.kind === 'edit') {
      messenger.editMessage(target.messageId, text).catch((err: unknown) => giveBack(err, 'The edit could not be saved. Please try again.'));
      return;
    }
    messenger
      .send(contactId, text, target ? { replyTo: target.messageId } : {})
      .catch((err: unknown) => giveBack(err, 'The message could not be saved for sending. Please try again.'));
  };
  const cancelTarget = () => {
    if (target?.kind === 'edit') ui.getState().setDraft(contactId, '');
    ui.getState().setComposeTarget(contactId, undefined);
    document.getElementById(fieldId)?.focus();
  };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    send();
  };
  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape' && target) {
      e.preventDefault();
      cancelTarget();
      return;
    }
    if (e.key !== 'Enter' || e.shiftKey || e.nativeEvent.isComposing) return;
    e.preventDefault();
    send();
  };

  const note = blockedReason ?? error ?? (tooLong ? tooLongText(bytes) : undefined);
  return (
    <form className="composer" onSubmit={onSubmit} onDragOver={onDragOver} onDrop={onDrop}>
      {note && (
        <p id={noteId} className="composer-note" role={error && !blockedReason ? 'alert' : undefined}>
          {note}
        </p>
      )}
      {target && (
        <div className="composer-target">
          <p>
            {target.kind === 'reply' ? 'Replying to: ' : 'Editing: '}
            <span dir="auto">{target.excerpt}</span>
          </p>
          <button type="button" onClick={cancelTarget}>
            {target.kind === 'reply' ? 'Cancel reply' : 'Cancel edit'}
          </button>
        </div>
      )}
      {uploads.length > 0 && (
        <ul className="composer-uploads" aria-label="Files being sent">
          {uploads.map((t) => (
            <li key={t.messageId}>
              <span className="composer-upload-name">{t.name}</span>
              <TransferProgress
                transfer={t}
                onCancel={() => void messenger.cancelTransfer(t.messageId).catch(() => undefined)}
                onRetry={() => void messenger.retry(t.messageId).catch(() => undefined)}
              />
            </li>
          ))}
        </ul>
      )}
      <div className="composer-row">
        {/* The icon is the visible, clickable face; the input carries the name. */}
        {canAttach && (
          <>
            <label htmlFor={attachId} className="composer-attach" aria-hidden="true" title="Attach file">
              📎
            </label>
            <input id={attachId} type="file" multiple aria-label="Attach file" className="composer-attach-input" disabled={!!blockedReason} onChange={attach} />
          </>
        )}
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
          {target?.kind === 'edit' ? 'Save edit' : 'Send'}
        </button>
      </div>
    </form>
  );
}
