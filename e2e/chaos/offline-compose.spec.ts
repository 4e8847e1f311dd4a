/**
 * Scenario 1, offline compose: Alice goes offline, writes 20 messages, reloads the app
 * while still offline (the service worker serves it) at a seeded point of the burst,
 * goes back online; Bob gets all 20, once and in order, and Alice sees them delivered.
 */
import { expect } from '@playwright/test';
import { body, openChat, pair, send } from './support/app.ts';
import { assertInvariants, settle, stillChatting, storedMessages } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const MESSAGES = 20;

scenario(1, 'offline compose', 'e2e/chaos/offline-compose.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());
  // The reload offline needs the service worker in control of the page.
  await alice.page.evaluate(async () => void (await navigator.serviceWorker.ready));
  await alice.page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');

  const tag = `offline${schedule.int(0, 9999)}`;
  const reloadAt = schedule.int(1, MESSAGES - 1);
  await alice.context.setOffline(true);
  await expect(alice.page.getByRole('status', { name: 'Connection' })).toContainText(/offline|reconnecting|connecting/i);
  const started = Date.now();
  for (let i = 0; i < MESSAGES; i++) {
    if (i === reloadAt) {
      await alice.page.reload();
      await openChat(alice.page, bob.name);
    }
    await send(alice.page, body(tag, alice.name, i));
  }
  // Nothing can have left while offline: all 20 wait as queued.
  const queued = (await storedMessages(alice.page)).filter((m) => m.direction === 'out' && m.body.startsWith(`${tag}:`));
  expect(queued.map((m) => m.status)).toEqual(Array<string>(MESSAGES).fill('queued'));
  await alice.context.setOffline(false);

  const result = await settle([{ from: alice, to: bob, tag, count: MESSAGES }], started);
  record(result, `offline for the burst, reload offline before message ${reloadAt}`);
  await assertInvariants(result, [alice, bob]);
  await stillChatting(alice, bob, tag);
});
