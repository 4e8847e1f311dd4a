/**
 * Scenario 4, reloads mid-send: during a burst from Alice (Bob answering every fifth),
 * Alice's page is reloaded or closed 50 times, each at a seeded instant 0–50 ms after
 * she pressed Enter — before, during or after the core's commit of that message, while
 * earlier envelopes may be anywhere between the outbox and Bob. Every message still
 * arrives once, in order, and ends delivered: what the commit had not taken yet comes
 * back from the keypress journal (src/platform/keypress/) when Petrel opens again.
 *
 * Reloads are armed in the page: a capture listener schedules `location.reload()` with
 * `setTimeout(delay)` from the Enter keydown itself, so the instant is measured from the
 * keypress. Closes close the tab from the test after an in-page timer of `delay` ms (plus
 * one round trip to the browser), then open a new tab of the same profile.
 */
import { expect, type Page } from '@playwright/test';
import { body, composer, openChat, pair, send, type ChaosUser } from './support/app.ts';
import { assertInvariants, settle, stillChatting } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const MESSAGES = 60;
const REPLY_EVERY = 5;
const CUTS = 50;
const MAX_DELAY_MS = 50;

/** Types `text` and presses Enter; the page reloads `delayMs` after the keydown. */
async function pressThenReload(page: Page, text: string, delayMs: number): Promise<void> {
  await composer(page).fill(text);
  await page.evaluate((ms) => {
    const arm = (e: KeyboardEvent) => {
      if (e.key !== 'Enter') return;
      window.removeEventListener('keydown', arm, true);
      setTimeout(() => location.reload(), ms);
    };
    window.addEventListener('keydown', arm, true);
  }, delayMs);
  const reloaded = page.waitForEvent('load');
  await composer(page).press('Enter');
  await reloaded;
}

/** Types `text`, presses Enter and closes the tab `delayMs` later; returns a new tab of the same profile. */
async function pressThenClose(user: ChaosUser, text: string, delayMs: number): Promise<Page> {
  const page = user.page;
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await page.evaluate((ms) => new Promise((resolve) => setTimeout(resolve, ms)), delayMs);
  await page.close({ runBeforeUnload: false });
  const next = await user.context.newPage();
  await next.goto('/');
  return next;
}

scenario(4, 'reloads mid-send', 'e2e/chaos/reloads.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());

  const tag = `reload${schedule.int(0, 9999)}`;
  const cutAfter = new Set(schedule.indices(CUTS, 0, MESSAGES - 2));
  const cuts: string[] = [];
  const started = Date.now();
  let replies = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const text = body(tag, alice.name, i);
    if (cutAfter.has(i)) {
      const delay = schedule.int(0, MAX_DELAY_MS);
      if (schedule.chance(0.5)) {
        await pressThenReload(alice.page, text, delay);
        cuts.push(`${i}r${delay}`);
      } else {
        alice.page = await pressThenClose(alice, text, delay);
        cuts.push(`${i}c${delay}`);
      }
      await openChat(alice.page, bob.name);
    } else await send(alice.page, text);
    if (i % REPLY_EVERY === 0) await send(bob.page, body(tag, bob.name, replies++));
  }
  // Nothing pressed is left in the composer: every message went out through the journal or the commit.
  await expect(composer(alice.page)).toHaveValue('');
  const result = await settle(
    [
      { from: alice, to: bob, tag, count: MESSAGES },
      { from: bob, to: alice, tag, count: replies },
    ],
    started,
  );
  record(result, `Alice reloaded (r) or closed (c) the tab after pressing Enter on messages (index, ms after the keypress): ${cuts.join(' ')}`);
  await assertInvariants(result, [alice, bob]);
  await stillChatting(alice, bob, tag);
  // 50 page loads at 2–3 s each on a loaded 2-core machine, on top of the burst and settling.
}, { timeoutMs: 420_000 });
