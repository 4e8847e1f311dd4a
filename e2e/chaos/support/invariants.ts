/**
 * The judge of a chaos run. Messages are read from each user's IndexedDB (the chat log
 * is virtualised: only visible rows are in the DOM), the `crypto.failure` counter from
 * the Diagnostics dialog, and then:
 * - every message sent is shown exactly once at its recipient (lost / duplicated),
 * - one sender's messages appear in send order at the recipient (reordered),
 * - every sent message ends `delivered` or `read` at its sender (`failed` only where the
 *   scenario allows it, and then with a reason),
 * - no `crypto.failure` unless the scenario tampered,
 * - both sides can still chat afterwards.
 */
import { expect, type Page } from '@playwright/test';
import { DEFAULT_DATABASE_NAME } from '../../../src/platform/idb/schema.ts';
import { body, send, type ChaosUser } from './app.ts';

/** How long a run may take to settle after its last fault (reconnect backoff included). */
export const SETTLE_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

export interface StoredMessage {
  readonly id: string;
  readonly contactId: string;
  readonly direction: 'in' | 'out';
  readonly body: string;
  readonly order: number;
  readonly status: string;
  readonly failure?: string;
  /** The transport that carried it (`relay` / `direct`), when the store recorded one. */
  readonly via?: string;
}

export interface InvariantResult {
  readonly sent: number;
  readonly received: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  /** Sent messages not `delivered`/`read` at their sender when the run ended. */
  readonly unconfirmed: number;
  readonly ms: number;
  /** Each lost message: `<sender>:<index>=<its status at the sender, or "absent">`. */
  readonly lostDetail?: readonly string[];
}

/** Every message row of the user's store (read with the page's own IndexedDB). */
export async function storedMessages(page: Page): Promise<StoredMessage[]> {
  return page.evaluate(async (dbName) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(dbName);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    try {
      const rows = await new Promise<Record<string, unknown>[]>((resolve, reject) => {
        const req = db.transaction('messages', 'readonly').objectStore('messages').getAll();
        req.onsuccess = () => resolve(req.result as Record<string, unknown>[]);
        req.onerror = () => reject(req.error);
      });
      return rows.map((r) => ({
        id: String(r.id),
        contactId: String(r.contactId),
        direction: r.direction as 'in' | 'out',
        body: String(r.body),
        order: Number(r.order),
        status: String(r.status),
        ...(typeof r.failure === 'string' ? { failure: r.failure } : {}),
        ...(typeof r.via === 'string' ? { via: r.via } : {}),
      }));
    } finally {
      db.close();
    }
  }, DEFAULT_DATABASE_NAME);
}

/** One direction of a run: `from` sent `count` messages tagged `tag` to `to`. */
export interface Flow {
  readonly from: ChaosUser;
  readonly to: ChaosUser;
  readonly tag: string;
  readonly count: number;
}

interface FlowOutcome {
  readonly received: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  readonly unconfirmed: number;
  readonly failedWithoutReason: number;
  /** Each lost message: `<sender>:<index>=<its status at the sender, or "absent">`. */
  readonly lostDetail: readonly string[];
}

function indexOf(text: string, prefix: string): number | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const n = Number(text.slice(prefix.length));
  return Number.isInteger(n) ? n : undefined;
}

