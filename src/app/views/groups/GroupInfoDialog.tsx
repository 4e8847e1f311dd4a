import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import type { GroupMemberView, GroupView, MessengerState } from '../../../core/messenger/messenger-api.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useMessenger, useMessengerState } from '../../messenger-context.tsx';
import { contactName } from '../contact-name.ts';
import { groupErrorText } from './group-errors.ts';
import { groupCandidates } from './group-members.ts';
import { MemberPicker } from './MemberPicker.tsx';
import { GROUP_NAME_MAX } from './NewGroupDialog.tsx';
import './groups.css';

/** What the dialog shows: the members, or one step of a change. */
type Mode = { readonly kind: 'members' } | { readonly kind: 'add' } | { readonly kind: 'rename' } | { readonly kind: 'leave' } | { readonly kind: 'remove'; readonly member: GroupMemberView };

const selectContacts = (s: MessengerState) => s.contacts;

/**
 * **Group info**: the member list (one list item per member, admins marked, a changed
 * safety number flagged); for admins **Add members** (a checkbox per contact not yet in
 * it), **Remove** per member (after a confirmation) and **Rename group**; for everyone
 * **Leave group** (after a confirmation). A group we left or were removed from only
 * shows who was in it.
 */
export function GroupInfoDialog({ groupId, onClose }: { readonly groupId: string; readonly onClose: () => void }) {
  const group = useMessengerState(useCallback((s: MessengerState) => s.groups?.find((g) => g.id === groupId), [groupId]));
  const [mode, setMode] = useState<Mode>({ kind: 'members' });
  const body = useRef<HTMLDivElement>(null);
  const first = useRef(true);
  // Each step takes focus as it appears (not the first view: the dialog itself has it then).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    body.current?.querySelector<HTMLElement>('h3, input, button')?.focus();
  }, [mode]);
  return (
    <Dialog title="Group info" onClose={onClose} className="group-dialog group-info">
      <div ref={body}>
        {!group ? (
          <p>This group is no longer here.</p>
        ) : mode.kind === 'members' ? (
          <Members group={group} onMode={setMode} />
        ) : mode.kind === 'add' ? (
          <AddMembers group={group} onDone={() => setMode({ kind: 'members' })} />
        ) : mode.kind === 'rename' ? (
          <Rename group={group} onDone={() => setMode({ kind: 'members' })} />
        ) : mode.kind === 'remove' ? (
          <ConfirmRemove group={group} member={mode.member} onDone={() => setMode({ kind: 'members' })} />
        ) : (
          <ConfirmLeave group={group} onCancel={() => setMode({ kind: 'members' })} onLeft={onClose} />
        )}
      </div>
    </Dialog>
  );
}

function Members({ group, onMode }: { readonly group: GroupView; readonly onMode: (m: Mode) => void }) {
  const listId = useId();
  const manage = group.admin && !group.left;
  return (
    <>
      <h3 className="group-info-name" tabIndex={-1} dir="auto">
        {group.name}
      </h3>
      {group.left && <p className="group-note">You are no longer in this group: you can read its history, nothing more.</p>}
      <h4 id={listId}>
        {group.members.length} {group.members.length === 1 ? 'member' : 'members'}
      </h4>
      <ul className="group-members" aria-labelledby={listId}>
        {group.members.map((m) => (
          <Member key={m.id} member={m} canRemove={manage && !m.me} onRemove={() => onMode({ kind: 'remove', member: m })} />
        ))}
      </ul>
      <div className="dialog-actions">
        {manage && (
          <button type="button" onClick={() => onMode({ kind: 'add' })}>
            Add members
          </button>
        )}
        {manage && (
          <button type="button" onClick={() => onMode({ kind: 'rename' })}>
            Rename group
          </button>
        )}
        {!group.left && (
          <button type="button" className="danger" onClick={() => onMode({ kind: 'leave' })}>
            Leave group
          </button>
        )}
      </div>
    </>
  );
}

function Member({ member, canRemove, onRemove }: { readonly member: GroupMemberView; readonly canRemove: boolean; readonly onRemove: () => void }) {
  const nameId = useId();
  return (
    <li className="group-member">
      <span id={nameId} className="group-member-name" dir="auto">
        {member.me ? 'You' : member.name}
      </span>
      {member.admin && <span className="badge">Admin</span>}
      {member.keyChanged && <span className="badge badge-warning">Safety number changed</span>}
      {canRemove && (
        <button type="button" className="group-member-remove" aria-describedby={nameId} onClick={onRemove}>
          Remove
        </button>
      )}
    </li>
  );
}

