import { useCallback } from 'react';
import { shallow } from 'zustand/shallow';
import type { MessengerState, UnsavedMessageView } from '../../../core/messenger/messenger-api.ts';
import { useMessengerState } from '../../messenger-context.tsx';

const NONE: readonly UnsavedMessageView[] = [];

/**
 * Messages pressed in this conversation that Petrel could not store yet (storage full or
 * failing, the core restarting): the keypress journal keeps them on this device and tries
 * again by itself. Shown below the log, so they never vanish between Enter and the commit.
 */
export function UnsavedMessages({ contactId }: { readonly contactId: string }) {
  const select = useCallback((s: MessengerState) => s.unsaved?.filter((u) => u.contactId === contactId) ?? NONE, [contactId]);
  const unsaved = useMessengerState(select, shallow);
  if (unsaved.length === 0) return null;
  return (
    <section className="chat-unsaved" aria-label="Not saved yet">
      <p className="chat-unsaved-note" role="status">
        {unsaved.length === 1 ? 'This message is' : `These ${unsaved.length} messages are`} not saved yet. Petrel keeps{' '}
        {unsaved.length === 1 ? 'it' : 'them'} on this device and tries again by itself.
      </p>
      <ul>
        {unsaved.map((u) => (
          <li key={u.id} dir="auto">
            {u.text}
          </li>
        ))}
      </ul>
    </section>
  );
}
