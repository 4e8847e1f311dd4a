/**
 * The end-to-end benchmark's stage breakdown: where Enter → `delivered` goes, step by step,
 * from the timing marks the app records when asked (src/core/stage-trace.ts: Alice's and
 * Bob's core Workers and pages, TRACE_FLAG) and the relay writes to PETREL_TRACE_FILE
 * (src/relay/stage-trace-file.ts). All on one clock (`performance.timeOrigin +
 * performance.now()`). For each measured message the chain of a path is walked in order:
 * each step is the first mark of its name, from its source, at or after the step before
 * it and no later than `delivered`. A message whose chain does not complete is left out
 * (counted).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SendTiming } from './probe.ts';
import { median } from '../stats.ts';

export type Source = 'A.page' | 'A.worker' | 'B.page' | 'B.worker' | 'relay';
export type Mark = readonly [stage: string, at: number];
export type Marks = Record<Source, Mark[]>;

export const emptyMarks = (): Marks => ({ 'A.page': [], 'A.worker': [], 'B.page': [], 'B.worker': [], relay: [] });

interface Step {
  readonly source: Source;
  readonly stage: string;
  /** What happened between the step before and this one. */
  readonly label: string;
}

const step = (source: Source, stage: string, label: string): Step => ({ source, stage, label });

const SEND: readonly Step[] = [
  step('A.page', 'page.command', "A's page: Enter → `send` command posted to the core Worker (composer, command id)"),
  step('A.worker', 'send.command', "page → A's Worker: the command arrives"),
  step('A.worker', 'send.committed', 'A: id check, encrypt, **strict commit** of session step + message + outbox entry'),
  step('A.worker', 'outbox.handoff', 'A: outbox picks the entry up and hands it to the router'),
];
const RELAY_HOP = (to: 'A' | 'B', what: string): Step[] => [
  step('relay', 'relay.received', `${what}: ${to === 'B' ? 'A' : 'B'} → relay socket, relay decodes the \`send\``),
  step('relay', 'relay.committed', `relay: deposit checks, **group commit (SQLite fsync)** of the ${what}`),
  step('relay', 'relay.pushed', `relay: \`sent\` to the sender, push to ${to === 'B' ? 'Bob' : 'Alice'}`),
  step(`${to}.worker`, 'receive.accepted', `relay → ${to}'s Worker: socket, frame decode, ingress guard`),
];
const DIRECT_HOP = (to: 'A' | 'B', what: string): Step[] => [
  step(`${to}.worker`, 'receive.accepted', `${what}: data channel (Worker → window → SCTP → window → Worker), ingress guard`),
];
const BOB: readonly Step[] = [
  step('B.worker', 'receive.decrypted', 'B: dedup read, unseal, decrypt, build the batch (receipt encrypted with it)'),
  step('B.worker', 'receive.committed', 'B: **strict commit** of message, dedup mark, session, receipt outbox entry'),
  step('B.worker', 'outbox.handoff', 'B: outbox picks the receipt up and hands it to the router'),
];
const ALICE_BACK: readonly Step[] = [
  step('A.worker', 'receive.decrypted', 'A: dedup read, unseal, decrypt the receipt'),
  // The receipt's commit (and the projection after it) run beside this path: the view shows
  // the authenticated receipt's move at once (ViewProjection.preview); the relay's ack still waits for the commit.
  step('A.worker', 'view.previewed', 'A: `delivered` shown from the authenticated receipt (its strict commit runs meanwhile)'),
  step('A.worker', 'worker.patch', 'A: state diffed into a patch, posted to the page'),
  step('A.page', 'page.patch', "A's Worker → page: patch applied to the page's state"),
];
const DELIVERED_LABEL = "A's page: render, the tick in the DOM (MutationObserver)";

export const CHAINS: Record<'relay' | 'direct', readonly Step[]> = {
  relay: [...SEND, ...RELAY_HOP('B', 'message'), ...BOB, ...RELAY_HOP('A', 'receipt'), ...ALICE_BACK],
  direct: [...SEND, ...DIRECT_HOP('B', 'message'), ...BOB, ...DIRECT_HOP('A', 'receipt'), ...ALICE_BACK],
};

export interface StageRow {
  readonly label: string;
  /** The mark that ends the step (`dom.tick` for the last one). */
  readonly stage: string;
  readonly source: string;
  /** Median time from Enter to this step (ms). */
  readonly at: number;
  /** Median time from the step before (ms). */
  readonly took: number;
}

export interface Breakdown {
  readonly rows: readonly StageRow[];
  /** Messages whose chain completed (the rows' medians are over these). */
  readonly complete: number;
  readonly total: number;
  /** Median Enter → delivered over the complete messages. */
  readonly p50: number;
  /** The steps incomplete chains stopped at, with counts. */
  readonly stuck: string;
}

