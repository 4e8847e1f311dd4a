import { describe, expect, it } from 'vitest';
import { AckBatcher, MAX_QUEUED_ACKS } from '../../src/core/transport/ack-batcher.ts';
import { PendingRequests } from '../../src/core/transport/pending-requests.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { MAX_ACK_IDS, UINT32_MAX } from '../../src/core/wire/index.ts';

const id = (n: number) => {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};

describe('ack batcher', () => {
  it('coalesces acks within the delay into one batch, without duplicates', () => {
    const clock = new FakeClock(0);
    const batches: number[][] = [];
    const acks = new AckBatcher(clock, (ids) => (batches.push(ids.map((i) => new DataView(i.buffer).getUint32(0))), true), 20);
    acks.add(id(1));
    acks.add(id(2));
    acks.add(id(1));
    clock.advance(19);
    expect(batches).toEqual([]);
    clock.advance(1);
    expect(batches).toEqual([[1, 2]]);
    expect(acks.queued).toBe(0);
  });

  it('sends at once when a frame is full and never more than MAX_ACK_IDS per frame', () => {
    const clock = new FakeClock(0);
    const sizes: number[] = [];
    const acks = new AckBatcher(clock, (ids) => (sizes.push(ids.length), true));
    for (let i = 0; i < MAX_ACK_IDS + 10; i++) acks.add(id(i));
    expect(sizes).toEqual([MAX_ACK_IDS]);
    clock.advance(100);
    expect(sizes).toEqual([MAX_ACK_IDS, 10]);
  });

  it('keeps ids it could not send until a later flush succeeds, within a bound', () => {
    const clock = new FakeClock(0);
    let up = false;
    const sent: number[] = [];
    const acks = new AckBatcher(clock, (ids) => (up ? (sent.push(ids.length), true) : false));
    acks.add(id(1));
    clock.advance(100);
    expect(acks.queued).toBe(1);
    up = true;
    acks.flush();
    expect(sent).toEqual([1]);
    up = false;
    for (let i = 0; i < MAX_QUEUED_ACKS + 50; i++) acks.add(id(i));
    expect(acks.queued).toBe(MAX_QUEUED_ACKS);
  });
});

describe('pending requests', () => {
  it('correlates responses by rid, times out on the clock, and rejects all on disconnect', async () => {
    const clock = new FakeClock(0);
    const reqs = new PendingRequests<string>(clock, UINT32_MAX - 1);
    const r1 = reqs.nextRid();
    const r2 = reqs.nextRid();
    expect([r1, r2]).toEqual([UINT32_MAX, 1]); // wraps, never 0
    const p1 = reqs.wait(r1, 100, () => new Error('timeout'));
    const p2 = reqs.wait(r2, 100, () => new Error('timeout'));
    expect(reqs.resolve(999, 'forged')).toBe(false);
    expect(reqs.resolve(r1, 'one')).toBe(true);
    await expect(p1).resolves.toBe('one');
    clock.advance(100);
    await expect(p2).rejects.toThrow('timeout');
    const p3 = reqs.wait(reqs.nextRid(), 100, () => new Error('timeout'));
    reqs.rejectAll(() => new Error('disconnected'));
    await expect(p3).rejects.toThrow('disconnected');
    expect(reqs.size).toBe(0);
    expect(clock.pending()).toBe(0);
  });
});
