/**
 * Scenario 11, linked devices under load (issue 16). Bo writes Ada a burst of 100; at a
 * seeded point of it Ada links a second device (A2) by its Device link. Then a third device
 * (A3) is linked, and during a second burst of 100 Ada's first device unlinks A3. On each
 * device that stays linked (A1 and A2) each burst is there exactly once and in Bo's order:
 * the exact list of texts, from the device's own store. Bo sees every message confirmed,
 * no key-change banner, and no device reports a crypto failure.
 */
import { expect, type Browser, type Page } from '@playwright/test';
import { body, contactButton, openChat, pair, send, type ChaosUser } from './support/app.ts';
import { cryptoFailures, SETTLE_TIMEOUT_MS, storedMessages, type InvariantResult } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const BURST = 100;
const POLL_MS = 250;

function devicesDialog(page: Page) {
  return page.getByRole('dialog', { name: 'Linked devices' });
}

/** Ada's device `from` shows a fresh Device link; `name` opens it in a new context and links. */
async function linkDevice(browser: Browser, from: ChaosUser, origin: string, bo: string): Promise<ChaosUser> {
  const dialog = devicesDialog(from.page);
  const field = dialog.getByLabel('Device link');
  // The first link makes A1 a listed device, and its core starts again as that device; the
  // app keeps its dialog open through that (no retry: a dialog that closed would fail here).
  await from.page.getByRole('button', { name: 'Linked devices' }).click();
  await dialog.getByRole('button', { name: 'Link a new device' }).click();
  await expect(field).toHaveValue(/#link=petrel-link:/, { timeout: SETTLE_TIMEOUT_MS });
  const link = await field.inputValue();
  const context = await browser.newContext({ baseURL: origin });
  const page = await context.newPage();
  await page.goto(link);
  await page.getByRole('button', { name: 'Link this device' }).click();
  await expect(contactButton(page, bo)).toBeVisible({ timeout: SETTLE_TIMEOUT_MS });
  await from.page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await openChat(page, bo);
  return { name: from.name, context, page, invite: from.invite };
}

/** The texts of `from`'s burst `tag` as this device stores them, in the conversation's order. */
async function burstTexts(page: Page, tag: string, from: string): Promise<string[]> {
  const prefix = `${tag}:${from}:`;
  return (await storedMessages(page))
    .filter((m) => m.direction === 'in' && m.body.startsWith(prefix))
    .sort((a, b) => a.order - b.order)
    .map((m) => m.body);
}

/** Waits until the device holds at least the whole burst (or the timeout), then returns what it holds. */
async function settledTexts(page: Page, tag: string, from: string): Promise<string[]> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const texts = await burstTexts(page, tag, from);
    if (new Set(texts).size >= BURST || Date.now() > deadline) return texts;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Bo's messages of the burst not (yet) `delivered`/`read` at Bo. */
async function unconfirmed(bo: ChaosUser, tag: string): Promise<number> {
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const mine = (await storedMessages(bo.page)).filter((m) => m.direction === 'out' && m.body.startsWith(`${tag}:${bo.name}:`));
    const open = BURST - mine.filter((m) => m.status === 'delivered' || m.status === 'read').length;
    if (open === 0 || Date.now() > deadline) return open;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Lost / duplicated / reordered of one device's list against the expected one. */
function judge(texts: readonly string[], expected: readonly string[]): { lost: number; duplicated: number; reordered: number } {
  const index = new Map(expected.map((t, i) => [t, i]));
  const seen = new Set<string>();
  let duplicated = 0;
  let reordered = 0;
  let highest = -1;
  for (const t of texts) {
    if (seen.has(t)) duplicated++;
    seen.add(t);
    const i = index.get(t) ?? -1;
    if (i < highest) reordered++;
    highest = Math.max(highest, i);
  }
  return { lost: expected.filter((t) => !seen.has(t)).length, duplicated, reordered };
}

scenario(11, 'linked devices', 'e2e/chaos/linked-devices.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [a1, bo] = await pair(browser, relay.origin, ['Ada', 'Bo']);
  defer(() => a1.context.close());
  defer(() => bo.context.close());
  const tag = `dev${schedule.int(0, 9999)}`;
  const linkTag = `${tag}link`;
  const unlinkTag = `${tag}unlink`;
  const expected = (t: string) => Array.from({ length: BURST }, (_, i) => body(t, bo.name, i));
  const started = Date.now();

  // Burst 1: A2 links while Bo writes.
  const linkAt = schedule.int(5, 40);
  let linking: Promise<ChaosUser> | undefined;
  for (let i = 0; i < BURST; i++) {
    if (i === linkAt) linking = linkDevice(browser, a1, relay.origin, bo.name);
    await send(bo.page, body(linkTag, bo.name, i));
  }
  const a2 = await linking!;
  defer(() => a2.context.close());

  // A quiet link of A3, the device that will be unlinked.
  const a3 = await linkDevice(browser, a1, relay.origin, bo.name);
  defer(() => a3.context.close());

  // Burst 2: A1 unlinks A3 while Bo writes.
  const unlinkAt = schedule.int(5, 60);
  let unlinking: Promise<void> | undefined;
  for (let i = 0; i < BURST; i++) {
    if (i === unlinkAt) {
      unlinking = (async () => {
        const dialog = devicesDialog(a1.page);
        await a1.page.getByRole('button', { name: 'Linked devices' }).click();
        await expect(dialog.getByRole('listitem')).toHaveCount(3);
        // A3 is the newest: the last device of the list that is not this one.
        await dialog.getByRole('listitem').filter({ hasNotText: 'This device' }).last().getByRole('button', { name: 'Unlink' }).click();
        await expect(dialog.getByRole('listitem')).toHaveCount(2);
        await a1.page.keyboard.press('Escape');
      })();
    }
    await send(bo.page, body(unlinkTag, bo.name, i));
  }
  await unlinking;
  await expect(a3.page.getByRole('alert').filter({ hasText: 'This device was unlinked from your account' })).toBeVisible();

  const outcome = { lost: 0, duplicated: 0, reordered: 0 };
  const lists: Record<string, string[]> = {};
  for (const [device, user] of [['A1', a1], ['A2', a2]] as const) {
    for (const t of [linkTag, unlinkTag]) {
      const texts = await settledTexts(user.page, t, bo.name);
      lists[`${device} ${t === linkTag ? 'link burst' : 'unlink burst'}`] = texts;
      const j = judge(texts, expected(t));
      outcome.lost += j.lost;
      outcome.duplicated += j.duplicated;
      outcome.reordered += j.reordered;
    }
  }
  const open = (await unconfirmed(bo, linkTag)) + (await unconfirmed(bo, unlinkTag));
  const result: InvariantResult = { sent: 2 * BURST, received: 2 * BURST - outcome.lost / 2, ...outcome, unconfirmed: open, ms: Date.now() - started };
  record(result, `A2 linked at message ${linkAt} of the first burst; A3 unlinked at message ${unlinkAt} of the second`);

  for (const [key, texts] of Object.entries(lists)) {
    expect(texts, key).toEqual(expected(key.endsWith('link burst') && !key.endsWith('unlink burst') ? linkTag : unlinkTag));
  }
  expect(open, "Bo's messages not confirmed").toBe(0);
  await expect(bo.page.locator('.key-change-banner')).toHaveCount(0);
  for (const u of [a1, a2, bo]) expect(await cryptoFailures(u.page), `crypto.failure at ${u.name}`).toEqual({});
  // Still chatting: Ada writes from A2, Bo gets it once.
  await send(a2.page, body(`${tag}after`, a1.name, 0));
  await expect.poll(async () => (await storedMessages(bo.page)).filter((m) => m.body === body(`${tag}after`, a1.name, 0)).length, { timeout: SETTLE_TIMEOUT_MS }).toBe(1);
}, {
  // 2 × 100 sends through the UI, two links and an unlink: 8.7 min at load 21 (2026-12-05).
  // It used to run out of time while judging: Bo's messages sent before he learned of A2
  // never reached A2, so each judged list waited out SETTLE_TIMEOUT_MS (now covered by the
  // relay's stale_devices refusal, PROTOCOL.md §13.5).
  timeoutMs: 1_800_000,
  // Bo once counted crypto.failure{reason="unknown_device"} here: an envelope from one of Ada's
  // devices his verified list did not name at that moment. Such an envelope is now held while
  // her list is fetched again (unlisted-device-hold.ts, PROTOCOL.md §13.5).
});