/** How far apart the clocks of two processes (the relay, each browser) may be, about. */
const CLOCK_SLACK_MS = 15;

/** First index in sorted `marks` with time ≥ `t`. */
function lowerBound(marks: readonly Mark[], t: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid]![1] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function breakdown(chain: readonly Step[], timings: readonly SendTiming[], marks: Marks): Breakdown {
  const sorted = Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, [...v].sort((a, b) => a[1] - b[1])])) as Marks;
  const walks: number[][] = [];
  const stuck = new Map<string, number>();
  for (const t of timings) {
    const at: number[] = [t.enter];
    // Per source, the index after the last mark this walk used: a source's steps are in its own order.
    const next: Partial<Record<Source, number>> = {};
    let source: Source = 'A.page';
    let ok = true;
    for (const s of chain) {
      const list = sorted[s.source];
      // Across processes the clocks agree only to a few ms: a step on another source may carry a time a little before the step it follows.
      const from = s.source === source ? at.at(-1)! : at.at(-1)! - CLOCK_SLACK_MS;
      let i = Math.max(lowerBound(list, from), next[s.source] ?? 0);
      while (i < list.length && list[i]![0] !== s.stage) i++;
      const found = list[i];
      if (!found || found[1] > t.delivered + CLOCK_SLACK_MS) {
        stuck.set(s.stage, (stuck.get(s.stage) ?? 0) + 1);
        ok = false;
        break;
      }
      next[s.source] = i + 1;
      source = s.source;
      at.push(found[1]);
    }
    if (!ok) continue;
    at.push(t.delivered);
    walks.push(at);
  }
  const labels = [...chain.map((s) => ({ label: s.label, stage: s.stage, source: s.source })), { label: DELIVERED_LABEL, stage: 'dom.tick', source: 'A.page' }];
  const rows = labels.map((l, k) => ({
    ...l,
    at: walks.length ? median(walks.map((w) => w[k + 1]! - w[0]!)) : NaN,
    took: walks.length ? median(walks.map((w) => w[k + 1]! - w[k]!)) : NaN,
  }));
  return { rows, complete: walks.length, total: timings.length, p50: walks.length ? median(walks.map((w) => w.at(-1)! - w[0]!)) : NaN, stuck: [...stuck].map(([stage, n]) => `${stage} ×${n}`).join(', ') };
}

/** Relay trace lines (`stage<TAB>ms`). */
export function readRelayMarks(path: string): Mark[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [stage, at] = l.split('\t');
      return [stage!, Number(at)] as const;
    });
}

const f1 = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

/** Kinds of step, summed over a path's medians: where the time goes, in short. */
function kinds(b: Breakdown): string {
  const sum = (pred: (r: StageRow) => boolean) => b.rows.filter(pred).reduce((s, r) => s + r.took, 0);
  const all = sum(() => true);
  const pct = (v: number) => `${f1(v)} ms (${Math.round((100 * v) / all)}%)`;
  const commits = sum((r) => r.label.includes('**strict commit**'));
  const relay = sum((r) => r.source === 'relay' || r.label.startsWith('relay →'));
  return `strict IndexedDB commits ${pct(commits)}; relay (socket in, fsync, push, socket out) ${pct(relay)}; everything else ${pct(all - commits - relay)} (sum of the step medians ${f1(all)} ms)`;
}

export function breakdownTable(b: Breakdown): string {
  const all = b.rows.reduce((s, r) => s + r.took, 0);
  const lines = ['| step | where | at | took | share |', '|---|---|---:|---:|---:|'];
  for (const r of b.rows) lines.push(`| ${r.label} | ${r.source} | ${f1(r.at)} | ${f1(r.took)} | ${Math.round((100 * r.took) / all)}% |`);
  return `${lines.join('\n')}\n\nOver ${b.complete} of ${b.total} measured messages (${b.complete < b.total ? `the others' chains stopped at: ${b.stuck}` : 'every chain complete'}); their median Enter → \`delivered\` ${f1(b.p50)} ms. ${kinds(b)}.`;
}

/** Short form for the results' notes. */
export function breakdownLine(path: string, b: Breakdown): string {
  return `${path}: ${b.rows.map((r) => `${r.source} ${r.stage} ${f1(r.took)}`).join(', ')}; ${kinds(b)}`;
}

const BEGIN = '<!-- generated by `npm run bench e2e` (bench/e2e/stages.ts): begin -->';
const END = '<!-- generated: end -->';

/** Puts `body` between the generated markers of `path` (appended when the file has none). */
export function writeGenerated(path: string, body: string): void {
  const old = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const block = `${BEGIN}\n${body.trim()}\n${END}`;
  const b = old.indexOf(BEGIN);
  const e = old.indexOf(END);
  const next = b >= 0 && e > b ? old.slice(0, b) + block + old.slice(e + END.length) : `${old.trimEnd()}\n\n${block}\n`;
  writeFileSync(path, next);
}
