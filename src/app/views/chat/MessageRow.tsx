import { memo, useState } from 'react';
import type { MessageView } from '../../../core/messenger/messenger-api.ts';
import { useMessenger } from '../../messenger-context.tsx';
import { formatBytes, formatMessageTime } from '../../components/format.ts';
import { MessageText } from '../../components/MessageText.tsx';
import { STATUS_ICON, STATUS_TEXT } from './message-status.ts';

export interface MessageRowProps {
  readonly message: MessageView;
  readonly peerName: string;
  /** 1-based position among all loaded messages (the DOM holds only a window of them). */
  readonly position: number;
  /** All messages of the chat, or -1 while older ones are still to be loaded. */
  readonly count: number;
  readonly now: number;
}

/** One message: its text (text nodes and safe links), time, and for ours the delivery status. */
export const MessageRow = memo(function MessageRow({ message, peerName, position, count, now }: MessageRowProps) {
  const messenger = useMessenger();
  const [retrying, setRetrying] = useState(false);
  const ours = message.direction === 'out';
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
      className={`message message-${message.direction}`}
      data-row-id={message.id}
      data-status={message.status}
      aria-posinset={position}
      aria-setsize={count}
    >
      <div className="message-bubble">
        <span className="visually-hidden">{ours ? 'You: ' : `${peerName}: `}</span>
        {message.attachment && (
          <p className="message-attachment">
            File: {message.attachment.name} ({formatBytes(message.attachment.size)}). This version of Petrel cannot open files yet; it keeps the file&apos;s key so a later one can.
          </p>
        )}
        {(message.text || !message.attachment) && <MessageText className="message-text" text={message.text} />}
        <p className="message-meta">
          <time dateTime={new Date(message.at).toISOString()}>{formatMessageTime(message.at, now)}</time>
          {ours && (
            <span className="message-status" title={message.via ? `${STATUS_TEXT[message.status]} · ${message.via}` : STATUS_TEXT[message.status]}>
              <span className="message-status-icon" aria-hidden="true">
                {STATUS_ICON[message.status]}
              </span>
              <span className="visually-hidden">{STATUS_TEXT[message.status]}</span>
            </span>
          )}
        </p>
        {message.status === 'failed' && (
          <div className="message-failure">
            <p>Not sent: {message.failure ?? 'the message could not be delivered'}</p>
            <button type="button" onClick={retry} disabled={retrying}>
              Retry
            </button>
          </div>
        )}
      </div>
    </div>
  );
});
