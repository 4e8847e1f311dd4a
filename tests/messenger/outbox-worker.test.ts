/**
 * The production retry path (OutboxWorker → Router.attempt → durable outbox) under a
 * fake clock: backoff between rounds, the retry budget spent → `failed` with a reason,
 * a manual retry with a whole new budget (attempts AND age), and one contact's messages
 * leaving strictly in compose order even when its oldest is pushed back behind a page of
 * later ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { backoffWindow, TransportSendError } from '../../src/core/transport/index.ts';
import type { RouterConfig } from '../../src/core/transport/index.ts';
import { toHex } from '../../src/core/bytes.ts';
import { FakeTransport } from '../transport/fakes.ts';
import { contactIdOf, mailboxOf, outboxRig, START, type OutboxRig } from './outbox-rig.ts';
import { RELAY_ORDER_HOLD_MAX_MS } from '../../src/core/messenger/relay-order-hold.ts';

const rigs: OutboxRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.stop();
});

/** A breaker that never opens, so every round is an attempt (the breaker has its own tests). */
const NO_BREAKER: RouterConfig['breaker'] = { failureThreshold: 1_000_000, openCooldownMs: 1_000, cooldownMultiplier: 1, maxCooldownMs: 1_000 };

async function rig(relay: FakeTransport, config: Partial<RouterConfig>): Promise<OutboxRig> {
  const r = await outboxRig([relay], { breaker: NO_BREAKER, ...config });
  rigs.push(r);
  return r;
}

/** Records the clock at every send and fails it, until `succeed` is set. */
function scripted(clock: () => number) {
  const relay = new FakeTransport('relay');
  const at: number[] = [];
  const state = { succeed: false };
  relay.fallback = async () => {
    at.push(clock());
    if (!state.succeed) throw new TransportSendError('timeout', 'relay');
  };
  return { relay, at, state };
}

