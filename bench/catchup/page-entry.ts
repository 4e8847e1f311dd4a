/**
 * What the catch-up benchmark runs inside Chromium (bundled to an IIFE by esbuild and
 * evaluated in a same-origin page; exports land on `globalThis.petrelCatchup`):
 *
 *   receive   Bob's real ReceivePipeline over the real IndexedDB store: ingress dedup,
 *             the store's dedup read, unseal, Double Ratchet decrypt, content decode, one
 *             commit per batch (≤ 128) with one session update and the delivery receipts
 *             it owes, then the ack. Timed from the first envelope handed in to the last ack.
 *   raw       the ceiling: plain IndexedDB puts of the rows a received message needs
 *             (message row + dedup row each; one session, one conversation and one
 *             receipt outbox row per batch, shaped as Petrel's), same batch size, one
 *             readwrite transaction per batch, the next one queued while one commits.
 *   enqueue   one outgoing message through the messenger's own `enqueueOutgoing` over
 *             the session-caching store: encrypt, seal, one `commitOutgoing` (session +
 *             message + outbox entry).
 */
import { decode } from 'cbor-x';
import { toHex } from '../../src/core/bytes.ts';
import { decrypt, deserializePreKeyPool, identityFromSeed, unseal } from '../../src/core/crypto/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { ContactDirectory } from '../../src/core/messenger/contact-directory.ts';
import type { MessengerContext } from '../../src/core/messenger/context.ts';
import { RECEIVE_BATCH_MAX, ReceivePipeline } from '../../src/core/messenger/receive-pipeline.ts';
import { SerialLane } from '../../src/core/messenger/serial-lane.ts';
import { decodeSessionSet, encodeSessionSet, promote } from '../../src/core/messenger/session-set.ts';
import { systemClock } from '../../src/core/clock.ts';
import { secureRandom } from '../../src/core/random.ts';
import { SessionCache, SessionCachingStore, type ContactRecord, type PetrelStore } from '../../src/core/store/index.ts';
import { enqueueOutgoing } from '../../src/core/messenger/compose.ts';
import { IngressGuard, wireFrameDecoder } from '../../src/core/transport/index.ts';
import { decodeContent, encodeContent, mailboxAddress } from '../../src/core/wire/index.ts';
import { DEFAULT_DURABILITY, openIdbStore, type Durability } from '../../src/platform/idb/index.ts';
import { createBrowserCryptoRuntime } from '../../src/platform/browser-crypto.ts';

// As the app's composition root does (src/platform/browser-messenger.ts).
const cryptoRuntime = createBrowserCryptoRuntime();
import type { CatchupFixture } from './fixture.ts';
import { serveInWorker, watchLongTasks, workerCaller, type LongTasks } from './ui-thread.ts';

const MESSAGE_TEXT = 'a message of ordinary length, around sixty characters long.';

let fixture: CatchupFixture | undefined;

function need(): CatchupFixture {
  if (!fixture) throw new Error('fixture not loaded');
  return fixture;
}

