import { useCallback } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useMessengerState } from '../../messenger-context.tsx';
import { STATUS_TEXT } from '../chat/message-status.ts';
import './groups.css';

/**
 * One of our group messages: its status (the weakest of the members') and, per member,
 * whether it was delivered to them and read. Follows the live state while open.
 */
export function MessageDetailsDialog({ messageId, onClose }: { readonly messageId: string; readonly onClose: () => void }) {
  const message = useMessengerState(useCallback((s: MessengerState) => s.chat?.messages.find((m) => m.id === messageId), [messageId]));
  return (
    <Dialog title="Message details" onClose={onClose} className="group-dialog">
      {!message ? (
        <p>This message is no longer here.</p>
      ) : (
        <>
          <p className="group-details-text" dir="auto">
            {message.text}
          </p>
          <p>
            Status: <strong>{STATUS_TEXT[message.status]}</strong>
            {message.memberStatus && message.memberStatus.length > 1 && ' (shown for the member it reached least)'}
          </p>
          {message.memberStatus && (
            <ul className="group-member-status" aria-label="Delivery to each member">
              {message.memberStatus.map((m) => (
                <li key={m.id} data-status={m.status}>
                  <bdi dir="auto">{m.name}</bdi>: {STATUS_TEXT[m.status]}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Dialog>
  );
}
