/**
 * Turns the core's flat metrics snapshot (`name{label="v"}` keys, see
 * `src/core/metrics.ts`) into the tables the diagnostics view shows.
 */
import type { HistogramSummary, MetricsSnapshot } from '../../../core/metrics.ts';

export interface ParsedKey {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

const KEY = /^([^{]+)(?:\{(.*)\})?$/;
const LABEL = /([A-Za-z_][\w.]*)="([^"]*)"/g;

/** Inverse of `metricKey`: `send.success{transport="relay"}` → name and labels. */
export function parseMetricKey(key: string): ParsedKey {
  const m = KEY.exec(key);
  if (!m) return { name: key, labels: {} };
  const labels: Record<string, string> = {};
  for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!;
  return { name: m[1]!, labels };
}

export interface TransportSends {
  readonly transport: string;
  readonly success: number;
  readonly failure: number;
}

export interface ReasonCount {
  readonly metric: string;
  readonly reason: string;
  readonly count: number;
}

export interface LatencyRow extends HistogramSummary {
  /** The labels, e.g. `transport=relay` (empty for the unlabelled series). */
  readonly series: string;
}

export interface MetricsSummary {
  readonly sends: readonly TransportSends[];
  readonly retries: number;
  readonly failovers: number;
  /** Envelopes dropped because their id was seen before (`packet.replay`, all transports). */
  readonly replays: number;
  readonly failures: readonly ReasonCount[];
  readonly latency: readonly LatencyRow[];
  readonly breakerGauges: Readonly<Record<string, number>>;
}

export const FAILURE_METRICS = ['packet.validation.failure', 'crypto.failure'] as const;

const labelText = (labels: Readonly<Record<string, string>>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');

export function summarizeMetrics(snapshot: MetricsSnapshot): MetricsSummary {
  const sends = new Map<string, { success: number; failure: number }>();
  let retries = 0;
  let failovers = 0;
  let replays = 0;
  const failures: ReasonCount[] = [];
  for (const [key, value] of Object.entries(snapshot.counters)) {
    const { name, labels } = parseMetricKey(key);
    if (name === 'send.success' || name === 'send.failure') {
      const transport = labels.transport ?? 'all';
      const row = sends.get(transport) ?? { success: 0, failure: 0 };
      if (name === 'send.success') row.success += value;
      else row.failure += value;
      sends.set(transport, row);
    } else if (name === 'retry.count') retries += value;
    else if (name === 'transport.failover') failovers += value;
    else if (name === 'packet.replay') replays += value;
    else if ((FAILURE_METRICS as readonly string[]).includes(name)) failures.push({ metric: name, reason: labels.reason ?? 'unspecified', count: value });
  }
  const latency: LatencyRow[] = [];
  for (const [key, h] of Object.entries(snapshot.histograms)) {
    const { name, labels } = parseMetricKey(key);
    if (name === 'delivery.latency') latency.push({ ...h, series: labelText(labels) });
  }
  const breakerGauges: Record<string, number> = {};
  for (const [key, value] of Object.entries(snapshot.gauges)) {
    const { name, labels } = parseMetricKey(key);
    if (name === 'circuit_breaker.state') breakerGauges[labels.transport ?? 'all'] = value;
  }
  return {
    sends: [...sends].map(([transport, r]) => ({ transport, ...r })).sort((a, b) => a.transport.localeCompare(b.transport)),
    retries,
    failovers,
    replays,
    failures: failures.sort((a, b) => a.metric.localeCompare(b.metric) || b.count - a.count),
    latency: latency.sort((a, b) => a.series.localeCompare(b.series)),
    breakerGauges,
  };
}
