import { useId, useMemo, useState, type FormEvent } from 'react';
import type { MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useOpenChat } from '../../hooks/useOpenChat.ts';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { contactName } from '../contact-name.ts';
import { groupErrorText } from './group-errors.ts';
import { groupCandidates } from './group-members.ts';
import { MemberPicker } from './MemberPicker.tsx';
import './groups.css';

/** The longest group name the core accepts (trimmed). */
export const GROUP_NAME_MAX = 64;

const selectContacts = (s: MessengerState) => s.contacts;

/**
 * **New group**: a **Group name**, one checkbox per contact that can be in a group, and
 * **Create group**. On success the dialog closes and the new group's chat opens; a refusal
 * is said in words and nothing changes.
 */
export function NewGroupDialog({ onClose }: { readonly onClose: () => void }) {
  const messenger = useMessenger();
  const open = useOpenChat();
  const contacts = useMessengerState(selectContacts);
  const candidates = useMemo(() => groupCandidates(contacts), [contacts]);
  const [name, setName] = useState('');
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const nameId = useId();
  const errorId = useId();
  const create = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    // Only ids still among the candidates (a contact may have been blocked meanwhile).
    const members = candidates.filter((c) => chosen.has(c.id)).map((c) => c.id);
    if (trimmed === '') return setError('Give the group a name.');
    if (members.length === 0) return setError('Choose at least one contact to be in the group.');
    setBusy(true);
    setError(undefined);
    messenger.createGroup(trimmed, members).then(
      (groupId) => {
        onClose();
        open(groupId);
      },
      (err: unknown) => {
        setError(groupErrorText(err, 'The group could not be created. Try again.'));
        setBusy(false);
      },
    );
  };
  return (
    <Dialog title="New group" onClose={onClose} className="group-dialog">
      <form onSubmit={create} noValidate>
        <label htmlFor={nameId}>Group name</label>
        <input
          id={nameId}
          value={name}
          maxLength={GROUP_NAME_MAX}
          autoComplete="off"
          dir="auto"
          aria-invalid={error !== undefined && name.trim() === '' ? true : undefined}
          aria-describedby={error ? errorId : undefined}
          onChange={(e) => setName(e.target.value)}
        />
        {candidates.length === 0 ? (
          <p className="group-note">A group is made of your contacts: add a contact first, then make a group with them.</p>
        ) : (
          <MemberPicker legend="Members" candidates={candidates} chosen={chosen} onChange={setChosen} name={contactName} />
        )}
        {error && (
          <p id={errorId} role="alert" className="field-error">
            {error}
          </p>
        )}
        <div className="dialog-actions">
          <button type="submit" className="button-primary" disabled={busy || candidates.length === 0}>
            {busy ? 'Creating group…' : 'Create group'}
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
