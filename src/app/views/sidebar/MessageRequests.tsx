import type { ContactView } from '../../../core/messenger/messenger-api.ts';
import { useRequestDecision } from '../../hooks/useRequestDecision.ts';
import { contactName } from '../contact-name.ts';
import { preview } from './contact-label.ts';

export interface MessageRequestsProps {
  /** Contacts that wrote first and are not accepted yet. */
  readonly requests: readonly ContactView[];
  readonly activeId?: string;
  readonly onOpen: (contactId: string) => void;
}

/**
 * People who added you from your invite and wrote first: each with its first message,
 * **Accept** (into the conversations; replies and read receipts may go) and **Block**
 * (its messages are dropped, nothing tells them). Nothing shows while there is none.
 */
export function MessageRequests({ requests, activeId, onOpen }: MessageRequestsProps) {
  const { busy, failed, accept, block } = useRequestDecision();
  if (requests.length === 0) return null;
  return (
    <section className="message-requests" aria-labelledby="message-requests-title">
      <h2 id="message-requests-title">Message requests</h2>
      <p className="message-requests-hint">They added you from your invite. They don’t know whether you have read their messages until you accept.</p>
      <ul>
        {requests.map((c) => (
          <li key={c.id} className="message-request">
            <div role="group" aria-label={`Request from ${contactName(c)}`}>
              <button type="button" className="contact" data-contact-id={c.id} aria-current={c.id === activeId ? 'true' : undefined} onClick={() => onOpen(c.id)}>
                <span className="contact-top">
                  <span className="contact-name" dir="auto">
                    {contactName(c)}
                  </span>
                  {c.keyChanged && <span className="badge badge-warning">Different key: not your contact</span>}
                </span>
                {c.lastMessage && (
                  <span className="contact-preview">
                    <bdi dir="auto">{preview(c.lastMessage.text)}</bdi>
                  </span>
                )}
              </button>
              <div className="message-request-actions">
                <button type="button" disabled={busy === c.id} onClick={() => accept(c.id)}>
                  Accept
                </button>
                <button type="button" disabled={busy === c.id} onClick={() => block(c.id)}>
                  Block
                </button>
              </div>
              {failed === c.id && (
                <p role="alert" className="field-error">
                  That did not work. Try again.
                </p>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