function useAttempt() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = (p: () => Promise<void>, fallback: string, done: () => void) => {
    setBusy(true);
    setError(undefined);
    p().then(done, (err: unknown) => {
      setError(groupErrorText(err, fallback));
      setBusy(false);
    });
  };
  return { busy, error, setError, run };
}

function ErrorLine({ error }: { readonly error?: string }) {
  return error ? (
    <p role="alert" className="field-error">
      {error}
    </p>
  ) : null;
}

function AddMembers({ group, onDone }: { readonly group: GroupView; readonly onDone: () => void }) {
  const messenger = useMessenger();
  const contacts = useMessengerState(selectContacts);
  const candidates = useMemo(() => groupCandidates(contacts, group), [contacts, group]);
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set());
  const { busy, error, setError, run } = useAttempt();
  const add = (e: FormEvent) => {
    e.preventDefault();
    const ids = candidates.filter((c) => chosen.has(c.id)).map((c) => c.id);
    if (ids.length === 0) return setError('Choose at least one contact to add.');
    run(() => messenger.addGroupMembers(group.id, ids), 'Nobody was added: try again.', onDone);
  };
  return (
    <form onSubmit={add}>
      <h3 tabIndex={-1}>
        Add members to <bdi dir="auto">{group.name}</bdi>
      </h3>
      {candidates.length === 0 ? (
        <p className="group-note">All your contacts are in this group already. Add a contact first to invite someone new.</p>
      ) : (
        <MemberPicker legend="Contacts not in the group" candidates={candidates} chosen={chosen} onChange={setChosen} name={contactName} />
      )}
      <ErrorLine error={error} />
      <div className="dialog-actions">
        <button type="submit" className="button-primary" disabled={busy || candidates.length === 0}>
          Add members
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Rename({ group, onDone }: { readonly group: GroupView; readonly onDone: () => void }) {
  const messenger = useMessenger();
  const [name, setName] = useState(group.name);
  const { busy, error, setError, run } = useAttempt();
  const inputId = useId();
  const save = (e: FormEvent) => {
    e.preventDefault();
    const trimmed = name.trim();
    if (trimmed === '') return setError('Give the group a name.');
    if (trimmed === group.name) return onDone();
    run(() => messenger.renameGroup(group.id, trimmed), 'The name could not be saved. Try again.', onDone);
  };
  return (
    <form onSubmit={save}>
      <label htmlFor={inputId}>Group name</label>
      <input id={inputId} value={name} maxLength={GROUP_NAME_MAX} autoComplete="off" dir="auto" onChange={(e) => setName(e.target.value)} />
      <p className="group-note">Every member sees the new name.</p>
      <ErrorLine error={error} />
      <div className="dialog-actions">
        <button type="submit" className="button-primary" disabled={busy}>
          Save name
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ConfirmRemove({ group, member, onDone }: { readonly group: GroupView; readonly member: GroupMemberView; readonly onDone: () => void }) {
  const messenger = useMessenger();
  const { busy, error, run } = useAttempt();
  const titleId = useId();
  return (
    <div role="group" aria-labelledby={titleId}>
      <h3 id={titleId} tabIndex={-1}>
        Remove <bdi dir="auto">{member.name}</bdi> from <bdi dir="auto">{group.name}</bdi>?
      </h3>
      <p>
        They stop receiving the group’s messages: new keys are made for everyone else, so nothing sent after this reaches them. They keep what they
        already have.
      </p>
      <ErrorLine error={error} />
      <div className="dialog-actions">
        <button type="button" className="danger" disabled={busy} onClick={() => run(() => messenger.removeGroupMember(group.id, member.id), `${member.name} was not removed: try again.`, onDone)}>
          Remove
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </div>
  );
}

function ConfirmLeave({ group, onCancel, onLeft }: { readonly group: GroupView; readonly onCancel: () => void; readonly onLeft: () => void }) {
  const messenger = useMessenger();
  const { busy, error, run } = useAttempt();
  const titleId = useId();
  return (
    <div role="group" aria-labelledby={titleId}>
      <h3 id={titleId} tabIndex={-1}>
        Leave <bdi dir="auto">{group.name}</bdi>?
      </h3>
      <p>You stop receiving its messages and cannot write in it. Its history stays on this device. Only an admin can add you again.</p>
      <ErrorLine error={error} />
      <div className="dialog-actions">
        <button type="button" className="danger" disabled={busy} onClick={() => run(() => messenger.leaveGroup(group.id), 'You are still in the group: leaving did not work. Try again.', onLeft)}>
          Leave group
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