/** Fetches and decodes the fixture; returns how many envelopes it holds. */
export async function load(url: string): Promise<number> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fixture: HTTP ${res.status}`);
  const decoded = decode(new Uint8Array(await res.arrayBuffer())) as CatchupFixture;
  // cbor-x decodes byte strings as views into the one fixture buffer; structured clone
  // (every IndexedDB put) copies a view's WHOLE buffer, so each field gets its own.
  const own = (b: Uint8Array) => b.slice();
  fixture = {
    bobSeed: own(decoded.bobSeed),
    bobPool: own(decoded.bobPool),
    bobSessions: own(decoded.bobSessions),
    aliceKey: own(decoded.aliceKey),
    envelopes: decoded.envelopes.map((e) => ({ to: own(e.to), id: own(e.id), body: own(e.body) })),
  };
  return fixture.envelopes.length;
}

/** A fresh database with Bob's identity, Alice as a contact and their session. */

async function bobStore(dbName: string, durability: Durability = DEFAULT_DURABILITY): Promise<{ store: PetrelStore; contact: ContactRecord }> {
  const f = need();
  const { store } = await openIdbStore({ name: dbName, now: () => Date.now(), durability });
  const contact: ContactRecord = { id: toHex(f.aliceKey), displayName: 'Alice', identityKey: f.aliceKey, verification: 'unverified', addedAt: Date.now() };
  await store.saveIdentity({ id: 'self', seed: f.bobSeed, displayName: 'Bob', createdAt: Date.now(), preKeyPool: f.bobPool, nextPreKeyId: 1 });
  await store.putContact(contact);
  await store.commitSession({ contactId: contact.id, expectedVersion: null, state: f.bobSessions });
  return { store, contact };
}

export interface ReceiveOutcome {
  readonly ms: number;
  readonly envelopes: number;
  readonly messagesStored: number;
  readonly cryptoFailures: number;
  readonly receiptsQueued: number;
}

/** Bob catches up on the first `count` envelopes through the real receive pipeline. */
export async function receive(dbName: string, count: number, durability: Durability = DEFAULT_DURABILITY): Promise<ReceiveOutcome> {
  const f = need();
  const { store, contact } = await bobStore(dbName, durability);
  const metrics = new InMemoryMetrics();
  const identity = identityFromSeed(f.bobSeed);
  const ctx: MessengerContext = {
    store,
    clock: systemClock,
    random: secureRandom,
    crypto: cryptoRuntime,
    metrics,
    log: silentLogger,
    lane: new SerialLane(),
    identity,
    contacts: await ContactDirectory.load(store),
    pool: deserializePreKeyPool(f.bobPool),
  };
  const guard = new IngressGuard({ decode: wireFrameDecoder('relay'), metrics, logger: silentLogger });
  const pipeline = new ReceivePipeline(ctx, guard, { committed: () => {} });
  const envelopes = f.envelopes.slice(0, count);

  let acked = 0;
  let allAcked: () => void = () => {};
  const done = new Promise<void>((resolve) => (allAcked = resolve));
  const ack = () => {
    if (++acked === envelopes.length) allAcked();
  };
  const t0 = performance.now();
  for (const envelope of envelopes) pipeline.accept({ envelope, transport: 'relay', ack });
  await done;
  const ms = performance.now() - t0;

  const conversation = await store.getConversation(contact.id);
  const counters = metrics.snapshot().counters;
  const cryptoFailures = Object.entries(counters).filter(([k]) => k.startsWith('crypto.failure')).reduce((n, [, v]) => n + v, 0);
  const receiptsQueued = await store.queueDepth();
  store.close();
  return { ms, envelopes: envelopes.length, messagesStored: conversation?.unread ?? 0, cryptoFailures, receiptsQueued };
}

/**
 * The ceiling: the same rows with plain IndexedDB puts, one transaction per batch of the
 * pipeline's size, on the same schema (same indexes) and durability. Written as a bulk
 * writer would: every request issued at once, one `complete` listener per transaction,
 * and the next batch's transaction created while the previous one commits (IndexedDB
 * runs them in order), so the browser always has the next commit queued.
 */
/** `batchSize` defaults to the pipeline's; `count` puts everything in one transaction (a reference for what batching costs). */
export async function raw(dbName: string, count: number, durability: Durability = DEFAULT_DURABILITY, batchSize = RECEIVE_BATCH_MAX): Promise<{ ms: number; rows: number }> {
  const f = need();
  const { backend } = await openIdbStore({ name: dbName, now: () => Date.now() });
  const db = backend.connection();
  const contactId = toHex(f.aliceKey);
  const mailbox = mailboxAddress(f.aliceKey);
  const envelopes = f.envelopes.slice(0, count);
  const ids = envelopes.map((e) => toHex(e.id));
  let rows = 0;
  const batchTx = (i: number, batch: string[]) =>
    new Promise<void>((resolve, reject) => {
      const tx = db.transaction(['messages', 'dedup', 'sessions', 'conversations', 'outbox'], 'readwrite', { durability });
      const now = Date.now();
      const messages = tx.objectStore('messages');
      const dedup = tx.objectStore('dedup');
      batch.forEach((id, j) => {
        const order = i + j;
        messages.put({ id, contactId, direction: 'in', body: MESSAGE_TEXT, sentAt: now, receivedAt: now, order, status: 'delivered', via: 'relay', updatedAt: now });
        dedup.put({ envelopeId: id, at: now });
        rows += 2;
      });
      const last = batch[batch.length - 1]!;
      tx.objectStore('sessions').put({ contactId, version: i + 2, state: f.bobSessions, updatedAt: now });
      tx.objectStore('conversations').put({
        contactId,
        lastMessage: { messageId: last, text: MESSAGE_TEXT, at: now, direction: 'in' },
        unread: i + batch.length,
        lastActivityAt: now,
        nextOrder: i + batch.length,
      });
      // The delivery receipt a batch owes (Petrel seals one; here the bytes of an envelope of the same size).
      tx.objectStore('outbox').put({ envelopeId: toHex(secureRandom.bytes(16)), contactId, mailbox, state: 'ready', envelope: envelopes[i]!.body, seq: 0, attempts: 0, nextAttemptAt: now, createdAt: now });
      rows += 3;
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  const t0 = performance.now();
  let previous: Promise<void> = Promise.resolve();
  for (let i = 0; i < ids.length; i += batchSize) {
    const current = batchTx(i, ids.slice(i, i + batchSize));
    await previous;
    previous = current;
  }
  await previous;
  const ms = performance.now() - t0;
  db.close();
  return { ms, rows };
}

/** Unseal + decrypt + decode of the first `count` envelopes from Bob's initial session, no storage: the crypto share of catch-up. */
export async function decryptOnly(count: number): Promise<{ ms: number }> {
  const f = need();
  const identity = identityFromSeed(f.bobSeed);
  let sessions = decodeSessionSet(f.bobSessions);
  const envelopes = f.envelopes.slice(0, count);
  const t0 = performance.now();
  for (let i = 0; i < envelopes.length; i += RECEIVE_BATCH_MAX) {
    // As the pipeline does: a batch's boxes opened concurrently, then decrypted in order.
    const opened = await Promise.all(envelopes.slice(i, i + RECEIVE_BATCH_MAX).map((e) => unseal(identity, e.body, cryptoRuntime)));
    for (const { inner } of opened) {
      const current = sessions.sessions[0]!;
      const out = await decrypt(current, inner, cryptoRuntime);
      sessions = promote(sessions, out.state, current);
      const content = decodeContent(out.plaintext);
      if (content.t !== 'msg') throw new Error(`decryptOnly: unexpected ${content.t}`);
    }
  }
  encodeSessionSet(sessions);
  return { ms: performance.now() - t0 };
}

/**
 * Latency of enqueueing `count` outgoing messages one after another (Bob to Alice), ms
 * each: exactly the messenger's `send` step (`enqueueOutgoing`, the same function) over
 * the store as the running messenger sees it (session-caching, so a send reads its
 * session from memory): encrypt, seal, one commitOutgoing. The first send fills the
 * cache from the store, as the first send after a start does.
 */
export async function enqueue(dbName: string, count: number): Promise<number[]> {
  const f = need();
  const { store: durable, contact } = await bobStore(dbName);
  const store = new SessionCachingStore(durable, new SessionCache(() => Date.now()));
  const deps = { store, lane: new SerialLane(), identity: identityFromSeed(f.bobSeed), crypto: cryptoRuntime };
  const mailbox = mailboxAddress(contact.identityKey);
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const id = secureRandom.bytes(16);
    const sentAt = Date.now();
    const { pending } = await enqueueOutgoing(deps, {
      contactId: contact.id,
      contactKey: contact.identityKey,
      mailbox,
      id: toHex(id),
      body: MESSAGE_TEXT,
      sentAt,
      content: encodeContent({ t: 'msg', id, ts: sentAt, text: MESSAGE_TEXT }),
    });
    latencies.push(performance.now() - t0);
    if (pending) throw new Error('enqueue: no session');
  }
  const queued = await store.queueDepth();
  store.close();
  if (queued !== count) throw new Error(`enqueue: ${queued} outbox entries for ${count} sends`);
  return latencies;
}

/**
 * The latency floor of an enqueue: the rows one send writes (session, message,
 * conversation, outbox entry, shaped as Petrel's) put in one readwrite transaction with
 * plain IndexedDB, awaited to `complete`, one send after another; no reads, no crypto. ms each.
 */
export async function rawEnqueue(dbName: string, count: number): Promise<number[]> {
  const f = need();
  const { backend } = await openIdbStore({ name: dbName, now: () => Date.now() });
  const db = backend.connection();
  const contactId = toHex(f.aliceKey);
  const mailbox = mailboxAddress(f.aliceKey);
  const envelope = f.envelopes[0]!.body;
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(['sessions', 'messages', 'conversations', 'outbox'], 'readwrite', { durability: DEFAULT_DURABILITY });
      const now = Date.now();
      const id = toHex(secureRandom.bytes(16));
      tx.objectStore('sessions').put({ contactId, version: i + 1, state: f.bobSessions, updatedAt: now });
      tx.objectStore('messages').put({ id, contactId, direction: 'out', body: MESSAGE_TEXT, sentAt: now, order: i, status: 'queued', envelopeId: id, updatedAt: now });
      tx.objectStore('conversations').put({ contactId, lastMessage: { messageId: id, text: MESSAGE_TEXT, at: now, direction: 'out' }, unread: 0, lastActivityAt: now, nextOrder: i + 1 });
      tx.objectStore('outbox').put({ envelopeId: id, messageId: id, contactId, mailbox, state: 'ready', envelope, seq: i, attempts: 0, nextAttemptAt: now, createdAt: now });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    latencies.push(performance.now() - t0);
  }
  db.close();
  return latencies;
}

/** Deletes a benchmark database (between rounds, so the profile does not grow without bound). */
export function drop(dbName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.deleteDatabase(dbName);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
    req.onblocked = () => resolve();
  });
}

let worker: ReturnType<typeof workerCaller> | undefined;

/** `receive` on this page's thread, its long tasks observed (the core on the UI thread, before issue 22). */
export function receiveOnUiThread(dbName: string, count: number, durability: Durability = DEFAULT_DURABILITY): Promise<{ result: ReceiveOutcome; longTasks: LongTasks }> {
  return watchLongTasks(() => receive(dbName, count, durability));
}

/** `receive` in a dedicated Worker (as the app runs its core), this page's long tasks observed meanwhile. */
export async function receiveInWorker(dbName: string, count: number, durability: Durability = DEFAULT_DURABILITY): Promise<{ result: ReceiveOutcome; longTasks: LongTasks }> {
  if (!worker) {
    worker = workerCaller(WORKER_URL);
    await worker.call('load', FIXTURE_URL);
  }
  const w = worker;
  return watchLongTasks(() => w.call<ReceiveOutcome>('receive', dbName, count, durability));
}

/** Where the page serves this bundle for workers, and the fixture (bench/catchup.bench.ts). */
const WORKER_URL = '/catchup-worker.js';
const FIXTURE_URL = '/fixture.cbor';

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined') {
  serveInWorker({ load, receive } as unknown as Record<string, (...args: unknown[]) => unknown>);
}
