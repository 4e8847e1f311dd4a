/**
 * Every readwrite transaction of the IndexedDB backend is `strict` unless the caller
 * asks otherwise: each commit precedes an effect outside the device (ack, send, receipt).
 * The exceptions are the outbox's outcome marks (`markSent`, `recordAttemptFailure`),
 * which no effect follows: they are `relaxed` (issue 22).
 */
import 'fake-indexeddb/auto';
import { IDBDatabase as FDBDatabase, IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';
import { contact, incoming, outgoing } from './fixtures.ts';

interface Opened {
  readonly mode: IDBTransactionMode;
  readonly durability: string;
}

const original = FDBDatabase.prototype.transaction;
afterEach(() => {
  FDBDatabase.prototype.transaction = original;
});

/** Records the mode and durability of every transaction the store opens. */
function recordTransactions(): Opened[] {
  const opened: Opened[] = [];
  FDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<typeof original>) {
    const tx = original.apply(this, args);
    opened.push({ mode: tx.mode, durability: (tx as unknown as { durability: string }).durability });
    return tx;
  } as typeof original;
  return opened;
}

async function exercise(durability?: 'relaxed' | 'strict'): Promise<Opened[]> {
  const opened = recordTransactions();
  const { store } = await openIdbStore({ now: () => 1_000, factory: new IDBFactory(), ...(durability ? { durability } : {}) });
  await store.putContact(contact(1));
  const commit = outgoing({ contact: 1, expectedVersion: null });
  await store.commitOutgoing(commit);
  expect(await store.getMessage(commit.messageId)).toMatchObject({ id: commit.messageId });
  store.close();
  return opened;
}

describe('IndexedDB durability', () => {
  it('commits every readwrite transaction strictly by default', async () => {
    const opened = await exercise();
    const writes = opened.filter((t) => t.mode === 'readwrite');
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(writes.map((t) => t.durability))).toEqual(new Set(['strict']));
    // Reads carry no durability of their own.
    expect(opened.filter((t) => t.mode === 'readonly').every((t) => t.durability === 'default')).toBe(true);
  });

  it('uses the durability a caller asks for (benchmarks compare both)', async () => {
    const writes = (await exercise('relaxed')).filter((t) => t.mode === 'readwrite');
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(new Set(writes.map((t) => t.durability))).toEqual(new Set(['relaxed']));
  });

  it('commits the outbox outcome marks relaxed and everything around them strictly', async () => {
    const { store } = await openIdbStore({ now: () => 1_000, factory: new IDBFactory() });
    await store.putContact(contact(1));
    const first = outgoing({ contact: 1, expectedVersion: null });
    await store.commitOutgoing(first);
    const second = outgoing({ contact: 1, expectedVersion: 1 });
    await store.commitOutgoing(second);
    const opened = recordTransactions();
    await store.recordAttemptFailure(second.envelopeId, 2_000, 'timeout');
    expect(await store.markSent(first.envelopeId, { at: 1_500, via: 'relay' })).toMatchObject({ removed: true });
    await store.commitIncomingBatch([incoming({ contact: 1, expectedVersion: 2 })]);
    const writes = opened.filter((t) => t.mode === 'readwrite').map((t) => t.durability);
    expect(writes).toEqual(['relaxed', 'relaxed', 'strict']);
    // The mark did its work: the message shows sent, its entry left the outbox.
    expect(await store.getMessage(first.messageId)).toMatchObject({ status: 'sent', via: 'relay' });
    expect((await store.outboxHeads(10)).map((h) => h.envelopeId)).toEqual([second.envelopeId]);
    store.close();
  });

  it('keeps every commit relaxed when the whole store was opened relaxed', async () => {
    const { store } = await openIdbStore({ now: () => 1_000, factory: new IDBFactory(), durability: 'relaxed' });
    await store.putContact(contact(1));
    const first = outgoing({ contact: 1, expectedVersion: null });
    await store.commitOutgoing(first);
    const opened = recordTransactions();
    await store.markSent(first.envelopeId, { at: 1_500 });
    expect(opened.filter((t) => t.mode === 'readwrite').map((t) => t.durability)).toEqual(['relaxed']);
    store.close();
  });
});
