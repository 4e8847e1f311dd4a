import { useState } from 'react';
import { Dialog } from '../../components/Dialog.tsx';
import { useMessenger } from '../../messenger-context.tsx';

export interface DeleteForEveryoneDialogProps {
  readonly messageId: string;
  readonly onClose: () => void;
}

/** The confirmation before a message is deleted for everyone (it cannot be undone). */
export function DeleteForEveryoneDialog({ messageId, onClose }: DeleteForEveryoneDialogProps) {
  const messenger = useMessenger();
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<string>();
  const confirm = () => {
    setBusy(true);
    setFailure(undefined);
    messenger.deleteForEveryone(messageId).then(onClose, (err: unknown) => {
      setFailure(err instanceof Error && err.message ? err.message : 'The message could not be deleted. Try again.');
      setBusy(false);
    });
  };
  return (
    <Dialog title="Delete this message for everyone?" onClose={onClose} className="delete-dialog">
      <p>The message is removed on every device in this conversation and shows as “This message was deleted”. This cannot be undone.</p>
      {failure && (
        <p role="alert" className="field-error">
          Nothing was deleted: {failure}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="danger" onClick={confirm} disabled={busy}>
          Delete for everyone
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Dialog>
  );
}
