/**
 * What a recorded identity key change does to a contact's stored state, in the one
 * transaction of `commitKeyChange`.
 *
 * - The session goes: it was agreed with the old key, and a message encrypted with it
 *   for the new key can never be read by the new device. The next message runs PQXDH
 *   with the new key's bundle.
 * - Message entries not yet sent were encrypted for the old device. They are NOT
 *   re-encrypted here: that would hand them to whoever holds the new key before the user
 *   acknowledged it (an impostor, possibly). They lose their envelope, go back to
 *   `pending_session` (a failed one stays failed, and its retry goes the same way) and are
 *   readdressed to the new key's mailbox; the session starter re-encrypts them, from the
 *   message row, only once the key change is acknowledged.
 * - Protocol entries (receipts, our profile) were for the old device only: dropped.
 */
import type { BackendTx } from './backend.ts';
import { RecordNotFoundError } from './errors.ts';
import type { OutboxRecord } from './records.ts';
import type { KeyChangeCommit } from './store-api.ts';

export const KEY_CHANGE_STORES = ['contacts', 'sessions', 'outbox'] as const;

/** The entry after the key change, or undefined when it is dropped. */
function requeued(e: OutboxRecord, mailbox: Uint8Array, now: number): OutboxRecord | undefined {
  if (!e.messageId) return undefined;
  const { envelope: _old, lastError: _e, ...rest } = e;
  return { ...rest, mailbox, state: e.state === 'failed' ? 'failed' : 'pending_session', attempts: 0, nextAttemptAt: now };
}

export async function applyKeyChange(tx: BackendTx, commit: KeyChangeCommit, now: number): Promise<void> {
  const { contact, mailbox } = commit;
  const contacts = tx.table('contacts');
  const outbox = tx.table('outbox');
  const [existing, entries] = await Promise.all([
    contacts.get(contact.id),
    outbox.query({ index: 'byContactSeq', lower: [contact.id, -Infinity], upper: [contact.id, Infinity] }),
  ]);
  if (!existing) throw new RecordNotFoundError('contact', contact.id);
  await Promise.all([
    contacts.put(contact),
    tx.table('sessions').delete(contact.id),
    ...entries.map((e) => {
      const next = requeued(e, mailbox, now);
      return next ? outbox.put(next) : outbox.delete(e.envelopeId);
    }),
  ]);
}
