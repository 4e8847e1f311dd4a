import type { BenchRow } from './types.ts';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
}

/** A result row from per-round samples. */
export function row(subject: string, metric: string, unit: string, samples: readonly number[]): BenchRow {
  return { subject, metric, unit, median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples: [...samples] };
}

/** Runs `fn` `warmup` times unmeasured, then `rounds` times, returning each round's value. */
export async function rounds(n: { warmup: number; rounds: number }, fn: () => Promise<number> | number): Promise<number[]> {
  for (let i = 0; i < n.warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n.rounds; i++) out.push(await fn());
  return out;
}

export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