describe('OutboxWorker under a fake clock', () => {
  it('retries with full-jitter backoff, gives up after the budget with a reason, and a manual retry sends it', async () => {
    let now = () => START;
    const s = scripted(() => now());
    const r = await rig(s.relay, { budget: { maxAttempts: 4, maxAgeMs: 24 * 3_600_000 }, backoff: { baseMs: 1_000, capMs: 8_000 } });
    now = () => r.clock.now();
    const m = await r.queue(1, 'hello');
    r.worker.kick();

    await r.run(0);
    expect(s.at).toEqual([START]);
    // The failed round is durable before the next: attempts and the next time are in the outbox.
    const [entry] = await r.store.dueOutbox(Number.MAX_SAFE_INTEGER, 10);
    expect(entry).toMatchObject({ envelopeId: m.envelopeId, attempts: 1, lastError: 'all_failed' });
    expect(entry!.nextAttemptAt - START).toBeLessThan(backoffWindow(0, { baseMs: 1_000, capMs: 8_000 }));

    await r.run(60_000);
    expect(s.at).toHaveLength(4);
    for (let k = 1; k < s.at.length; k++) {
      // Attempt k+1 waits at most the window after k failed rounds (1 s, 2 s, 4 s), never before the previous.
      expect(s.at[k]! - s.at[k - 1]!).toBeGreaterThanOrEqual(0);
      expect(s.at[k]! - s.at[k - 1]!).toBeLessThan(backoffWindow(k - 1, { baseMs: 1_000, capMs: 8_000 }) + 100);
    }
    expect(await r.message(m.messageId)).toMatchObject({ status: 'failed', failure: 'Not delivered after repeated attempts' });
    expect(await r.store.queueDepth()).toBe(0);
    expect(r.metrics.counter('retry.count')).toBe(3);

    // Nothing more happens on its own.
    await r.run(600_000, 10_000);
    expect(s.at).toHaveLength(4);

    s.state.succeed = true;
    await r.store.retry(m.messageId, r.clock.now());
    r.worker.kick();
    await r.run(0);
    expect(s.at).toHaveLength(5);
    expect(s.relay.sent.map((e) => toHex(e.id))).toEqual(Array(5).fill(m.envelopeId));
    expect(await r.message(m.messageId)).toMatchObject({ status: 'sent', via: 'relay' });
    expect((await r.message(m.messageId)).failure).toBeUndefined();
    expect(await r.store.queueDepth()).toBe(0);
  });

  it('a message given up for age gets a whole new age budget from a manual retry', async () => {
    const relay = new FakeTransport('relay');
    const r = await rig(relay, { budget: { maxAttempts: 10, maxAgeMs: 10_000 }, backoff: { baseMs: 1_000, capMs: 2_000 } });
    relay.setAvailable(false);
    const m = await r.queue(1, 'while offline');
    r.worker.kick();
    await r.run(15_000);
    expect(relay.sent).toHaveLength(0);
    expect(await r.message(m.messageId)).toMatchObject({ status: 'failed', failure: 'No connection for too long' });

    // Long after compose time: back online, the first try fails, the second would succeed.
    await r.run(3_600_000, 60_000);
    const retriedAt = r.clock.now();
    relay.available = true;
    relay.fail('timeout', 1).succeed(1);
    await r.store.retry(m.messageId, retriedAt);
    const [entry] = await r.store.dueOutbox(retriedAt, 10);
    expect(entry).toMatchObject({ createdAt: START, firstAttemptAt: retriedAt, attempts: 0 });
    r.worker.kick();
    await r.run(5_000);
    expect(relay.sent).toHaveLength(2);
    expect(await r.message(m.messageId)).toMatchObject({ status: 'sent' });
  });

  it('600 queued to one contact, the oldest pushed back behind a full page of later ones: still strictly in compose order', async () => {
    const relay = new FakeTransport('relay');
    relay.fail('timeout', 1); // the oldest fails once; everything after succeeds
    const r = await rig(relay, { budget: { maxAttempts: 10, maxAgeMs: 24 * 3_600_000 }, backoff: { baseMs: 1_000, capMs: 1_000 } });
    const queued: string[] = [];
    for (let i = 0; i < 600; i++) queued.push((await r.queue(1, `m${i}`)).envelopeId);
    // Another contact's messages are not held back by it.
    const other = await r.queue(2, 'to someone else');
    r.worker.kick();
    await r.run(0);
    const sentTo = (envelopeId: string) => relay.sent.some((e) => toHex(e.id) === envelopeId);
    const otherSentEarly = sentTo(other.envelopeId);

    await r.run(5_000);
    const toOne = relay.sent.map((e) => toHex(e.id)).filter((id) => id !== other.envelopeId);
    // The oldest failed, was pushed back, and still went before any later one.
    expect(toOne.slice(0, 2)).toEqual([queued[0], queued[0]]);
    expect(toOne.filter((id, i) => id !== toOne[i - 1])).toEqual(queued);
    expect(await r.store.queueDepth()).toBe(0);
    // The other contact's head was not stuck behind contact 1's queue.
    expect(otherSentEarly).toBe(true);
  });

  it('a contact whose oldest message waits for a session sends nothing after it', async () => {
    const relay = new FakeTransport('relay');
    const r = await rig(relay, {});
    await r.store.commitPendingOutgoing({
      message: { id: 'ab'.repeat(16), contactId: contactIdOf(3), body: 'first, no session yet', sentAt: START },
      job: { envelopeId: 'cd'.repeat(16), mailbox: new Uint8Array(32).fill(3), plaintext: new Uint8Array([1]) },
    });
    // A later message already encrypted (e.g. a session arrived from the other side meanwhile).
    const later = await r.queue(3, 'second');
    r.worker.kick();
    await r.run(10_000);
    expect(relay.sent).toHaveLength(0);
    expect(await r.message(later.messageId)).toMatchObject({ status: 'queued' });
  });

  describe('order across the two paths', () => {
    /** Direct first, relay second, as in the app; contact 1's channel is down at first. */
    async function twoPaths() {
      const direct = new FakeTransport('direct');
      const relay = new FakeTransport('relay');
      direct.setAvailable(false, mailboxOf(1));
      const r = await outboxRig([direct, relay], { breaker: NO_BREAKER });
      rigs.push(r);
      const sendOne = async (body: string) => {
        const m = await r.queue(1, body);
        r.worker.kick();
        await r.run(0);
        return m;
      };
      let receipts = 0;
      const delivered = (...ids: string[]) =>
        r.store.commitIncoming({
          envelopeId: toHex(new Uint8Array(16).fill(0x70 + ++receipts)),
          from: contactIdOf(1),
          receivedAt: r.clock.now(),
          statusUpdates: ids.map((messageId) => ({ messageId, status: 'delivered' as const })),
        });
      const carriers = (ids: readonly { envelopeId: string }[]) =>
        ids.map((m) => (direct.sent.some((e) => toHex(e.id) === m.envelopeId) ? 'direct' : relay.sent.some((e) => toHex(e.id) === m.envelopeId) ? 'relay' : 'unsent'));
      return { r, direct, relay, sendOne, delivered, carriers };
    }

    it('a message still in the relay mailbox keeps later ones off a channel that just opened, until its receipt is in', async () => {
      const { r, direct, sendOne, delivered, carriers } = await twoPaths();
      const m1 = await sendOne('while the channel is down');
      direct.setAvailable(true, mailboxOf(1)); // the channel opens; m1 may still sit in the mailbox
      const m2 = await sendOne('would overtake m1 on the channel');
      const m3 = await sendOne('and so would this one');
      expect(carriers([m1, m2, m3])).toEqual(['relay', 'relay', 'relay']);
      expect(r.metrics.counter('direct.order_hold.diverted')).toBe(2);
      await delivered(m1.messageId, m2.messageId); // m3 is still in the mailbox
      const m4 = await sendOne('behind m3 (and so in the mailbox itself)');
      await delivered(m3.messageId);
      const m5 = await sendOne('behind m4');
      await delivered(m4.messageId, m5.messageId);
      const m6 = await sendOne('everything before me is confirmed');
      expect(carriers([m4, m5, m6])).toEqual(['relay', 'relay', 'direct']);
      expect(direct.sent).toHaveLength(1);
    });

    it('receipts are not held (they have no place in the conversation), and other contacts are not held', async () => {
      const { r, direct, relay, sendOne, carriers } = await twoPaths();
      await sendOne('in the mailbox');
      direct.setAvailable(true, mailboxOf(1));
      await r.store.commitIncoming({
        envelopeId: 'f1'.repeat(16),
        from: contactIdOf(1),
        receivedAt: r.clock.now(),
        outboxEntries: [{ envelopeId: 'f2'.repeat(16), contactId: contactIdOf(1), mailbox: mailboxOf(1), envelope: new Uint8Array([0xee, 1]) }],
      });
      const other = await r.queue(2, 'to contact 2');
      r.worker.kick();
      await r.run(0);
      expect(direct.sent.map((e) => toHex(e.id))).toEqual(['f2'.repeat(16), other.envelopeId]);
      expect(carriers([other])).toEqual(['direct']);
      expect(relay.sent).toHaveLength(1);
    });

    it('after a restart the hold is rebuilt from the stored messages', async () => {
      const { r, direct, sendOne, carriers } = await twoPaths();
      const m1 = await sendOne('relayed before the restart');
      const { OutboxWorker } = await import('../../src/core/messenger/outbox-worker.ts');
      r.worker.stop();
      const restarted = new OutboxWorker(r.ctx, r.router, () => {});
      direct.setAvailable(true, mailboxOf(1));
      const m2 = await r.queue(1, 'after the restart');
      restarted.kick();
      await r.run(0);
      restarted.stop();
      expect(carriers([m1, m2])).toEqual(['relay', 'relay']);
    });

    it('a receipt that never comes holds the channel back for RELAY_ORDER_HOLD_MAX_MS at most', async () => {
      const { r, direct, sendOne, carriers } = await twoPaths();
      await sendOne('never confirmed');
      direct.setAvailable(true, mailboxOf(1));
      const held = await sendOne('held');
      await r.run(RELAY_ORDER_HOLD_MAX_MS, 10_000);
      const freed = await sendOne('freed');
      expect(carriers([held, freed])).toEqual(['relay', 'direct']);
      expect(r.metrics.counter('direct.order_hold.expired')).toBe(1);
    });
  });
});
