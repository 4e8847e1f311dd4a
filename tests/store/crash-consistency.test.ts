/**
 * Crash consistency: every multi-write operation is cut after each of its writes, by an
 * exception inside the transaction and by the connection dropping mid-way. Afterwards
 * the stores hold either everything of the operation or nothing (here: nothing, since
 * the cut always lands before the commit), and retrying the operation then succeeds
 * exactly once — a retried receive is a duplicate the second time.
 */
import 'fake-indexeddb/auto';
import { forceCloseDatabase, IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { BackendPetrelStore, MemoryBackend, StoreError, type PetrelStore } from '../../src/core/store/index.ts';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';
import { FaultBackend } from './fault-backend.ts';
import { contact, contactId, incoming, MAILBOX, newId, outgoing, pending } from './fixtures.ts';
import { snapshot } from './snapshot.ts';

const NOW = 50_000;

interface Harness {
  store: PetrelStore;
  faults: FaultBackend;
  /** The store to inspect after a fault (a fresh connection when the fault closed the old one). */
  afterFault(kind: 'throw' | 'drop'): Promise<Harness>;
}

interface Engine {
  readonly name: string;
  create(): Promise<Harness>;
}

const memoryEngine: Engine = {
  name: 'in-memory',
  async create() {
    // A dropped connection in memory = the transaction rolled back under the body.
    const faults = new FaultBackend(new MemoryBackend(), (tx) => tx.abort());
    const h: Harness = { store: new BackendPetrelStore(faults, { now: () => NOW }), faults, afterFault: async () => h };
    return h;
  },
};

const idbEngine: Engine = {
  name: 'IndexedDB (fake-indexeddb)',
  async create() {
    const factory = new IDBFactory();
    const open = async (): Promise<Harness> => {
      const { backend } = await openIdbStore({ factory, now: () => NOW });
      // A dropped connection = the browser force-closing the database mid-transaction:
      // IndexedDB 3.0 §5.2 aborts the connection's transactions, then fires `close`
      // (fake-indexeddb's forceCloseDatabase only does the second half, so we abort first).
      const faults = new FaultBackend(backend, (tx) => {
        tx.abort();
        forceCloseDatabase(backend.connection() as never);
      });
      const store = new BackendPetrelStore(faults, { now: () => NOW });
      return { store, faults, afterFault: async (kind) => (kind === 'drop' ? open() : h) };
    };
    const h = await open();
    return h;
  },
};

interface Scenario {
  readonly name: string;
  readonly contacts: readonly number[];
  readonly envelopeIds: readonly string[];
  setup(store: PetrelStore): Promise<void>;
  run(store: PetrelStore): Promise<unknown>;
  /** For receives: the same operation again must report only duplicates. */
  readonly replayIsDuplicate?: boolean;
}

const sessionStart = outgoing({ contact: 1, expectedVersion: null });
const send = outgoing({ contact: 1, expectedVersion: 1, body: 'cut me' });
const jobs = [pending(2, 'p1'), pending(2, 'p2')];
const initial = incoming({
  contact: 4,
  expectedVersion: null,
  preKeyPool: new Uint8Array([2, 2]),
  contactUpdate: contact(4, 'Bob'),
  outboxEntries: [{ envelopeId: newId(), contactId: contactId(4), mailbox: MAILBOX, envelope: new Uint8Array([0x77]) }],
});
const toAck = outgoing({ contact: 1, expectedVersion: 1 });
// Contact 1's session is at version 2 after the setup (session start + toAck).
const backlog = [
  incoming({ contact: 1, expectedVersion: 2, body: 'b1' }),
  incoming({ contact: 2, expectedVersion: null, body: 'b2' }),
  incoming({ contact: 1, expectedVersion: 3, body: 'b3', statusUpdates: [{ messageId: toAck.messageId, status: 'delivered' }] }),
];
const unread = [incoming({ contact: 1, receivedAt: 1 }), incoming({ contact: 1, receivedAt: 2 })];
const toFail = outgoing({ contact: 1, expectedVersion: 1 });
const readReceiptSend = outgoing({ contact: 1, expectedVersion: 1, withMessage: false });
const readReceipt = { sessionUpdate: readReceiptSend.sessionUpdate, outboxEntries: [readReceiptSend.outboxEntry] };

const waitingJob = pending(1, 'waiting for a session');

const withSession = async (store: PetrelStore) => {
  await store.commitOutgoing(sessionStart);
};

const SCENARIOS: readonly Scenario[] = [
  { name: 'send (commitOutgoing)', contacts: [1], envelopeIds: [], setup: withSession, run: (s) => s.commitOutgoing(send) },
  {
    name: 'first contact (commitSessionStart)',
    contacts: [2],
    envelopeIds: [],
    setup: async (s) => {
      for (const j of jobs) await s.commitPendingOutgoing(j);
    },
    run: (s) =>
      s.commitSessionStart({
        sessionUpdate: { contactId: contactId(2), expectedVersion: null, state: new Uint8Array([5]) },
        encrypted: jobs.map((j) => ({ envelopeId: j.envelopeId, envelope: new Uint8Array([0xe0]) })),
      }),
  },
  {
    name: 'initial receive (commitIncoming with pool, contact, reply)',
    contacts: [4],
    envelopeIds: [initial.envelopeId],
    replayIsDuplicate: true,
    setup: async (s) => {
      await s.saveIdentity({ id: 'self', seed: new Uint8Array(32), displayName: 'me', createdAt: 1, nextPreKeyId: 9, preKeyPool: new Uint8Array([1]) });
    },
    run: (s) => s.commitIncoming(initial),
  },
  {
    name: 'backlog receive (commitIncomingBatch with a receipt)',
    contacts: [1, 2],
    envelopeIds: backlog.map((b) => b.envelopeId),
    replayIsDuplicate: true,
    setup: async (s) => {
      await withSession(s);
      await s.commitOutgoing(toAck);
      await s.markSent(toAck.envelopeId, { at: 1 });
    },
    run: async (s) => (await s.commitIncomingBatch(backlog)).results,
  },
  {
    name: 'transport ack (markSent)',
    contacts: [1],
    envelopeIds: [],
    setup: async (s) => {
      await withSession(s);
      await s.commitOutgoing(toAck);
    },
    run: (s) => s.markSent(toAck.envelopeId, { at: 99 }),
  },
  {
    name: 'retry budget spent (markFailed)',
    contacts: [1],
    envelopeIds: [],
    setup: async (s) => {
      await withSession(s);
      await s.commitOutgoing(toFail);
    },
    run: (s) => s.markFailed(toFail.envelopeId, 'gave up'),
  },
  {
    name: 'manual retry (retry)',
    contacts: [1],
    envelopeIds: [],
    setup: async (s) => {
      await withSession(s);
      await s.commitOutgoing(toFail);
      await s.markFailed(toFail.envelopeId, 'gave up');
    },
    run: (s) => s.retry(toFail.messageId, 77),
  },
  {
    name: 'read with its receipt (commitRead)',
    contacts: [1],
    envelopeIds: unread.map((u) => u.envelopeId),
    setup: async (s) => {
      await withSession(s);
      await s.commitIncomingBatch(unread);
    },
    run: (s) => s.commitRead({ contactId: contactId(1), at: 5, messageIds: unread.map((u) => u.messageId), receipt: readReceipt }),
  },
  {
    // Issue 20: the messages, outbox entries (a sent one, a waiting one) and conversation row go with the contact's listing, or nothing does.
    name: 'delete a conversation (deleteConversation)',
    contacts: [1],
    envelopeIds: unread.map((u) => u.envelopeId),
    setup: async (s) => {
      await s.putContact({ ...contact(1, 'Bob'), localName: 'Bobby' });
      await withSession(s);
      await s.commitIncomingBatch(unread);
      await s.commitPendingOutgoing(waitingJob);
    },
    run: (s) => s.deleteConversation(contactId(1)),
  },
];

for (const engine of [memoryEngine, idbEngine]) {
  describe(`crash consistency: ${engine.name}`, () => {
    for (const sc of SCENARIOS) {
      it(`${sc.name}: cut after every write, by a throw and by a dropped connection`, async () => {
        const clean = await engine.create();
        await sc.setup(clean.store);
        clean.faults.arm(undefined);
        await sc.run(clean.store);
        const writes = clean.faults.writes;
        expect(writes).toBeGreaterThan(1);
        const expected = await snapshot(clean.store, sc.contacts, sc.envelopeIds);

        for (let k = 1; k <= writes; k++) {
          for (const kind of ['throw', 'drop'] as const) {
            const h = await engine.create();
            await sc.setup(h.store);
            const before = await snapshot(h.store, sc.contacts, sc.envelopeIds);
            h.faults.arm({ afterWrite: k, kind });
            const err = await sc.run(h.store).then(
              () => undefined,
              (e: unknown) => e,
            );
            expect(h.faults.fired, `fault ${kind}@${k} fired`).toBe(true);
            expect(err, `fault ${kind}@${k} surfaced as a StoreError`).toBeInstanceOf(StoreError);

            const after = await h.afterFault(kind);
            after.faults.arm(undefined);
            expect(await snapshot(after.store, sc.contacts, sc.envelopeIds), `nothing of the operation after ${kind}@${k}`).toEqual(before);

            await sc.run(after.store);
            expect(await snapshot(after.store, sc.contacts, sc.envelopeIds), `retry after ${kind}@${k} applied once`).toEqual(expected);
            if (sc.replayIsDuplicate) {
              const again = await sc.run(after.store);
              expect([again].flat().every((r) => r === 'duplicate')).toBe(true);
              expect(await snapshot(after.store, sc.contacts, sc.envelopeIds)).toEqual(expected);
            }
          }
        }
      });
    }
  });
}
