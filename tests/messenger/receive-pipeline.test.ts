/**
 * The receive pipeline over a backlog of several batches (decrypting batch N+1 while N
 * commits): every envelope is acknowledged only after the commit that holds it, a failed
 * commit acknowledges nothing of its batch or the later ones and changes no state, and
 * after the retry every message is stored exactly once with no crypto failure.
 */
import { describe, expect, it } from 'vitest';
import { makeCatchupFixture, type CatchupFixture } from '../../bench/catchup/fixture.ts';
import { toHex } from '../../src/core/bytes.ts';
import { FakeClock, systemClock, type Clock } from '../../src/core/clock.ts';
import { CryptoRuntime, deserializePreKeyPool, identityFromSeed } from '../../src/core/crypto/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { ContactDirectory } from '../../src/core/messenger/contact-directory.ts';
import { RECEIVE_BATCH_MAX, RECEIVE_RETRY_DELAY_MS, ReceivePipeline } from '../../src/core/messenger/receive-pipeline.ts';
import { flush } from '../transport/fakes.ts';
import { SerialLane } from '../../src/core/messenger/serial-lane.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore, type ContactRecord, type IncomingCommit, type PetrelStore } from '../../src/core/store/index.ts';
import { IngressGuard, wireFrameDecoder } from '../../src/core/transport/index.ts';
import { messageView } from '../../src/core/messenger/message-view.ts';
import type { Content } from '../../src/core/wire/index.ts';

const ENVELOPES = RECEIVE_BATCH_MAX * 3 + 17;

async function setUp(failCommit: number | undefined, clock: Clock = systemClock, gate?: Promise<void>, fixture?: CatchupFixture) {
  const f = fixture ?? (await makeCatchupFixture(ENVELOPES));
  const inner = createMemoryStore({ now: () => Date.now() });
  const contact: ContactRecord = { id: toHex(f.aliceKey), displayName: 'Alice', identityKey: f.aliceKey, verification: 'unverified', addedAt: Date.now() };
  await inner.saveIdentity({ id: 'self', seed: f.bobSeed, displayName: 'Bob', createdAt: Date.now(), preKeyPool: f.bobPool, nextPreKeyId: 1 });
  await inner.putContact(contact);
  await inner.commitSession({ contactId: contact.id, expectedVersion: null, state: f.bobSessions });

  // Records which envelopes a resolved commit holds; the `failCommit`-th commit (1-based) fails once, writing nothing.
  const committed = new Set<string>();
  let commits = 0;
  const store: PetrelStore = Object.create(inner) as PetrelStore;
  store.commitIncomingBatch = async (batch: readonly IncomingCommit[]) => {
    const n = ++commits;
    await gate;
    if (n === failCommit) throw new Error('disk went away');
    const results = await inner.commitIncomingBatch(batch);
    for (const c of batch) committed.add(c.envelopeId);
    return results;
  };

  const metrics = new InMemoryMetrics();
  const ctx = {
    store,
    clock,
    random: secureRandom,
    crypto: new CryptoRuntime(secureRandom),
    metrics,
    log: silentLogger,
    lane: new SerialLane(),
    identity: identityFromSeed(f.bobSeed),
    contacts: await ContactDirectory.load(inner),
    pool: deserializePreKeyPool(f.bobPool),
  };
  const guard = new IngressGuard({ decode: wireFrameDecoder('relay'), metrics, logger: silentLogger });
  const pipeline = new ReceivePipeline(ctx, guard, { committed: () => {} });
  const acks = new Map<string, number>();
  const ackedBeforeCommit: string[] = [];
  const acceptAll = () => {
    for (const envelope of f.envelopes) {
      const id = toHex(envelope.id);
      pipeline.accept({
        envelope,
        transport: 'relay',
        ack: () => {
          if (!committed.has(id)) ackedBeforeCommit.push(id);
          acks.set(id, (acks.get(id) ?? 0) + 1);
        },
      });
    }
  };
  return { f, inner, contact, metrics, pipeline, acks, ackedBeforeCommit, acceptAll, commits: () => commits };
}

function cryptoFailures(metrics: InMemoryMetrics): number {
  return Object.entries(metrics.snapshot().counters)
    .filter(([k]) => k.startsWith('crypto.failure'))
    .reduce((n, [, v]) => n + v, 0);
}

