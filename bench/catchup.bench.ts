/**
 * Catch-up benchmark (issues 4 and 9), in headless Chromium with a persistent profile:
 *
 *   receive   10,000 queued envelopes of an existing session through Bob's real receive
 *             pipeline (ingress dedup, dedup read, unseal, Double Ratchet decrypt, decode,
 *             one commit per ≤ 128 envelopes, ack), messages per second;
 *   raw       the same rows written with plain IndexedDB puts in the same page (the ceiling);
 *   enqueue   one outgoing message through the messenger's enqueueOutgoing (encrypt +
 *             seal + commitOutgoing, session from the cache), p50/p99 latency.
 *
 * The envelopes are made in Node beforehand (bench/catchup/fixture.ts), not timed.
 */
import { loadavg } from 'node:os';
import type { Page } from '@playwright/test';
import { encodeFixture, makeCatchupFixture } from './catchup/fixture.ts';
import { bundleForPage, chromiumCpuMs, persistentProfile, serveStatic } from './catchup/browser.ts';
import type * as PageEntry from './catchup/page-entry.ts';
import { median, percentile, row } from './stats.ts';
import type { Durability } from '../src/platform/idb/index.ts';
import type { BenchGoal, BenchResult, Benchmark, BenchRow } from './types.ts';

interface Sizes {
  envelopes: number;
  warmupEnvelopes: number;
  rounds: number;
  enqueues: number;
}
const FULL: Sizes = { envelopes: 10_000, warmupEnvelopes: 1_000, rounds: 5, enqueues: 500 };
const QUICK: Sizes = { envelopes: 200, warmupEnvelopes: 0, rounds: 1, enqueues: 50 };

const GOAL_RATE = 5_000;
const GOAL_RAW_FRACTION = 0.45;
const GOAL_ENQUEUE_P99_MS = 10;
const GOAL_LONGEST_TASK_MS = 50;

type Api = typeof PageEntry;

