/**
 * Injected into the running app's page by the app benchmark (bundled to an IIFE; exports on
 * `globalThis.petrelAppBench`): adds a contact with a long history straight into the app's
 * own IndexedDB database through the real store, so the next load shows a chat of that size.
 */
import { toHex } from '../../src/core/bytes.ts';
import { secureRandom } from '../../src/core/random.ts';
import type { IncomingCommit } from '../../src/core/store/index.ts';
import { openIdbStore } from '../../src/platform/idb/index.ts';

/** Incoming messages committed per transaction (the receive pipeline's batch size). */
const BATCH = 128;
const IDENTITY_KEY_BYTES = 32;
const ID_BYTES = 16;

/** Adds `displayName` as a contact with `count` incoming messages; returns the contact id. */
export async function addChatWithHistory(displayName: string, count: number): Promise<string> {
  const { store } = await openIdbStore({ now: () => Date.now() });
  try {
    const identityKey = secureRandom.bytes(IDENTITY_KEY_BYTES);
    const contactId = toHex(identityKey);
    await store.putContact({ id: contactId, displayName, identityKey, verification: 'unverified', addedAt: Date.now() });
    const start = Date.now() - count * 1000;
    for (let i = 0; i < count; i += BATCH) {
      const commits: IncomingCommit[] = [];
      for (let j = i; j < Math.min(count, i + BATCH); j++) {
        const id = toHex(secureRandom.bytes(ID_BYTES));
        commits.push({ envelopeId: id, from: contactId, receivedAt: start + j * 1000, message: { id, contactId, body: `message ${j + 1} of ${count}`, sentAt: start + j * 1000, via: 'relay' } });
      }
      await store.commitIncomingBatch(commits);
    }
    const conversation = await store.getConversation(contactId);
    if (conversation?.unread !== count) throw new Error(`populate: ${conversation?.unread ?? 0} of ${count} messages stored`);
    return contactId;
  } finally {
    store.close();
  }
}
