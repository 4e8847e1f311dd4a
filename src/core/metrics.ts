/**
 * The core's metrics: counters, gauges and latency histograms, labelled, kept in
 * memory and exported as a snapshot (the diagnostics view, tests, persistence).
 *
 * Names are the documented ones (`send.success`, `packet.validation.failure`,
 * `crypto.failure`, `queue.depth`, `delivery.latency`, ...); labels are a small fixed
 * set per name (`reason`, `transport`). Never put user data in a label.
 */
export type Labels = Readonly<Record<string, string>>;

export interface HistogramSummary {
  readonly count: number;
  readonly sum: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export interface MetricsSnapshot {
  readonly counters: Readonly<Record<string, number>>;
  readonly gauges: Readonly<Record<string, number>>;
  readonly histograms: Readonly<Record<string, HistogramSummary>>;
}

export interface Metrics {
  inc(name: string, labels?: Labels, by?: number): void;
  set(name: string, value: number, labels?: Labels): void;
  observe(name: string, value: number, labels?: Labels): void;
  /** Current value of a counter (0 when never incremented). */
  counter(name: string, labels?: Labels): number;
  gauge(name: string, labels?: Labels): number | undefined;
  snapshot(): MetricsSnapshot;
  /** Called after every change (coalesce in the listener if you render). */
  subscribe(listener: () => void): () => void;
}

/** `name{a="x",b="y"}` with labels sorted, the key used in snapshots. */
export function metricKey(name: string, labels?: Labels): string {
  if (!labels) return name;
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return name;
  return `${name}{${keys.map((k) => `${k}="${labels[k]}"`).join(',')}}`;
}

/** Keeps the most recent samples of a histogram (a sliding window, enough for percentiles). */
const HISTOGRAM_WINDOW = 2048;

class Window {
  private readonly samples: number[] = [];
  count = 0;
  sum = 0;
  max = 0;
  add(v: number) {
    this.samples.push(v);
    if (this.samples.length > HISTOGRAM_WINDOW) this.samples.shift();
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }
  summary(): HistogramSummary {
    const s = this.samples.slice().sort((a, b) => a - b);
    const q = (p: number) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]! : 0);
    return { count: this.count, sum: this.sum, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: this.max };
  }
}

export class InMemoryMetrics implements Metrics {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly histograms = new Map<string, Window>();
  private readonly listeners = new Set<() => void>();

  /** Restores counters saved by an earlier run (e.g. from IndexedDB). */
  constructor(initialCounters?: Readonly<Record<string, number>>) {
    if (initialCounters) for (const [k, v] of Object.entries(initialCounters)) this.counters.set(k, v);
  }

  inc(name: string, labels?: Labels, by = 1): void {
    const key = metricKey(name, labels);
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
    this.notify();
  }

  set(name: string, value: number, labels?: Labels): void {
    this.gauges.set(metricKey(name, labels), value);
    this.notify();
  }

  observe(name: string, value: number, labels?: Labels): void {
    const key = metricKey(name, labels);
    let w = this.histograms.get(key);
    if (!w) this.histograms.set(key, (w = new Window()));
    w.add(value);
    this.notify();
  }

  counter(name: string, labels?: Labels): number {
    return this.counters.get(metricKey(name, labels)) ?? 0;
  }

  gauge(name: string, labels?: Labels): number | undefined {
    return this.gauges.get(metricKey(name, labels));
  }

  snapshot(): MetricsSnapshot {
    const histograms: Record<string, HistogramSummary> = {};
    for (const [k, w] of this.histograms) histograms[k] = w.summary();
    return { counters: Object.fromEntries(this.counters), gauges: Object.fromEntries(this.gauges), histograms };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify() {
    for (const l of this.listeners) l();
  }
}
