/**
 * The delivery pump when offers come out of commit order (issue 18): a `send.multi` and a
 * `send` to the same mailbox committed in one transaction, the `send` offered first (its
 * handler has one announcement to await, the multi one per recipient). The envelope
 * committed first but offered second must still be pushed, once.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { DeliveryPump } from '../../src/relay/mailbox/delivery-pump.ts';
import type { MailboxStore, StoredEnvelope } from '../../src/relay/mailbox/mailbox-store.ts';
import type { RelayMetrics } from '../../src/relay/metrics.ts';
import type { Connection } from '../../src/relay/ws/connection.ts';
import type { Envelope } from '../../src/core/wire/index.ts';

const MAILBOX = new Uint8Array(32).fill(7);
const env = (n: number): Envelope => ({ to: MAILBOX, id: new Uint8Array(16).fill(n), body: new Uint8Array([n]) });

function world() {
  const stored: StoredEnvelope[] = [];
  const pushed: number[] = [];
  let delivered = 0;
  const conn = {
    open: true,
    mailbox: MAILBOX,
    buffered: () => 0,
    send: (f: { t: string; env: Envelope }) => {
      pushed.push(f.env.body[0]!);
      return true;
    },
    whenDrained: (fn: () => void) => fn(),
  } as unknown as Connection;
  const store = {
    pending: async (_m: Uint8Array, after: number, limit: number) => stored.filter((s) => s.seq > after).slice(0, limit),
  } as unknown as MailboxStore;
  const metrics = { deliveries: { inc: () => delivered++ }, handlerFailures: { inc: () => undefined } } as unknown as RelayMetrics;
  const pump = new DeliveryPump(conn, store, metrics, pino({ level: 'silent' }));
  const commit = (seq: number) => stored.push({ seq, env: env(seq), depositedAt: 0 });
  const settle = () => new Promise<void>((r) => setTimeout(r, 5));
  return { pump, pushed, commit, settle, delivered: () => delivered };
}

describe('delivery pump', () => {
  it('an envelope offered after a later one it was committed before is still pushed, once', async () => {
    const w = world();
    w.pump.kick(); // caught up on an empty mailbox
    await w.settle();
    w.commit(5); // the multi deposit
    w.commit(6); // the single deposit, same transaction
    w.pump.offer(6, env(6)); // offered first: pushed directly
    w.pump.offer(5, env(5)); // late: below the cursor, never read back from the store
    await w.settle();
    expect(w.pushed.sort()).toEqual([5, 6]);
    // Offered again, or read again by a later run: not pushed twice.
    w.pump.offer(5, env(5));
    w.pump.offer(6, env(6));
    w.commit(7);
    w.pump.offer(7, env(7));
    await w.settle();
    expect(w.pushed.sort()).toEqual([5, 6, 7]);
    expect(w.delivered()).toBe(3);
  });

  it('in order, each offer is pushed directly once', async () => {
    const w = world();
    w.pump.kick();
    await w.settle();
    for (const n of [1, 2, 3]) {
      w.commit(n);
      w.pump.offer(n, env(n));
    }
    await w.settle();
    expect(w.pushed).toEqual([1, 2, 3]);
  });
});