describe('receive pipeline: a backlog in pipelined batches', () => {
  it('commits every envelope once, in batches, and acks each only after its commit', async () => {
    const s = await setUp(undefined);
    s.acceptAll();
    await s.pipeline.idle();
    expect(s.ackedBeforeCommit).toEqual([]);
    expect(s.acks.size).toBe(ENVELOPES);
    expect([...s.acks.values()].every((n) => n === 1)).toBe(true);
    expect((await s.inner.getConversation(s.contact.id))?.unread).toBe(ENVELOPES);
    expect(cryptoFailures(s.metrics)).toBe(0);
    expect(s.commits()).toBe(Math.ceil(ENVELOPES / RECEIVE_BATCH_MAX));
    // One delivery receipt per batch, sealed with the carried (not yet committed) session.
    expect(await s.inner.queueDepth()).toBe(s.commits());
  });

  it.each([1, 2, 4])('commit %i fails: nothing of it or later is acked or written; the retry delivers everything exactly once', async (failing) => {
    const s = await setUp(failing);
    s.acceptAll();
    await s.pipeline.idle();
    expect(s.metrics.snapshot().counters['receive.commit_failure']).toBe(1);
    expect(s.ackedBeforeCommit).toEqual([]);
    expect(s.acks.size).toBe(ENVELOPES);
    expect([...s.acks.values()].every((n) => n === 1)).toBe(true);
    const conversation = await s.inner.getConversation(s.contact.id);
    expect(conversation?.unread).toBe(ENVELOPES);
    const page = await s.inner.pageMessages(s.contact.id, { limit: 200 });
    expect(new Set(page.messages.map((m) => m.order)).size).toBe(page.messages.length);
    expect(cryptoFailures(s.metrics)).toBe(0);
  }, 30_000);

  it('stopped while a commit fails: nothing is committed or acknowledged afterwards (the next core gets the envelopes)', async () => {
    const clock = new FakeClock();
    let open!: () => void;
    const s = await setUp(1, clock, new Promise<void>((r) => (open = r)));
    s.acceptAll();
    while (s.commits() === 0) await flush();
    // Stopped while its first commit is in flight; that commit then fails.
    const stopped = s.pipeline.stop();
    open();
    await stopped;
    while (!s.metrics.counter('receive.commit_failure')) await flush();
    await flush();
    // No retry left scheduled (it is what would come back and commit after the stop).
    expect(clock.pending()).toBe(0);
    // Well past the retry delay: a stopped pipeline must not come back and commit (it
    // would land after whatever the next core committed meanwhile: out of order).
    for (let i = 0; i < 5; i++) {
      clock.advance(RECEIVE_RETRY_DELAY_MS);
      await flush();
    }
    expect(s.commits()).toBe(1);
    expect(s.acks.size).toBe(0);
    expect(await s.inner.getConversation(s.contact.id)).toBeUndefined();
    // And it takes nothing new.
    s.acceptAll();
    await flush();
    expect(s.commits()).toBe(1);
  });
});

describe('receive pipeline: a file', () => {
  it('is stored as a message keeping its descriptor (blob id, key, digest, name, type, size), acked and receipted once like any message', async () => {
    const blob = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const key = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
    const digest = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
    const id = Uint8Array.from({ length: 16 }, () => 0xab);
    const file: Content = { t: 'file', id, ts: 1_700_000_000_000, blob, key, size: 2_500_000, digest, mime: 'application/pdf', name: 'plan.pdf' };
    const s = await setUp(undefined, systemClock, undefined, await makeCatchupFixture(1, () => file));
    s.acceptAll();
    await s.pipeline.idle();
    expect([...s.acks.values()]).toEqual([1]);
    const stored = (await s.inner.pageMessages(s.contact.id, { limit: 10 })).messages;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: toHex(id), direction: 'in', body: '', status: 'delivered' });
    expect(stored[0]!.attachment).toEqual({ blobId: toHex(blob), key, digest, size: 2_500_000, mime: 'application/pdf', name: 'plan.pdf' });
    expect(messageView(stored[0]!, 0).attachment).toEqual({ name: 'plan.pdf', mime: 'application/pdf', size: 2_500_000 });
    expect(s.metrics.snapshot().counters['receive.attachment']).toBe(1);
    // The delivery receipt owed to the sender is queued with the commit.
    expect(await s.inner.queueDepth()).toBe(1);
    expect(cryptoFailures(s.metrics)).toBe(0);
  });
});
