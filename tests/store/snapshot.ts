/** Everything a store holds about some contacts, read through the public API, for before/after comparisons. */
import type { PetrelStore } from '../../src/core/store/index.ts';
import { contactId } from './fixtures.ts';

export async function snapshot(store: PetrelStore, contacts: readonly number[], envelopeIds: readonly string[] = []) {
  const perContact = [];
  for (const n of contacts) {
    const id = contactId(n);
    perContact.push({
      session: await store.getSession(id),
      conversation: await store.getConversation(id),
      messages: (await store.pageMessages(id, { limit: 200 })).messages,
      pending: await store.pendingJobs(id),
      contact: await store.getContact(id),
    });
  }
  return {
    perContact,
    outbox: await store.dueOutbox(Number.MAX_SAFE_INTEGER, 500),
    queueDepth: await store.queueDepth(),
    identity: await store.loadIdentity(),
    conversations: await store.listConversations(),
    processed: [...(await store.processedEnvelopes(envelopeIds))].sort(),
  };
}
