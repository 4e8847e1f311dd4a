/**
 * The shape every benchmark module in bench/*.bench.ts exports (as `default`), and the
 * results the harness (bench/run.ts) turns into docs/BENCHMARKS.md and bench/results.json.
 */
export interface BenchRow {
  /** What was measured: "petrel", "libsignal-client", "raw IndexedDB puts", ... */
  readonly subject: string;
  /** e.g. "burst 5,000 msgs", "p99 latency". */
  readonly metric: string;
  /** e.g. "msg/s", "ms", "KiB". */
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** One value per measured round (after warm-up). */
  readonly samples: readonly number[];
}

export interface BenchGoal {
  readonly description: string;
  readonly met: boolean;
  /** The measured value or ratio that decides it, in words: "1.8× libsignal-client". */
  readonly measured: string;
}

export interface BenchResult {
  readonly name: string;
  readonly title: string;
  readonly rows: readonly BenchRow[];
  readonly goals: readonly BenchGoal[];
  readonly notes?: readonly string[];
}

export interface BenchOptions {
  /** Tiny sizes and one round: the smoke run inside the test suite. */
  readonly quick: boolean;
}

export interface Benchmark {
  readonly name: string;
  readonly title: string;
  run(opts: BenchOptions): Promise<BenchResult>;
}
