import { useCallback, useId, useState, type FormEvent } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { contactName } from '../contact-name.ts';
import './contact.css';

/** The longest local name (the core refuses longer ones). */
const NAME_MAX = 64;

export interface RenameContactDialogProps {
  readonly contactId: string;
  readonly onClose: () => void;
}

/** Gives a contact a name of the user's own (shown instead of theirs); an empty name shows theirs again. */
export function RenameContactDialog({ contactId, onClose }: RenameContactDialogProps) {
  const messenger = useMessenger();
  const contact = useMessengerState(useCallback((s: MessengerState) => s.contacts.find((c) => c.id === contactId), [contactId]));
  const [name, setName] = useState(() => (contact?.profileName !== undefined ? contact.displayName : ''));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const inputId = useId();
  const hintId = useId();
  const theirs = contact ? (contact.profileName ?? contactName({ ...contact, nameDetail: undefined })) : 'this contact';
  const save = (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    messenger.renameContact(contactId, name).then(onClose, () => {
      setError('The name could not be saved. Try again.');
      setBusy(false);
    });
  };
  return (
    <Dialog title={`Rename ${theirs}`} onClose={onClose} className="rename-dialog">
      <form onSubmit={save}>
        <label htmlFor={inputId}>Name for this contact</label>
        <input id={inputId} value={name} maxLength={NAME_MAX} autoComplete="off" dir="auto" aria-describedby={hintId} onChange={(e) => setName(e.target.value)} />
        <p id={hintId} className="rename-hint">
          Only you see it. Leave it empty to show the name they chose (<bdi>{theirs}</bdi>).
        </p>
        {error && (
          <p role="alert" className="field-error">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="submit" disabled={busy}>
            Save name
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
