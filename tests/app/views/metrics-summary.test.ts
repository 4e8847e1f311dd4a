// @vitest-environment happy-dom
import { create } from 'qrcode';
import { describe, expect, it } from 'vitest';
import { metricKey } from '../../../src/core/metrics.ts';
import { parseMetricKey, summarizeMetrics } from '../../../src/app/views/diagnostics/metrics-summary.ts';
import { describeConnection } from '../../../src/app/components/connection-text.ts';
import { qrMatrix } from '../../../src/app/components/qr-modules.ts';
import { formatBytes, groupDigits } from '../../../src/app/components/format.ts';

describe('metric keys', () => {
  it('parses what metricKey writes', () => {
    for (const [name, labels] of [
      ['queue.depth', undefined],
      ['send.success', { transport: 'relay' }],
      ['packet.validation.failure', { reason: 'too_large', transport: 'direct' }],
    ] as const) {
      expect(parseMetricKey(metricKey(name, labels))).toEqual({ name, labels: labels ?? {} });
    }
  });

  it('summarises sends per transport, retries, failovers, failures by reason and latency series', () => {
    const s = summarizeMetrics({
      counters: {
        [metricKey('send.success', { transport: 'relay' })]: 4,
        [metricKey('send.failure', { transport: 'relay' })]: 1,
        [metricKey('send.failure', { transport: 'direct' })]: 2,
        [metricKey('retry.count', { transport: 'relay' })]: 3,
        [metricKey('retry.count', { transport: 'direct' })]: 4,
        'transport.failover': 1,
        [metricKey('crypto.failure', { reason: 'bad_mac' })]: 5,
        [metricKey('packet.replay', { transport: 'relay' })]: 2,
        [metricKey('packet.replay', { transport: 'direct' })]: 1,
        'unrelated.counter': 99,
      },
      gauges: { [metricKey('circuit_breaker.state', { transport: 'relay' })]: 0 },
      histograms: { [metricKey('delivery.latency', { transport: 'relay' })]: { count: 1, sum: 5, p50: 5, p95: 5, p99: 5, max: 5 } },
    });
    expect(s.sends).toEqual([
      { transport: 'direct', success: 0, failure: 2 },
      { transport: 'relay', success: 4, failure: 1 },
    ]);
    expect(s.retries).toBe(7);
    expect(s.failovers).toBe(1);
    expect(s.replays).toBe(3);
    expect(s.failures).toEqual([{ metric: 'crypto.failure', reason: 'bad_mac', count: 5 }]);
    expect(s.latency.map((l) => [l.series, l.p50])).toEqual([['transport=relay', 5]]);
    expect(s.breakerGauges).toEqual({ relay: 0 });
  });
});

describe('connection text', () => {
  it('rounds the reconnect countdown up and never shows a negative wait', () => {
    expect(describeConnection({ kind: 'reconnecting', at: 10_000 }, 0, 8_500)).toBe('Reconnecting in 2 s');
    expect(describeConnection({ kind: 'reconnecting', at: 10_000 }, 1, 12_000)).toBe('Reconnecting… · 1 queued');
  });
});

describe('formatting', () => {
  it('groups 60 digits into 12 blocks of 5', () => {
    const groups = groupDigits('0123456789'.repeat(6));
    expect(groups).toHaveLength(12);
    expect(groups.every((g) => g.length === 5)).toBe(true);
  });

  it('formats byte counts and refuses nonsense', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.0 MB');
    expect(formatBytes(-1)).toBe('unknown');
  });
});

describe('QR modules', () => {
  it('encodes text and bytes into square matrices of dark runs inside the symbol', () => {
    for (const data of ['https://petrel.test/#invite=abc', new Uint8Array(60).fill(9)]) {
      const m = qrMatrix(data)!;
      expect(m.size).toBeGreaterThanOrEqual(21);
      expect(m.runs.length).toBeGreaterThan(0);
      for (const r of m.runs) expect(r.col + r.length).toBeLessThanOrEqual(m.size);
    }
  });

  it('the runs redraw exactly the dark modules of the symbol', () => {
    const text = 'https://petrel.test/#invite=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAFQWxpY2V3czovL3JlbGF5';
    const { modules } = create(text, { errorCorrectionLevel: 'M' });
    const m = qrMatrix(text)!;
    const drawn = new Uint8Array(m.size * m.size);
    for (const r of m.runs) for (let c = r.col; c < r.col + r.length; c++) drawn[r.row * m.size + c] = 1;
    expect(m.size).toBe(modules.size);
    expect([...drawn]).toEqual([...modules.data].map((v) => (v ? 1 : 0)));
  });

  it('gives up (undefined) on data too long for any QR version', () => {
    expect(qrMatrix('x'.repeat(5000))).toBeUndefined();
  });
});
