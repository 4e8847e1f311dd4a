import { memo, useCallback, useMemo, useState } from 'react';
import type { MessageView, MessengerState } from '../../../core/messenger/messenger-api.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { formatBytes, formatMessageTime } from '../../components/format.ts';
import { MessageText } from '../../components/MessageText.tsx';
import { partlyNotSentText, STATUS_ICON, statusText } from './message-status.ts';
import { useUiStore } from '../../ui-store.ts';
import { MessageActionsMenu } from './MessageActionsMenu.tsx';
import { MessageExtras } from './MessageExtras.tsx';
import { saveFile } from './save-file.ts';
import { TransferProgress } from './TransferProgress.tsx';
import { isUnreadIncoming } from '../../hooks/useReadOnSight.ts';

export interface MessageRowProps {
  readonly message: MessageView;
  readonly peerName: string;
  /** 1-based position among all loaded messages (the DOM holds only a window of them). */
  readonly position: number;
  /** All messages of the chat, or -1 while older ones are still to be loaded. */
  readonly count: number;
  readonly now: number;
  /** The first unread message when the chat opened: shown under an "Unread messages" divider. */
  readonly unreadDivider?: boolean;
  /** In a group's chat (the sender is the message's own). */
  readonly group?: boolean;
  /** Nothing can be sent in this chat (a group we left): only Delete for me and Details are offered. */
  readonly readOnly?: boolean;
  /** Show the sender's name above the bubble (the first of a run of messages from one member). */
  readonly showSender?: boolean;
}

/** A picture's tiny preview as a data: URL typed as a JPEG (an <img> runs no script, whatever the bytes). */
function previewUrl(preview: Uint8Array): string {
  let bin = '';
  for (const b of preview) bin += String.fromCharCode(b);
  return `data:image/jpeg;base64,${btoa(bin)}`;
}

/** One message: its text (text nodes and safe links), time, and for ours the delivery status. */

export const MessageRow = memo(function MessageRow(props: MessageRowProps) {
  const { message, position, count, unreadDivider } = props;
  // A line about the conversation (a group's "Ada added Bo", a contact's "Ada added a device") is no bubble: a line of its own, centred, with no status or actions.
  if (message.system) {
    return (
      <div role="listitem" className={`message message-system${unreadDivider ? ' message-after-divider' : ''}`} data-row-id={message.id} aria-posinset={position} aria-setsize={count}>
        {unreadDivider && (
          <p className="message-divider">
            <span>Unread messages</span>
          </p>
        )}
        <p className="message-system-text" dir="auto">
          {message.text}
        </p>
      </div>
    );
  }
  return <MessageBubbleRow {...props} />;
});

const selectMultiDevice = (s: MessengerState) => (s.chat?.devices?.length ?? 0) > 1;
const selectDevices = (s: MessengerState) => s.chat?.devices;

