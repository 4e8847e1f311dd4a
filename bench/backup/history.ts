/**
 * A memory store holding one account's history for the backup benchmark: `contacts`
 * conversations sharing `messages` messages (texts of 20–200 characters), half sent.
 */
import { toHex } from '../../src/core/bytes.ts';
import { identityFromSeed, type Identity } from '../../src/core/crypto/identity.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import type { PetrelStore } from '../../src/core/store/index.ts';

export async function historyStore(messages: number, contacts: number): Promise<{ store: PetrelStore; account: Identity }> {
  const store = createMemoryStore({ now: () => 1 });
  const people = Array.from({ length: contacts }, (_, i) => identityFromSeed(new Uint8Array(32).fill(i + 2)));
  for (const [i, p] of people.entries()) {
    await store.putContact({ id: toHex(p.publicKey), displayName: `Contact ${i}`, identityKey: p.publicKey, verification: i % 2 ? 'verified' : 'unverified', addedAt: i });
  }
  for (let n = 0; n < messages; n++) {
    const p = people[n % contacts]!;
    const id = n.toString(16).padStart(32, '0');
    const text = `message ${n} `.padEnd(20 + ((n * 37) % 180), 'x');
    await store.commitIncoming({ envelopeId: id, from: toHex(p.publicKey), receivedAt: 1_000 + n, message: { id, contactId: toHex(p.publicKey), body: text, sentAt: 1_000 + n } });
  }
  return { store, account: identityFromSeed(new Uint8Array(32).fill(1)) };
}
