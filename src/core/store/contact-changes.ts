/**
 * The user's own changes to a contact, each one transaction: a local name, blocking, where
 * it is listed (`changeContact`), and deleting its conversation (`deleteConversation`: the
 * messages, outbox entries and conversation row go together with the contact becoming
 * `removed`, or nothing does). The session stays, so a later message from the contact can
 * be read — and makes it a message request again.
 */
import type { BackendTx } from './backend.ts';
import { InvalidStoreInputError, RecordNotFoundError } from './errors.ts';
import type { ContactListing, ContactRecord } from './records.ts';
import type { StoreName } from './schema.ts';
import { checkLocalName } from './validate-commits.ts';
import { checkContactId, checkObject, checkOneOf } from './validate.ts';

/** What `changeContact` sets; `null` removes the field (back to the default), absent leaves it. */
export interface ContactChange {
  readonly localName?: string | null;
  readonly blocked?: boolean;
  readonly listing?: ContactListing | null;
}

export interface DeletedConversation {
  readonly messages: number;
  readonly outboxEntries: number;
}

export const DELETE_CONVERSATION_STORES: readonly StoreName[] = ['contacts', 'messages', 'outbox', 'conversations'];

export function checkContactChange(contactId: string, change: ContactChange): void {
  checkContactId('contactId', contactId);
  checkObject('change', change);
  if (change.localName !== undefined && change.localName !== null) checkLocalName('change.localName', change.localName);
  if (change.blocked !== undefined && typeof change.blocked !== 'boolean') throw new InvalidStoreInputError('change.blocked', 'expected a boolean');
  if (change.listing !== undefined && change.listing !== null) checkOneOf('change.listing', change.listing, ['request', 'removed'] as const);
}

/** The contact with `change` applied (fields set to null are removed; `blocked: false` is stored as absent). */
export function changedContact(c: ContactRecord, change: ContactChange): ContactRecord {
  const { localName, blocked, listing, ...rest } = c;
  const next: { -readonly [K in keyof ContactRecord]: ContactRecord[K] } = { ...rest };
  const name = change.localName === undefined ? localName : (change.localName ?? undefined);
  const isBlocked = change.blocked ?? blocked;
  const where = change.listing === undefined ? listing : (change.listing ?? undefined);
  if (name !== undefined) next.localName = name;
  if (isBlocked) next.blocked = true;
  if (where !== undefined) next.listing = where;
  return next;
}

export async function applyContactChange(tx: BackendTx, contactId: string, change: ContactChange): Promise<ContactRecord> {
  const contacts = tx.table('contacts');
  const c = await contacts.get(contactId);
  if (!c) throw new RecordNotFoundError('contact', contactId);
  const next = changedContact(c, change);
  await contacts.put(next);
  return next;
}

/**
 * Deletes the conversation with `contactId` in the caller's transaction: every message row,
 * every outbox entry (messages, receipts, signals) and the conversation row; the contact
 * is kept as `removed` without its local name. Reads everything before the first write.
 */
export async function applyDeleteConversation(tx: BackendTx, contactId: string): Promise<{ readonly contact: ContactRecord; readonly deleted: DeletedConversation }> {
  const contacts = tx.table('contacts');
  const messages = tx.table('messages');
  const outbox = tx.table('outbox');
  const conversations = tx.table('conversations');
  const [c, rows, entries] = await Promise.all([
    contacts.get(contactId),
    messages.query({ index: 'byConversation', lower: [contactId, -Infinity], upper: [contactId, Infinity] }),
    outbox.query({ index: 'byContactSeq', lower: [contactId, -Infinity], upper: [contactId, Infinity] }),
  ]);
  if (!c) throw new RecordNotFoundError('contact', contactId);
  const contact = changedContact(c, { localName: null, listing: 'removed' });
  await Promise.all([
    ...rows.map((m) => messages.delete(m.id)),
    ...entries.map((e) => outbox.delete(e.envelopeId)),
    conversations.delete(contactId),
    contacts.put(contact),
  ]);
  return { contact, deleted: { messages: rows.length, outboxEntries: entries.length } };
}