async function judgeFlow(flow: Flow, allowFailed: boolean): Promise<FlowOutcome> {
  const prefix = body(flow.tag, flow.from.name, 0).slice(0, -1);
  const [out, inbox] = await Promise.all([storedMessages(flow.from.page), storedMessages(flow.to.page)]);
  const arrived = inbox
    .filter((m) => m.direction === 'in')
    .map((m) => ({ m, i: indexOf(m.body, prefix) }))
    .filter((x): x is { m: StoredMessage; i: number } => x.i !== undefined)
    .sort((a, b) => a.m.order - b.m.order);
  const seen = new Map<number, number>();
  for (const { i } of arrived) seen.set(i, (seen.get(i) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  const lostIndices: number[] = [];
  for (let i = 0; i < flow.count; i++) {
    const n = seen.get(i) ?? 0;
    if (n === 0) {
      lost++;
      lostIndices.push(i);
    } else duplicated += n - 1;
  }
  let reordered = 0;
  let highest = -1;
  for (const { i } of arrived) {
    if (i < highest) reordered++;
    highest = Math.max(highest, i);
  }
  const mine = out.filter((m) => m.direction === 'out' && indexOf(m.body, prefix) !== undefined);
  const confirmed = mine.filter((m) => m.status === 'delivered' || m.status === 'read' || (allowFailed && m.status === 'failed'));
  const failedWithoutReason = mine.filter((m) => m.status === 'failed' && !m.failure).length;
  const statusAtSender = new Map(mine.map((m) => [indexOf(m.body, prefix)!, m.status]));
  const lostDetail = lostIndices.map((i) => `${flow.from.name}:${i}=${statusAtSender.get(i) ?? 'absent'}`);
  return { received: seen.size, lost, duplicated, reordered, unconfirmed: flow.count - confirmed.length, failedWithoutReason, lostDetail };
}

export interface JudgeOptions {
  /** The scenario makes some deliveries impossible: `failed` (with a reason) is an accepted end. */
  readonly allowFailed?: boolean;
  readonly timeoutMs?: number;
}

/**
 * Waits until every flow settled (all arrived and confirmed) or the timeout passed,
 * then returns the counts. `startedAt` is when the run's sending began.
 */
export type Verdict = InvariantResult & { readonly failedWithoutReason: number };

export async function settle(flows: readonly Flow[], startedAt: number, options: JudgeOptions = {}): Promise<Verdict> {
  const deadline = Date.now() + (options.timeoutMs ?? SETTLE_TIMEOUT_MS);
  for (;;) {
    const outcomes = await Promise.all(flows.map((f) => judgeFlow(f, options.allowFailed ?? false)));
    const sum = (k: Exclude<keyof FlowOutcome, 'lostDetail'>) => outcomes.reduce((s, o) => s + o[k], 0);
    const done = sum('lost') === 0 && sum('unconfirmed') === 0;
    if (done || Date.now() > deadline) {
      return {
        sent: flows.reduce((s, f) => s + f.count, 0),
        received: sum('received'),
        lost: sum('lost'),
        duplicated: sum('duplicated'),
        reordered: sum('reordered'),
        unconfirmed: sum('unconfirmed'),
        failedWithoutReason: sum('failedWithoutReason'),
        lostDetail: outcomes.flatMap((o) => o.lostDetail),
        ms: Date.now() - startedAt,
      };
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** `crypto.failure` rows in the Diagnostics dialog (reason -> count). */
export async function cryptoFailures(page: Page): Promise<Record<string, number>> {
  await page.getByRole('button', { name: 'Diagnostics' }).click();
  const dialog = page.getByRole('dialog', { name: 'Diagnostics' });
  await expect(dialog).toBeVisible();
  const rows = await dialog.getByRole('row').filter({ hasText: 'crypto.failure' }).allTextContents();
  const cells = await Promise.all(
    rows.map(async (_, k) => dialog.getByRole('row').filter({ hasText: 'crypto.failure' }).nth(k).getByRole('cell').allTextContents()),
  );
  const reasons = await Promise.all(
    rows.map(async (_, k) => (await dialog.getByRole('row').filter({ hasText: 'crypto.failure' }).nth(k).getByRole('rowheader').textContent()) ?? ''),
  );
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  const out: Record<string, number> = {};
  cells.forEach((c, k) => (out[reasons[k]!] = Number(c[c.length - 1])));
  return out;
}

/** Both sides send one more message and each arrives: the conversation still works. */
export async function stillChatting(a: ChaosUser, b: ChaosUser, tag: string): Promise<void> {
  await send(a.page, body(`${tag}-after`, a.name, 0));
  await send(b.page, body(`${tag}-after`, b.name, 0));
  const after = await settle(
    [
      { from: a, to: b, tag: `${tag}-after`, count: 1 },
      { from: b, to: a, tag: `${tag}-after`, count: 1 },
    ],
    Date.now(),
  );
  expect(after, 'a message each way after the run').toMatchObject({ lost: 0, duplicated: 0, unconfirmed: 0 });
}

/** The standard verdict: nothing lost, doubled, reordered or unconfirmed; no crypto failure. */
export async function assertInvariants(result: Verdict, users: readonly ChaosUser[], options: { tampered?: boolean } = {}): Promise<void> {
  expect(result, 'exactly once, in order, all confirmed').toMatchObject({ lost: 0, duplicated: 0, reordered: 0, unconfirmed: 0, failedWithoutReason: 0, lostDetail: [] });
  if (!options.tampered) {
    for (const u of users) expect(await cryptoFailures(u.page), `crypto.failure at ${u.name}`).toEqual({});
  }
}
