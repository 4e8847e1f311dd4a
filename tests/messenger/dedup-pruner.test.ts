/**
 * Dedup marks stay bounded in a core that runs for weeks, not only at boot: pruned on an
 * interval (retention) and after a burst of commits (count), under a fake clock.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { DEDUP_PRUNE_INTERVAL_MS, DedupPruner } from '../../src/core/messenger/dedup-pruner.ts';
import { createMemoryStore, type IdentityRecord, type PetrelStore } from '../../src/core/store/index.ts';
import { flush } from '../transport/fakes.ts';
import { befriend, ClockedWorld, makeIdentity } from './clocked-world.ts';

const id = (n: number) => n.toString(16).padStart(32, '0');

async function mark(store: PetrelStore, from: number, count: number, at: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => id(from + i));
  await store.commitIncomingBatch(ids.map((envelopeId) => ({ envelopeId, receivedAt: at })));
  return ids;
}

describe('DedupPruner', () => {
  it('prunes expired marks on its interval, not only at start', async () => {
    const clock = new FakeClock();
    const store = createMemoryStore({ now: () => clock.now(), dedupRetentionMs: 10_000, dedupMaxEntries: 1_000 });
    const pruner = new DedupPruner(store, clock, silentLogger);
    pruner.start();
    await pruner.idle();
    const ids = await mark(store, 1, 10, clock.now());
    clock.advance(DEDUP_PRUNE_INTERVAL_MS - 1);
    await flush();
    expect((await store.processedEnvelopes(ids)).size).toBe(10);
    clock.advance(1);
    await pruner.idle();
    expect((await store.processedEnvelopes(ids)).size).toBe(0);
    // And again an interval later.
    const later = await mark(store, 100, 3, clock.now());
    clock.advance(DEDUP_PRUNE_INTERVAL_MS);
    await pruner.idle();
    expect((await store.processedEnvelopes(later)).size).toBe(0);
    pruner.stop();
    expect(clock.pending()).toBe(0);
  });

  it('a burst of commits prunes down to the count bound without waiting for the interval', async () => {
    const clock = new FakeClock();
    const store = createMemoryStore({ now: () => clock.now(), dedupMaxEntries: 100 });
    const pruner = new DedupPruner(store, clock, silentLogger, { afterEnvelopes: 50 });
    pruner.start();
    await pruner.idle();
    let n = 0;
    for (let batch = 0; batch < 6; batch++) {
      clock.advance(1); // distinct times: the oldest go first
      await mark(store, n, 40, clock.now());
      n += 40;
      pruner.committed(40);
      await pruner.idle();
      await flush();
    }
    const all = Array.from({ length: n }, (_, i) => id(i));
    const kept = await store.processedEnvelopes(all);
    // Never more than the bound plus one burst; the newest are the ones kept.
    expect(kept.size).toBeLessThanOrEqual(100 + 50);
    expect(kept.has(id(n - 1))).toBe(true);
    expect(kept.has(id(0))).toBe(false);
    pruner.stop();
  });
});

describe('a running messenger', () => {
  let BOB: IdentityRecord;
  let ALICE: IdentityRecord;
  beforeAll(() => {
    ALICE = makeIdentity('Alice', 51);
    BOB = makeIdentity('Bob', 52);
  }, 60_000);

  it('drops dedup marks past the retention while it keeps running', async () => {
    const world = new ClockedWorld(53);
    const alice = await world.device(ALICE);
    const bob = await world.device(BOB, { storeOptions: { dedupRetentionMs: 24 * 3_600_000 } });
    const { aSeesB, bSeesA } = await befriend(alice, bob);
    await alice.messenger.send(aSeesB, 'remember me for a day');
    await world.until(async () => (await bob.store.getConversation(bSeesA))?.unread === 1);
    const envelopeId = (await alice.store.pageMessages(aSeesB, { limit: 1 })).messages[0]!.envelopeId!;
    expect((await bob.store.processedEnvelopes([envelopeId])).size).toBe(1);
    await alice.messenger.stop();

    await world.run(24 * 3_600_000 + DEDUP_PRUNE_INTERVAL_MS, 10 * 60_000);
    expect((await bob.store.processedEnvelopes([envelopeId])).size).toBe(0);
    await bob.messenger.stop();
  });
});
