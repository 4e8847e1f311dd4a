import { describe, expect, it } from 'vitest';
import { SendPacer } from '../../src/core/transport/send-pacer.ts';
import { FakeClock } from '../../src/core/clock.ts';
import { flush } from './fakes.ts';

describe('send pacer', () => {
  it('grants a burst at once, then the sustained rate, in FIFO order', async () => {
    const clock = new FakeClock(0);
    const pacer = new SendPacer(clock, { ratePerSec: 10, burst: 3, maxInFlight: 100 });
    const granted: number[] = [];
    for (let i = 0; i < 6; i++) void pacer.acquire().then((release) => (granted.push(i), release()));
    await flush();
    expect(granted).toEqual([0, 1, 2]);
    clock.advance(99);
    await flush();
    expect(granted).toHaveLength(3);
    clock.advance(1); // one token per 100 ms
    await flush();
    expect(granted).toEqual([0, 1, 2, 3]);
    clock.advance(200);
    await flush();
    expect(granted).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('caps sends in flight until earlier ones are released', async () => {
    const clock = new FakeClock(0);
    const pacer = new SendPacer(clock, { ratePerSec: 1_000, burst: 100, maxInFlight: 2 });
    const releases: Array<() => void> = [];
    for (let i = 0; i < 4; i++) void pacer.acquire().then((r) => releases.push(r));
    await flush();
    expect([releases.length, pacer.active, pacer.waiting]).toEqual([2, 2, 2]);
    releases[0]!();
    releases[0]!(); // releasing twice frees one slot only
    await flush();
    expect([releases.length, pacer.active, pacer.waiting]).toEqual([3, 2, 1]);
  });

  it('fails waiting sends when the link drops, keeps granted ones', async () => {
    const clock = new FakeClock(0);
    const pacer = new SendPacer(clock, { ratePerSec: 1, burst: 1, maxInFlight: 10 });
    const first = pacer.acquire();
    const second = pacer.acquire();
    pacer.rejectWaiting(() => new Error('disconnected'));
    await expect(first).resolves.toBeTypeOf('function');
    await expect(second).rejects.toThrow('disconnected');
    expect(clock.pending()).toBe(0);
    expect(() => new SendPacer(clock, { ratePerSec: 0, burst: 1, maxInFlight: 1 })).toThrow(RangeError);
  });
});
