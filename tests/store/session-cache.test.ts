/**
 * The core's in-memory copy of each contact's last committed session
 * (`SessionCachingStore`): a send reads no transaction, every committed session write
 * updates the copy, and a failed or aborted write drops it, so the copy never differs
 * from the store (property over random writes, conflicts and failing transactions).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConcurrentModificationError,
  createMemoryStore,
  SessionCache,
  SessionCachingStore,
  type IncomingCommit,
  type PetrelStore,
} from '../../src/core/store/index.ts';
import { bytes, contact, contactId, incoming, outgoing } from './fixtures.ts';

const NOW = 30_000;

/** The memory store, counting session reads, with the next write made to fail on request. */
function counted() {
  const inner = createMemoryStore({ now: () => NOW });
  const counts = { reads: 0 };
  const faults = { failNext: false };
  const store = Object.create(inner) as PetrelStore;
  store.getSession = (id: string) => {
    counts.reads++;
    return inner.getSession(id);
  };
  const failing = <A extends unknown[], R>(f: (...a: A) => Promise<R>) => async (...a: A): Promise<R> => {
    if (faults.failNext) {
      faults.failNext = false;
      throw new Error('transaction aborted');
    }
    return f(...a);
  };
  store.commitOutgoing = failing((c) => inner.commitOutgoing(c));
  store.commitSession = failing((u) => inner.commitSession(u));
  store.commitIncomingBatch = failing((c) => inner.commitIncomingBatch(c));
  const cached = new SessionCachingStore(store, new SessionCache(() => NOW));
  return { inner, cached, counts, faults };
}

describe('SessionCachingStore', () => {
  it('serves the session a send committed without reading the store', async () => {
    const { cached, counts } = counted();
    await cached.commitOutgoing(outgoing({ contact: 1, expectedVersion: null, state: bytes(1) }));
    for (let v = 1; v <= 5; v++) {
      const row = await cached.getSession(contactId(1));
      expect(row).toMatchObject({ version: v });
      await cached.commitOutgoing(outgoing({ contact: 1, expectedVersion: row!.version, state: bytes(v + 1) }));
    }
    expect(counts.reads).toBe(0);
    expect(await cached.getSession(contactId(1))).toMatchObject({ version: 6, state: bytes(6) });
  });

  it('a failed commit drops the entry: the next read goes to the store', async () => {
    const { cached, counts, faults } = counted();
    await cached.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
    expect(await cached.getSession(contactId(1))).toMatchObject({ version: 1 });
    faults.failNext = true;
    await expect(cached.commitOutgoing(outgoing({ contact: 1, expectedVersion: 1 }))).rejects.toThrow('transaction aborted');
    expect(cached.cache.has(contactId(1))).toBe(false);
    expect(await cached.getSession(contactId(1))).toMatchObject({ version: 1 });
    expect(counts.reads).toBe(1);
  });

  it('a stale version (another writer) is still refused, and the entry dropped', async () => {
    const { inner, cached } = counted();
    await cached.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
    await inner.commitSession({ contactId: contactId(1), expectedVersion: 1, state: bytes(9) }); // behind the cache's back
    const stale = await cached.getSession(contactId(1));
    expect(stale?.version).toBe(1);
    await expect(cached.commitOutgoing(outgoing({ contact: 1, expectedVersion: stale!.version }))).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(await cached.getSession(contactId(1))).toMatchObject({ version: 2, state: bytes(9) });
  });

  it('hands out copies: a caller wiping its bytes changes nothing cached', async () => {
    const { cached } = counted();
    await cached.commitOutgoing(outgoing({ contact: 1, expectedVersion: null, state: bytes(1, 2, 3) }));
    (await cached.getSession(contactId(1)))!.state.fill(0);
    expect((await cached.getSession(contactId(1)))!.state).toEqual(bytes(1, 2, 3));
  });

  it('never differs from the store, whatever the writes, conflicts and failures (property)', async () => {
    type Op =
      | { kind: 'send'; c: number; stale: boolean; fail: boolean }
      | { kind: 'receive'; c: number; replay: boolean; fail: boolean }
      | { kind: 'session'; c: number; fail: boolean }
      | { kind: 'read'; c: number };
    const contactArb = fc.integer({ min: 1, max: 3 });
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), c: contactArb, stale: fc.boolean(), fail: fc.boolean() }),
      fc.record({ kind: fc.constant('receive' as const), c: contactArb, replay: fc.boolean(), fail: fc.boolean() }),
      fc.record({ kind: fc.constant('session' as const), c: contactArb, fail: fc.boolean() }),
      fc.record({ kind: fc.constant('read' as const), c: contactArb }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { maxLength: 40 }), async (ops) => {
        const { inner, cached, faults } = counted();
        for (const n of [1, 2, 3]) await inner.putContact(contact(n, `c${n}`));
        const received: IncomingCommit[] = [];
        let k = 0;
        for (const op of ops) {
          const current = await cached.getSession(contactId(op.c));
          const version = current?.version ?? null;
          const state = bytes(++k & 0xff, op.c);
          try {
            if (op.kind === 'send') {
              faults.failNext = op.fail;
              await cached.commitOutgoing(outgoing({ contact: op.c, expectedVersion: op.stale ? (version ?? 0) + 7 : version, state }));
            } else if (op.kind === 'receive') {
              faults.failNext = op.fail;
              const c = op.replay && received.length ? received[k % received.length]! : incoming({ contact: op.c, expectedVersion: version, sessionUpdate: { contactId: contactId(op.c), expectedVersion: version, state } });
              await cached.commitIncomingBatch([c]);
              received.push(c);
            } else if (op.kind === 'session') {
              faults.failNext = op.fail;
              await cached.commitSession({ contactId: contactId(op.c), expectedVersion: version, state });
            }
          } catch {
            // refused or failed: the copy must still match
          }
          faults.failNext = false;
          for (const n of [1, 2, 3]) {
            const [a, b] = [await cached.getSession(contactId(n)), await inner.getSession(contactId(n))];
            expect(a && { version: a.version, state: a.state }).toEqual(b && { version: b.version, state: b.state });
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
