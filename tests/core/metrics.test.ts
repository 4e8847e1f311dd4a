import { describe, expect, it } from 'vitest';
import { InMemoryMetrics, metricKey } from '../../src/core/metrics.ts';
import { FakeClock } from '../../src/core/clock.ts';

describe('metrics', () => {
  it('keys labels in a stable order', () => {
    expect(metricKey('send.success', { transport: 'ws', b: 'x' })).toBe('send.success{b="x",transport="ws"}');
    expect(metricKey('queue.depth')).toBe('queue.depth');
  });
  it('counts, gauges and summarises histograms', () => {
    const m = new InMemoryMetrics({ 'crypto.failure': 2 });
    m.inc('crypto.failure');
    m.inc('packet.validation.failure', { reason: 'too_large' }, 3);
    m.set('queue.depth', 7);
    for (let i = 1; i <= 100; i++) m.observe('delivery.latency', i);
    const s = m.snapshot();
    expect(s.counters['crypto.failure']).toBe(3);
    expect(m.counter('packet.validation.failure', { reason: 'too_large' })).toBe(3);
    expect(s.gauges['queue.depth']).toBe(7);
    expect(s.histograms['delivery.latency']).toEqual({ count: 100, sum: 5050, p50: 50, p95: 95, p99: 99, max: 100 });
  });
  it('notifies subscribers', () => {
    const m = new InMemoryMetrics();
    let calls = 0;
    const off = m.subscribe(() => calls++);
    m.inc('x');
    off();
    m.inc('x');
    expect(calls).toBe(1);
  });
});

describe('FakeClock', () => {
  it('fires timers in due order and only when advanced past them', () => {
    const c = new FakeClock(0);
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b'), 20);
    c.setTimeout(() => fired.push('a'), 10);
    const cancel = c.setTimeout(() => fired.push('never'), 15);
    cancel();
    c.advance(9);
    expect(fired).toEqual([]);
    c.advance(11);
    expect(fired).toEqual(['a', 'b']);
    expect(c.now()).toBe(20);
  });
});