function call<K extends keyof Api>(page: Page, fn: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>> {
  return page.evaluate(
    ([name, a]) => (globalThis as unknown as { petrelCatchup: Record<string, (...x: unknown[]) => unknown> }).petrelCatchup[name]!(...a),
    [fn, args] as const,
  ) as Promise<Awaited<ReturnType<Api[K]>>>;
}

const fmt = (v: number) => Math.round(v).toLocaleString('en-US');

async function run({ quick }: { quick: boolean }): Promise<BenchResult> {
  const sizes = quick ? QUICK : FULL;
  const loadAtStart = loadavg()[0]!;
  const fixture = await makeCatchupFixture(sizes.envelopes);
  const code = await bundleForPage('./page-entry.ts', 'petrelCatchup');
  const origin = await serveStatic(
    new Map([
      ['/', { type: 'text/html', body: '<!doctype html><title>catch-up</title><script src="/catchup.js"></script>' }],
      ['/catchup.js', { type: 'text/javascript', body: code }],
      // The same bundle in a dedicated Worker (the core's place in the app since issue 22).
      ['/catchup-worker.js', { type: 'text/javascript', body: code }],
      ['/fixture.cbor', { type: 'application/cbor', body: encodeFixture(fixture) }],
    ]),
  );
  const profile = persistentProfile('petrel-bench-catchup-');
  const context = await profile.launch();
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(origin.url + '/');
    await page.waitForFunction(() => 'petrelCatchup' in globalThis);
    const loaded = await call(page, 'load', '/fixture.cbor');
    if (loaded !== sizes.envelopes) throw new Error(`fixture: ${loaded} envelopes in the page`);

    let db = 0;
    const once = async <T>(fn: (name: string) => Promise<T>): Promise<T> => {
      const name = `catchup-${db++}`;
      try {
        return await fn(name);
      } finally {
        await call(page, 'drop', name);
      }
    };
    // CPU time Chromium spends per round (renderer = the page; browser = IndexedDB's commits and the rest), ms per 1,000 envelopes.
    const cpu = { petrel: [] as Array<[number, number]>, raw: [] as Array<[number, number]>, crypto: [] as Array<[number, number]> };
    const measured = async <T>(into: Array<[number, number]> | undefined, n: number, fn: () => Promise<T>): Promise<T> => {
      const before = chromiumCpuMs(profile.dir);
      const result = await fn();
      const after = chromiumCpuMs(profile.dir);
      if (into && before && after) into.push([((after.renderer - before.renderer) / n) * 1000, ((after.browser - before.browser) / n) * 1000]);
      return result;
    };
    // Both sides of the ratio use the durability the app uses (strict: see src/platform/idb/idb-backend.ts).
    const receiveRound = (n: number, track = true, durability: Durability = 'strict') =>
      once(async (name) => {
        const r = await measured(track ? cpu.petrel : undefined, n, () => call(page, 'receive', name, n, durability));
        if (r.messagesStored !== n || r.cryptoFailures !== 0) throw new Error(`receive: ${r.messagesStored}/${n} messages stored, ${r.cryptoFailures} crypto failures`);
        return (n / r.ms) * 1000;
      });
    const rawRound = (n: number, track = true, durability: Durability = 'strict') =>
      once(async (name) => (n / (await measured(track ? cpu.raw : undefined, n, () => call(page, 'raw', name, n, durability))).ms) * 1000);
    const oneTxRound = (n: number) => once(async (name) => (n / (await call(page, 'raw', name, n, 'strict', n)).ms) * 1000);
    // The UI thread's longest task while the catch-up runs in a Worker, and (before issue 22) on that thread itself.
    const watchedRound = (n: number, where: 'receiveInWorker' | 'receiveOnUiThread') =>
      once(async (name) => {
        const { result: r, longTasks } = await call(page, where, name, n, 'strict');
        if (r.messagesStored !== n || r.cryptoFailures !== 0) throw new Error(`${where}: ${r.messagesStored}/${n} messages stored, ${r.cryptoFailures} crypto failures`);
        return { rate: (n / r.ms) * 1000, longestMs: longTasks.longestMs, count: longTasks.count };
      });
    const cryptoRound = async (n: number, track = true) => (n / (await measured(track ? cpu.crypto : undefined, n, () => call(page, 'decryptOnly', n))).ms) * 1000;

    if (sizes.warmupEnvelopes) {
      await receiveRound(sizes.warmupEnvelopes, false);
      await rawRound(sizes.warmupEnvelopes, false);
      await cryptoRound(sizes.warmupEnvelopes, false);
    }
    const petrel: number[] = [];
    const ceiling: number[] = [];
    const ratios: number[] = [];
    const cryptoOnly: number[] = [];
    const oneTx: number[] = [];
    const relaxedPetrel: number[] = [];
    const relaxedCeiling: number[] = [];
    const inWorker: number[] = [];
    const workerLongest: number[] = [];
    const workerLongCount: number[] = [];
    const uiLongest: number[] = [];
    const uiLongCount: number[] = [];
    if (sizes.warmupEnvelopes) await watchedRound(sizes.warmupEnvelopes, 'receiveInWorker');
    for (let i = 0; i < sizes.rounds; i++) {
      // Interleaved, so a slow moment of the shared machine hits both sides alike.
      const p = await receiveRound(sizes.envelopes);
      const r = await rawRound(sizes.envelopes);
      petrel.push(p);
      ceiling.push(r);
      ratios.push(p / r);
      cryptoOnly.push(await cryptoRound(sizes.envelopes));
      oneTx.push(await oneTxRound(sizes.envelopes));
      // What strict durability costs: the same rounds with Chromium's default (relaxed) commits.
      relaxedPetrel.push(await receiveRound(sizes.envelopes, false, 'relaxed'));
      relaxedCeiling.push(await rawRound(sizes.envelopes, false, 'relaxed'));
      const w = await watchedRound(sizes.envelopes, 'receiveInWorker');
      inWorker.push(w.rate);
      workerLongest.push(w.longestMs);
      workerLongCount.push(w.count);
      const u = await watchedRound(sizes.envelopes, 'receiveOnUiThread');
      uiLongest.push(u.longestMs);
      uiLongCount.push(u.count);
    }
    const cpuMedian = (xs: Array<[number, number]>) => (xs.length ? ([median(xs.map((x) => x[0])), median(xs.map((x) => x[1]))] as const) : undefined);
    const [petrelCpu, rawCpu, cryptoCpu] = [cpuMedian(cpu.petrel), cpuMedian(cpu.raw), cpuMedian(cpu.crypto)];
    // With the machine to itself, two cores give at most 2 CPU-seconds per second: the total
    // CPU per 1,000 envelopes bounds the rate (the browser's share is several processes and
    // threads, so no single bucket is a serial limit).
    const CORES = 2;
    const total = (c: readonly [number, number]) => c[0] + c[1];
    const cpuBound = (c: readonly [number, number]) => (CORES * 1_000_000) / total(c);
    const cpuText = (label: string, c: readonly [number, number] | undefined) => (c ? `${label} ${fmt(c[0])} ms in the page + ${fmt(c[1])} ms in the browser process` : '');

    const p50: number[] = [];
    const p99: number[] = [];
    const all: number[] = [];
    const rawP50: number[] = [];
    const rawP99: number[] = [];
    for (let i = 0; i < sizes.rounds; i++) {
      const lat = await once((name) => call(page, 'enqueue', name, sizes.enqueues));
      p50.push(percentile(lat, 0.5));
      p99.push(percentile(lat, 0.99));
      all.push(...lat);
      // Interleaved with Petrel's rounds: the same rows in one plain IndexedDB transaction per send.
      const rawLat = await once((name) => call(page, 'rawEnqueue', name, sizes.enqueues));
      rawP50.push(percentile(rawLat, 0.5));
      rawP99.push(percentile(rawLat, 0.99));
    }

    const n = sizes.envelopes.toLocaleString('en-US');
    const rows: BenchRow[] = [
      row('petrel (receive pipeline)', `catch-up ${n} envelopes`, 'msg/s', petrel),
      row('raw IndexedDB puts (ceiling)', `catch-up ${n} envelopes`, 'msg/s', ceiling),
      row('petrel crypto only (no storage)', `catch-up ${n} envelopes`, 'msg/s', cryptoOnly),
      row('raw puts, all in one transaction (reference)', `catch-up ${n} envelopes`, 'msg/s', oneTx),
      row('petrel / raw', 'fraction of the ceiling', '×', ratios),
      row('petrel, relaxed durability (before issue 22)', `catch-up ${n} envelopes`, 'msg/s', relaxedPetrel),
      row('raw IndexedDB puts, relaxed durability', `catch-up ${n} envelopes`, 'msg/s', relaxedCeiling),
      row('petrel in a Worker (the app since issue 22)', `catch-up ${n} envelopes`, 'msg/s', inWorker),
      row('UI thread longest task, catch-up in a Worker', `during catch-up ${n} envelopes`, 'ms', workerLongest),
      row('UI thread tasks over 50 ms, catch-up in a Worker', `during catch-up ${n} envelopes`, 'tasks', workerLongCount),
      row('UI thread longest task, catch-up on the UI thread (before)', `during catch-up ${n} envelopes`, 'ms', uiLongest),
      row('UI thread tasks over 50 ms, catch-up on the UI thread (before)', `during catch-up ${n} envelopes`, 'tasks', uiLongCount),
      row('petrel enqueue', `p50 over ${sizes.enqueues} sends`, 'ms', p50),
      row('petrel enqueue', `p99 over ${sizes.enqueues} sends`, 'ms', p99),
      row('raw IndexedDB, one put transaction per send (floor)', `p50 over ${sizes.enqueues} sends`, 'ms', rawP50),
      row('raw IndexedDB, one put transaction per send (floor)', `p99 over ${sizes.enqueues} sends`, 'ms', rawP99),
    ];
    const rate = median(petrel);
    const ratio = median(ratios);
    // The goal's p99 is over every send of the run (5 × 500); the rounds' own p99s are shown beside it.
    const overallP99 = percentile(all, 0.99);
    const goals: BenchGoal[] = [
      { description: `catch-up ≥ ${fmt(GOAL_RATE)} msg/s`, met: rate >= GOAL_RATE, measured: `${fmt(rate)} msg/s` },
      { description: 'catch-up ≥ 0.45× raw IndexedDB puts, both strict', met: ratio >= GOAL_RAW_FRACTION, measured: `${ratio.toFixed(2)}× raw (${fmt(median(ceiling))} msg/s)` },
      {
        description: `UI thread's longest task ≤ ${GOAL_LONGEST_TASK_MS} ms while a ${n}-envelope catch-up runs`,
        met: Math.max(...workerLongest) <= GOAL_LONGEST_TASK_MS,
        measured: `${Math.round(Math.max(...workerLongest))} ms at most over ${workerLongest.length} round(s), core in a Worker (on the UI thread: ${Math.round(Math.max(...uiLongest))} ms, ${Math.round(median(uiLongCount))} long tasks)`,
      },
      {
        description: `enqueue p99 < ${GOAL_ENQUEUE_P99_MS} ms`,
        met: overallP99 < GOAL_ENQUEUE_P99_MS,
        measured: `${overallP99.toFixed(2)} ms over ${all.length} sends (p50 ${percentile(all, 0.5).toFixed(2)} ms; rounds' p99 ${Math.min(...p99).toFixed(1)}–${Math.max(...p99).toFixed(1)} ms)`,
      },
    ];
    return {
      name: 'catchup',
      title: 'Catch-up in Chromium: receive, decrypt and commit queued envelopes vs raw IndexedDB puts',
      rows,
      goals,
      notes: [
        `Headless Chromium ${context.browser()?.version() ?? ''} with a persistent profile (IndexedDB on disk), strict transaction durability on every readwrite transaction as the app uses (each commit precedes an ack, a send or a receipt), on both sides of the ratio; the relaxed rows (Chromium's default) show what strictness costs; ${sizes.rounds} round(s) after a ${sizes.warmupEnvelopes}-envelope warm-up, each round in a fresh database; Petrel and raw interleaved.`,
        'Petrel: the real ReceivePipeline and store — ingress dedup, the store\'s dedup read, sealed-sender unseal (X25519 + AES-GCM; a batch\'s boxes opened concurrently), Double Ratchet decrypt, content decode, one commitIncomingBatch per ≤ 128 envelopes (dedup marks, message rows, conversation, one session update, the delivery receipt it owes encrypted into the outbox), then the ack; the next batch is decrypted while the previous one commits. Timed from handing in the first envelope to the last ack.',
        'Raw ceiling: the same batches as plain IDB puts in one readwrite transaction each, rows shaped as Petrel writes them on the same schema (indexes) and durability — a message row and a dedup row per envelope, one session, one conversation (with its last message) and one receipt outbox row per batch; no crypto, no reads; every request issued at once and the next batch\'s transaction queued while the previous one commits.',
        `Enqueue: the messenger's own send step (enqueueOutgoing, src/core/messenger/compose.ts) over the session-caching store the running messenger uses (the session comes from memory; the first send of a round reads it from the store) — encrypt, seal, one commitOutgoing (session + message + outbox entry) — one after another; ${all.length} sends in all, overall p99 ${percentile(all, 0.99).toFixed(2)} ms. The floor: the same four rows put in one plain IndexedDB transaction per send (no reads, no crypto), p50 ${median(rawP50).toFixed(2)} ms, p99 ${median(rawP99).toFixed(2)} ms (worst round ${Math.max(...rawP99).toFixed(2)} ms) — the commit's own tail on this machine.`,
        `Where the time goes: unseal + decrypt + decode alone run at ${fmt(median(cryptoOnly))} msg/s in the page and the raw puts at ${fmt(median(ceiling))} msg/s (${fmt(median(oneTx))} msg/s with all ${n} envelopes' rows in a single transaction, no batching at all); the pipeline overlaps them (decrypting batch N+1 while batch N commits), but on this machine both need the same two cores: the page's main thread runs the crypto and issues (structured-clones) every IndexedDB request, the browser process commits them.`,
        ...(petrelCpu && rawCpu && cryptoCpu
          ? [
              `CPU time per 1,000 envelopes (median, Linux /proc of the Chromium processes): ${cpuText('Petrel', petrelCpu)}; ${cpuText('raw puts', rawCpu)}; ${cpuText('crypto only', cryptoCpu)}. ${fmt(GOAL_RATE)} msg/s leaves ${fmt((CORES * 1_000_000) / GOAL_RATE)} ms of CPU per 1,000 envelopes on ${CORES} cores. Petrel uses ${fmt(total(petrelCpu))} ms, which bounds it at ${fmt(cpuBound(petrelCpu))} msg/s even with both cores to itself and perfectly busy; the part no receiver of these envelopes can skip, the crypto plus the same rows as plain puts, is already ${fmt(total(cryptoCpu) + total(rawCpu))} ms (${fmt((CORES * 1_000_000) / (total(cryptoCpu) + total(rawCpu)))} msg/s), leaving ${fmt((CORES * 1_000_000) / GOAL_RATE - total(cryptoCpu) - total(rawCpu))} ms for everything else (dedup read, building the commit, the receipt, acks, scheduling), where Petrel spends ${fmt(total(petrelCpu) - total(cryptoCpu) - total(rawCpu))} ms.`,
            ]
          : []),
        'UI thread: a PerformanceObserver of `longtask` entries (tasks over 50 ms) on the page while the same strict-durability catch-up runs in a dedicated Worker (the page idle, as a UI waiting for the core\'s snapshots) or, for comparison, on the page\'s own thread as the core ran before issue 22. The worker loads the same bundle and its own copy of the fixture (not timed). It measures the core\'s work only: the app\'s React renders of the snapshots the worker posts come on top of it.',
        'Envelopes (an existing session, past the prekey messages; 60-character texts) are made in Node beforehand and not timed.',
        `Machine load (1-minute average, 2 cores shared with other work): ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end; latency tails are sensitive to it.`,
      ],
    };
  } finally {
    await context.close();
    await origin.close();
    profile.remove();
  }
}

const benchmark: Benchmark = {
  name: 'catchup',
  title: 'Catch-up in Chromium: receive, decrypt and commit queued envelopes vs raw IndexedDB puts',
  run,
};

export default benchmark;
