/**
 * The hand-off at commit (issue 22): a message the store commits as its contact's head of
 * line (`OutgoingCommitted.head`) goes to the router at once (`OutboxWorker.offer`),
 * without a round reading every queue's head from storage. It keeps the outbox's rules:
 * one in flight per contact, compose order, each envelope sent once per attempt, and a
 * crash between the commit and the hand-off loses nothing (the next round sends it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { OutboxWorker } from '../../src/core/messenger/outbox-worker.ts';
import { Router, type RouterConfig } from '../../src/core/transport/index.ts';
import { silentLogger } from '../../src/core/log.ts';
import { FakeTransport } from '../transport/fakes.ts';
import { outboxRig, type OutboxRig } from './outbox-rig.ts';

const rigs: OutboxRig[] = [];
const extra: Array<() => void> = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.stop();
  for (const s of extra.splice(0)) s();
});

const NO_BREAKER: RouterConfig['breaker'] = { failureThreshold: 1_000_000, openCooldownMs: 1_000, cooldownMultiplier: 1, maxCooldownMs: 1_000 };

async function rig(relay: FakeTransport, config: Partial<RouterConfig> = {}): Promise<OutboxRig & { heads(): number }> {
  const r = await outboxRig([relay], { breaker: NO_BREAKER, ...config });
  rigs.push(r);
  // Counts the rounds' reads of every queue's head.
  let heads = 0;
  const read = r.store.outboxHeads.bind(r.store);
  r.store.outboxHeads = (max: number) => {
    heads++;
    return read(max);
  };
  return Object.assign(r, { heads: () => heads });
}

const ids = (relay: FakeTransport) => relay.sent.map((e) => toHex(e.id));

describe('OutboxWorker.offer: the entry committed as its contact head goes at once', () => {
  it('is sent without a round reading the queues, marked sent, and counted', async () => {
    const relay = new FakeTransport('relay');
    const r = await rig(relay);
    const m = await r.queue(1, 'hello');
    expect(m.head).toMatchObject({ envelopeId: m.envelopeId, state: 'ready' });
    r.worker.offer(m.head!);
    // Handed over synchronously: before any storage read.
    expect(ids(relay)).toEqual([m.envelopeId]);
    expect(r.heads()).toBe(0);
    await r.run(0);
    expect(await r.message(m.messageId)).toMatchObject({ status: 'sent', via: 'relay' });
    expect(await r.store.queueDepth()).toBe(0);
    expect(r.metrics.snapshot().counters['outbox.handed_at_commit']).toBe(1);
    expect(ids(relay)).toEqual([m.envelopeId]);
  });

  it('is not the head while an earlier message of the contact waits (pushed back): order is kept', async () => {
    const relay = new FakeTransport('relay');
    relay.fail('timeout', 1);
    const r = await rig(relay, { backoff: { baseMs: 1_000, capMs: 1_000 } });
    const first = await r.queue(1, 'first');
    r.worker.offer(first.head!);
    await r.run(0); // failed once, pushed back
    const second = await r.queue(1, 'second');
    expect(second.head).toBeUndefined();
    // A message to another contact is its own head.
    const other = await r.queue(2, 'other');
    expect(other.head).toBeDefined();
    await r.run(5_000);
    const toOne = ids(relay).filter((id) => id !== other.envelopeId);
    expect(toOne).toEqual([first.envelopeId, first.envelopeId, second.envelopeId]);
    expect(await r.message(second.messageId)).toMatchObject({ status: 'sent' });
  });

  it('failed messages (waiting for a manual retry) do not keep a new one from being the head', async () => {
    const relay = new FakeTransport('relay');
    const r = await rig(relay);
    const old = await r.queue(1, 'given up');
    await r.store.markFailed(old.envelopeId, 'Not delivered after repeated attempts');
    const m = await r.queue(1, 'new');
    expect(m.head?.envelopeId).toBe(m.envelopeId);
  });

  it('a round and an offer of the same entry at once: it goes once', async () => {
    const relay = new FakeTransport('relay');
    const r = await rig(relay);
    const m = await r.queue(1);
    r.worker.kick(); // a round reading the heads (the entry among them)
    r.worker.offer(m.head!);
    await r.run(1_000);
    expect(ids(relay)).toEqual([m.envelopeId]);
  });

  it("one contact's send hanging does not hold another contact's head; each goes once", async () => {
    const relay = new FakeTransport('relay');
    relay.hang(); // the first send never answers until the timeout
    const r = await rig(relay, { backoff: { baseMs: 100, capMs: 100 } });
    const a = await r.queue(1, 'a');
    r.worker.offer(a.head!);
    // A head for another contact committed while the first is in flight goes at once too (a different contact).
    const b = await r.queue(2, 'b');
    relay.fallback = async () => {};
    r.worker.offer(b.head!);
    expect(ids(relay)).toEqual([a.envelopeId, b.envelopeId]);
    await r.run(60_000, 1_000);
    // a timed out once and went again; b once.
    expect(ids(relay).filter((id) => id === b.envelopeId)).toHaveLength(1);
    expect(await r.message(a.messageId)).toMatchObject({ status: 'sent' });
    expect(await r.store.queueDepth()).toBe(0);
  });

  it('a crash between the commit and the hand-off: the next core sends it once, before what is composed after', async () => {
    const relay = new FakeTransport('relay');
    const r = await rig(relay);
    const lost = await r.queue(1, 'committed, never handed over');
    expect(lost.head).toBeDefined();
    // The worker dies with it (no offer, no round).
    r.worker.stop();
    const router = new Router([relay], { clock: r.clock, random: r.ctx.random, metrics: r.metrics, logger: silentLogger }, { breaker: NO_BREAKER });
    const next = new OutboxWorker(r.ctx, router, () => {});
    extra.push(() => (next.stop(), router.dispose()));
    const after = await r.queue(1, 'composed after the restart');
    expect(after.head).toBeUndefined(); // the lost one is still queued ahead of it
    next.kick(); // the new core's first round
    await r.run(2_000);
    expect(ids(relay)).toEqual([lost.envelopeId, after.envelopeId]);
    expect(await r.store.queueDepth()).toBe(0);
  });
});
