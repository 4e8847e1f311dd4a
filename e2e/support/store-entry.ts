/**
 * What the store's Chromium runs inject into a page of the app (bundled to an IIFE by
 * `bundle.ts`): the contract suite over real IndexedDB, and handles on the leadership
 * state machine with the real Web Locks / BroadcastChannel adapters.
 */
import type { TabLeadership } from '../../src/core/leadership.ts';
import { createLogger } from '../../src/core/log.ts';
import { openIdbStore } from '../../src/platform/idb/open-idb-store.ts';
import { createTabLeadership } from '../../src/platform/tab-leadership.ts';
import { storeContract } from '../../tests/store/store-contract.ts';
import { collectedTests } from './vitest-shim.ts';

let dbCounter = 0;

storeContract('IndexedDB store (Chromium)', async (options) => {
  const name = `petrel-e2e-${Date.now()}-${dbCounter++}`;
  const opts = { now: () => 1_000, ...options, name };
  const { store } = await openIdbStore(opts);
  return {
    store,
    reopen: async () => {
      store.close();
      return (await openIdbStore(opts)).store;
    },
  };
});

export interface TestOutcome {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

export async function runContract(): Promise<TestOutcome[]> {
  const out: TestOutcome[] = [];
  for (const t of collectedTests()) {
    try {
      await t.fn();
      out.push({ name: t.name, ok: true });
    } catch (e) {
      out.push({ name: t.name, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  }
  return out;
}

let leadership: TabLeadership<{ readonly n: number }> | undefined;

/** Starts this tab's leadership for `profile`; resolves immediately (the role changes later). */
export function startLeadership(profile: string, tabId: string): void {
  leadership = createTabLeadership<{ readonly n: number }>({ profile, tabId, logger: createLogger(() => {}) });
  void leadership.start();
}

export function leadershipSnapshot() {
  return leadership?.getSnapshot();
}

export function publish(n: number): boolean {
  return leadership?.publish({ n }) ?? false;
}

export function stopLeadership(): void {
  leadership?.stop();
}

/** Proof that the page's `expect` can fail: a false assertion must throw. */
export async function expectCanFail(): Promise<boolean> {
  const { expect } = await import('./vitest-shim.ts');
  try {
    expect(1).toBe(2);
    return false;
  } catch {
    return true;
  }
}

function hexId(prefix: number, i: number): string {
  return prefix.toString(16).padStart(8, '0') + i.toString(16).padStart(24, '0');
}

export interface IncomingMeasurement {
  readonly messages: number;
  readonly batchSize: number;
  readonly storeMs: number;
  readonly rawMs: number;
  readonly storePerSecond: number;
  readonly rawPerSecond: number;
  readonly enqueueP50Ms: number;
  readonly enqueueP99Ms: number;
}

/**
 * Receive-side commit speed of `commitIncomingBatch` against plain IndexedDB puts of the
 * same rows (message + dedup mark + session + conversation per envelope), and the
 * latency of enqueueing one outgoing message. A quick measurement, not the benchmark.
 */
export async function measureIncoming(messages: number, batchSize: number, enqueues: number, durability: 'default' | 'relaxed' | 'strict' = 'default'): Promise<IncomingMeasurement> {
  const contact = 'ab'.repeat(32);
  const state = new Uint8Array(220).fill(3);
  const body = 'a message of ordinary length, around sixty characters long.';
  const run = Date.now();
  const { store } = await openIdbStore({ name: `petrel-measure-${run}`, now: () => Date.now(), durability });
  await store.commitSession({ contactId: contact, expectedVersion: null, state });
  let version = 1;
  const t0 = performance.now();
  for (let i = 0; i < messages; i += batchSize) {
    const batch = [];
    for (let j = i; j < Math.min(messages, i + batchSize); j++) {
      const id = hexId(1, j);
      batch.push({ envelopeId: id, receivedAt: Date.now(), sessionUpdate: { contactId: contact, expectedVersion: version++, state }, message: { id, contactId: contact, body, sentAt: Date.now() } });
    }
    await store.commitIncomingBatch(batch);
  }
  const storeMs = performance.now() - t0;

  const { backend } = await openIdbStore({ name: `petrel-measure-raw-${run}`, now: () => Date.now() });
  const raw = backend.connection();
  const t1 = performance.now();
  for (let i = 0; i < messages; i += batchSize) {
    await new Promise<void>((resolve, reject) => {
      const tx = raw.transaction(['messages', 'dedup', 'sessions', 'conversations'], 'readwrite', { durability });
      const now = Date.now();
      for (let j = i; j < Math.min(messages, i + batchSize); j++) {
        const id = hexId(1, j);
        tx.objectStore('messages').put({ id, contactId: contact, direction: 'in', body, sentAt: now, receivedAt: now, order: j, status: 'delivered', updatedAt: now });
        tx.objectStore('dedup').put({ envelopeId: id, at: now });
        tx.objectStore('sessions').put({ contactId: contact, version: j + 2, state, updatedAt: now });
        tx.objectStore('conversations').put({ contactId: contact, unread: j + 1, lastActivityAt: now, nextOrder: j + 1 });
      }
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
  const rawMs = performance.now() - t1;

  const latencies: number[] = [];
  for (let i = 0; i < enqueues; i++) {
    const id = hexId(2, i);
    const t = performance.now();
    await store.commitOutgoing({
      sessionUpdate: { contactId: contact, expectedVersion: version++, state },
      message: { id, contactId: contact, body, sentAt: Date.now() },
      outboxEntry: { envelopeId: id, contactId: contact, mailbox: new Uint8Array(32), envelope: new Uint8Array(400) },
    });
    latencies.push(performance.now() - t);
  }
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? 0;
  store.close();
  raw.close();
  return {
    messages,
    batchSize,
    storeMs,
    rawMs,
    storePerSecond: Math.round((messages / storeMs) * 1000),
    rawPerSecond: Math.round((messages / rawMs) * 1000),
    enqueueP50Ms: q(0.5),
    enqueueP99Ms: q(0.99),
  };
}
