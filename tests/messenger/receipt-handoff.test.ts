/**
 * The delivery receipt's hand-off at commit (issue 22): the receive batch's commit says
 * which receipt entries are their contact's head of line (IncomingBatchCommitted.heads),
 * and the outbox hands them to a transport at once, without a round reading every
 * queue's head again. Never before the commit has resolved (strict durability: nothing
 * leaves the device that storage does not hold).
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore, type IncomingCommit, type PetrelStore } from '../../src/core/store/index.ts';
import { device, introduce, onboard, testWorld, until } from './harness.ts';

const { relay, track } = testWorld();

/** Bob's store: a receive commit that carries a message takes `holdMs` before it writes anything; each resolution's time is kept. */
function slowReceiveStore(holdMs: number) {
  const inner = createMemoryStore({ now: () => Date.now() });
  const store = Object.create(inner) as PetrelStore;
  const resolved: number[] = [];
  store.commitIncomingBatch = async (batch: readonly IncomingCommit[]) => {
    if (batch.some((c) => c.message)) await new Promise((r) => setTimeout(r, holdMs));
    const committed = await inner.commitIncomingBatch(batch);
    if (batch.some((c) => c.message)) resolved.push(Date.now());
    return committed;
  };
  return { store, inner, resolved };
}

describe('the delivery receipt goes at its commit', () => {
  it('is handed to the relay once the receive commit resolved, not before, and without a round reading the queues', async () => {
    const r = await relay();
    const alice = track(device(r.url));
    const slow = slowReceiveStore(300);
    const bob = track(device(r.url, slow.store));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { aSeesB } = await introduce(alice, bob);
    await alice.messenger.openChat(aSeesB);
    const handedBefore = bob.metrics.counter('outbox.handed_at_commit');

    const sentAt = Date.now();
    await alice.messenger.send(aSeesB, 'hello Bob');
    await until(alice, (s) => s.chat?.messages[0]?.status === 'delivered');
    const deliveredAt = Date.now();

    // Bob's commit of the message (and of its receipt's entry) resolved before Alice heard of it.
    expect(slow.resolved).toHaveLength(1);
    expect(slow.resolved[0]!).toBeGreaterThanOrEqual(sentAt + 300);
    expect(slow.resolved[0]!).toBeLessThanOrEqual(deliveredAt);
    // The receipt went by the hand-off (the only entry Bob queued), and nothing of it is left queued.
    expect(bob.metrics.counter('outbox.handed_at_commit') - handedBefore).toBe(1);
    expect(await slow.inner.queueDepth()).toBe(0);
    expect(bob.metrics.counter('crypto.failure')).toBe(0);
  });
});
