import type { ContactView } from '../../../core/messenger/messenger-api.ts';
import { useRequestDecision } from '../../hooks/useRequestDecision.ts';
import { contactName } from '../contact-name.ts';

/** In a message request's own chat, in place of the composer: what it is, Accept and Block. */
export function RequestDecision({ contact }: { readonly contact: ContactView }) {
  const { busy, failed, accept, block } = useRequestDecision();
  const name = contactName(contact);
  return (
    <div className="chat-request" role="group" aria-label={`Request from ${name}`}>
      <p>
        <bdi>{name}</bdi> added you from your invite. Accept to reply; they don’t know whether you have read their messages until you
        do. Block drops what they send, and nothing tells them.
      </p>
      <div className="message-request-actions">
        <button type="button" disabled={busy === contact.id} onClick={() => accept(contact.id)}>
          Accept
        </button>
        <button type="button" disabled={busy === contact.id} onClick={() => block(contact.id)}>
          Block
        </button>
      </div>
      {failed === contact.id && (
        <p role="alert" className="field-error">
          That did not work. Try again.
        </p>
      )}
    </div>
  );
}