const MessageBubbleRow = function MessageBubbleRow({ message, peerName: contactPeerName, position, count, now, unreadDivider, readOnly = false, showSender = false }: MessageRowProps) {
  const peerName = message.senderName ?? contactPeerName;
  const messenger = useMessenger();
  const [retrying, setRetrying] = useState(false);
  const ours = message.direction === 'out';
  const selectTransfer = useCallback((s: MessengerState) => s.transfers?.find((t) => t.messageId === message.id), [message.id]);
  const transfer = useMessengerState(selectTransfer);
  // A 1:1 chat with a contact of several devices: our messages offer Details (each device's state).
  const multiDevice = useMessengerState(selectMultiDevice);
  // Devices whose copy was given up on, among those the contact still lists (an unlinked one's copy would be refused anyway).
  const devices = useMessengerState(selectDevices);
  const notSentTo = useMemo(() => (devices ? message.failedDevices?.filter((id) => devices.some((d) => d.id === id)) : message.failedDevices) ?? [], [devices, message.failedDevices]);
  // A copy to the contact's account mailbox given up on counts as one more device not sent to.
  const notSentCount = notSentTo.length + (message.failedAccountCopy ? 1 : 0);
  const [downloading, setDownloading] = useState(false);
  const file = message.attachment;
  const preview = file?.mime.startsWith('image/') ? file.preview : undefined;
  const previewSrc = useMemo(() => (preview ? previewUrl(preview) : undefined), [preview]);
  const download = () => {
    if (!file) return;
    setDownloading(true);
    messenger
      .downloadAttachment(message.id)
      .then((blob) => saveFile(document, blob, file.name))
      // The failure shows in the row through its transfer.
      .catch(() => undefined)
      .finally(() => setDownloading(false));
  };
  const cancel = () => void messenger.cancelTransfer(message.id).catch(() => undefined);
  const ui = useUiStore();
  const [actionError, setActionError] = useState<string>();
  const attempt = (p: Promise<void>) => {
    setActionError(undefined);
    p.catch((err: unknown) => setActionError(err instanceof Error ? err.message : 'That did not work. Please try again.'));
  };
  const excerpt = message.text || file?.name || '';
  const target = (kind: 'reply' | 'edit') => {
    ui.getState().setComposeTarget(message.contactId, { kind, messageId: message.id, excerpt });
    if (kind === 'edit') ui.getState().setDraft(message.contactId, message.text);
    document.querySelector<HTMLTextAreaElement>('.composer-field')?.focus();
  };
  const retry = () => {
    setRetrying(true);
    messenger
      .retry(message.id)
      .catch(() => undefined)
      .finally(() => setRetrying(false));
  };
  return (
    <div
      role="listitem"
      className={`message message-${message.direction}${unreadDivider ? ' message-after-divider' : ''}`}
      data-row-id={message.id}
      data-status={message.status}
      data-unread={isUnreadIncoming(message) ? '' : undefined}
      aria-posinset={position}
      aria-setsize={count}
    >
      {unreadDivider && (
        <p className="message-divider">
          <span>Unread messages</span>
        </p>
      )}
      <div className="message-bubble">
        {showSender && (
          <p className="message-sender" aria-hidden="true" dir="auto">
            {peerName}
          </p>
        )}
        <span className="visually-hidden">{ours ? 'You: ' : `${peerName}: `}</span>
        {file && (
          <div className="message-attachment">
            {previewSrc && <img className="message-preview" src={previewSrc} alt={`Preview of ${file.name}`} width={64} height={64} />}
            <p className="message-attachment-name">
              File: {file.name} ({formatBytes(file.size)}
              {file.mime ? `, ${file.mime}` : ''})
            </p>
            {transfer && <TransferProgress transfer={transfer} onCancel={cancel} onRetry={download} />}
            {/* Download, unless the file is moving or a Retry continues it. */}
            {!ours && !(transfer && (!transfer.failure || transfer.retryable)) && (
              <button type="button" onClick={download} disabled={downloading}>
                Download
              </button>
            )}
          </div>
        )}
        {message.quote && (
          <blockquote className="message-quote" cite={`#${message.quote.id}`}>
            <span className="visually-hidden">In reply to: </span>
            {message.quote.text ? <span dir="auto">{message.quote.text}</span> : <span className="message-deleted">This message was deleted</span>}
          </blockquote>
        )}
        {message.deleted ? (
          <p className="message-text message-deleted">This message was deleted</p>
        ) : (
          (message.text || !message.attachment) && <MessageText className="message-text" text={message.text} />
        )}
        <MessageExtras message={message} peerName={peerName} />
        <p className="message-meta">
          <time dateTime={new Date(message.at).toISOString()}>{formatMessageTime(message.at, now)}</time>
          {ours && (
            <span className="message-status" title={message.via ? `${statusText(message)} · ${message.via}` : statusText(message)}>
              <span className="message-status-icon" aria-hidden="true">
                {STATUS_ICON[message.status]}
              </span>
              <span className="visually-hidden">{statusText(message)}</span>
            </span>
          )}
        </p>
        {actionError && (
          <p className="message-action-error" role="alert">
            {actionError}
          </p>
        )}
        {message.status === 'failed' && (
          <div className="message-failure">
            <p>Not sent: {message.failure ?? 'the message could not be delivered'}</p>
            <button type="button" onClick={retry} disabled={retrying}>
              Retry
            </button>
          </div>
        )}
        {ours && message.status !== 'failed' && notSentCount > 0 && (
          // Sent to one of the contact's devices, or still going to it, and given up on for others: they never got it.
          <div className="message-failure">
            <p>{partlyNotSentText(message, notSentCount, peerName)}</p>
            <button type="button" onClick={retry} disabled={retrying}>
              Retry
            </button>
          </div>
        )}
      </div>
      <MessageActionsMenu
        message={message}
        readOnly={readOnly}
        {...(message.memberStatus || (ours && multiDevice) ? { onDetails: () => ui.getState().openDialog({ kind: 'message-details', messageId: message.id }) } : {})}
        onReply={() => target('reply')}
        onEdit={() => target('edit')}
        onDeleteForEveryone={() => ui.getState().openDialog({ kind: 'delete-for-everyone', messageId: message.id })}
        onDeleteForMe={() => attempt(messenger.deleteForMe(message.id))}
        onReact={(emoji) => attempt(messenger.react(message.id, emoji))}
      />
    </div>
  );
};
