import { useCallback, useState } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { contactName } from '../contact-name.ts';
import './contact.css';

export interface DeleteConversationDialogProps {
  readonly contactId: string;
  readonly onClose: () => void;
  /** The conversation is gone (the chat it showed should close). */
  readonly onDeleted: () => void;
}

/** The confirmation before a conversation and its history are deleted from this device. */
export function DeleteConversationDialog({ contactId, onClose, onDeleted }: DeleteConversationDialogProps) {
  const messenger = useMessenger();
  const contact = useMessengerState(useCallback((s: MessengerState) => s.contacts.find((c) => c.id === contactId), [contactId]));
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const name = contact ? contactName(contact) : 'this contact';
  const confirm = () => {
    setBusy(true);
    setFailed(false);
    messenger.deleteConversation(contactId).then(onDeleted, () => {
      setFailed(true);
      setBusy(false);
    });
  };
  return (
    <Dialog title={`Delete your conversation with ${name}?`} onClose={onClose} className="delete-dialog">
      <p>
        Every message with <bdi>{name}</bdi> is deleted from this device, with messages not sent yet, and <bdi>{name}</bdi> leaves your
        conversations. They are not told. If they write again, it shows as a message request.
      </p>
      {failed && (
        <p role="alert" className="field-error">
          Nothing was deleted: the conversation could not be deleted. Try again.
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="danger" onClick={confirm} disabled={busy}>
          Delete conversation
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
