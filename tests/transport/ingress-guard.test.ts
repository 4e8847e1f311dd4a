import { describe, expect, it } from 'vitest';
import { IngressGuard, type FrameDecoder } from '../../src/core/transport/ingress-guard.ts';
import { RecentIds } from '../../src/core/transport/recent-ids.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { IncomingEnvelope, TransportName } from '../../src/core/transport/transport.ts';
import { envelope } from './fakes.ts';

type Frame = { t: string };
const decode: FrameDecoder<Frame> = (bytes) => {
  if (bytes.length === 0) return { ok: false, reason: 'malformed' };
  if (bytes[0] === 0xff) throw new Error('decoder bug');
  return { ok: true, frame: { t: `frame${bytes[0]}` } };
};

function setup(recentCapacity = 16) {
  const metrics = new InMemoryMetrics();
  const guard = new IngressGuard({ decode, metrics, logger: silentLogger, recentCapacity });
  const acks: string[] = [];
  const incoming = (n: number, transport: TransportName = 'relay', tag = ''): IncomingEnvelope => ({
    envelope: envelope(n),
    transport,
    ack: () => acks.push(`${transport}:${n}${tag}`),
  });
  return { metrics, guard, acks, incoming };
}

describe('ingress guard: frame validation', () => {
  it('passes valid frames, counts and drops invalid ones, and survives a throwing decoder', () => {
    const { guard, metrics } = setup();
    expect(guard.checkFrame(new Uint8Array([1]), 'relay')).toEqual({ t: 'frame1' });
    expect(guard.checkFrame(new Uint8Array([]), 'relay')).toBeUndefined();
    expect(guard.checkFrame(new Uint8Array([0xff]), 'direct')).toBeUndefined();
    expect(metrics.counter('packet.validation.failure', { reason: 'malformed' })).toBe(1);
    expect(metrics.counter('packet.validation.failure', { reason: 'decoder_error' })).toBe(1);
  });
});

describe('ingress guard: dedup before decryption', () => {
  it('a fresh envelope is acked only when the receiver reports its commit', () => {
    const { guard, acks, incoming } = setup();
    const a = guard.admit(incoming(1));
    expect(a.kind).toBe('fresh');
    expect(acks).toEqual([]);
    if (a.kind === 'fresh') a.settle('committed');
    expect(acks).toEqual(['relay:1']);
  });

  it('a replay after commit is counted, acked and dropped', () => {
    const { guard, acks, incoming, metrics } = setup();
    const first = guard.admit(incoming(1));
    if (first.kind !== 'fresh') throw new Error('expected fresh');
    first.settle('committed');
    expect(guard.admit(incoming(1, 'relay', '-again')).kind).toBe('replay');
    expect(guard.admit(incoming(1, 'direct')).kind).toBe('replay');
    expect(acks).toEqual(['relay:1', 'relay:1-again', 'direct:1']);
    expect(metrics.counter('packet.replay', { transport: 'relay' })).toBe(1);
    expect(metrics.counter('packet.replay', { transport: 'direct' })).toBe(1);
  });

  it('a copy arriving while the first is processed is held and acked with it', () => {
    const { guard, acks, incoming } = setup();
    const first = guard.admit(incoming(1, 'direct'));
    expect(guard.admit(incoming(1, 'relay')).kind).toBe('in_flight');
    expect(acks).toEqual([]);
    if (first.kind === 'fresh') first.settle('committed');
    expect(acks).toEqual(['direct:1', 'relay:1']);
  });

  it('a failed commit acks nothing and lets the next copy be processed afresh', () => {
    const { guard, acks, incoming } = setup();
    const first = guard.admit(incoming(1));
    guard.admit(incoming(1, 'direct'));
    if (first.kind === 'fresh') first.settle('failed');
    expect(acks).toEqual([]);
    const again = guard.admit(incoming(1, 'relay', '-redelivered'));
    expect(again.kind).toBe('fresh');
    if (again.kind === 'fresh') again.settle('committed');
    expect(acks).toEqual(['relay:1-redelivered']);
  });

  it('a duplicate found by the durable store is counted as a replay and acked', () => {
    const { guard, acks, incoming, metrics } = setup();
    const a = guard.admit(incoming(1));
    if (a.kind === 'fresh') a.settle('duplicate');
    expect(acks).toEqual(['relay:1']);
    expect(metrics.counter('packet.replay', { transport: 'relay' })).toBe(1);
    expect(guard.admit(incoming(1)).kind).toBe('replay');
  });

  it('settle is idempotent', () => {
    const { guard, acks, incoming } = setup();
    const a = guard.admit(incoming(1));
    if (a.kind !== 'fresh') throw new Error('expected fresh');
    a.settle('committed');
    a.settle('committed');
    a.settle('failed');
    expect(acks).toEqual(['relay:1']);
  });

  it('remembers committed ids loaded at start', () => {
    const { guard, incoming } = setup();
    guard.remember(envelope(9).id);
    expect(guard.admit(incoming(9)).kind).toBe('replay');
  });
});

describe('recent id set', () => {
  it('is bounded and evicts the oldest first', () => {
    const r = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'a', 'd']) r.add(id);
    expect(r.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((id) => r.has(id))).toEqual([false, true, true, true]);
    expect(() => new RecentIds(0)).toThrow(RangeError);
  });
});
