/**
 * Scenario 2, recipient away: Bob's page is closed; Alice sends 50; Bob opens the app
 * later and gets every one, once, in order, and Alice sees them delivered.
 */
import { expect } from '@playwright/test';
import { body, openChat, send } from './support/app.ts';
import { assertInvariants, settle, stillChatting } from './support/invariants.ts';
import { pair } from './support/app.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const MESSAGES = 50;

scenario(2, 'recipient away', 'e2e/chaos/recipient-away.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());
  const tag = `away${schedule.int(0, 9999)}`;

  await bob.page.close();
  const started = Date.now();
  for (let i = 0; i < MESSAGES; i++) await send(alice.page, body(tag, alice.name, i));
  // Every one is on the relay's disk before Bob comes back.
  await expect.poll(() => relay.metric(/^petrel_queue_depth (\d+)/m), { timeout: 30_000 }).toBeGreaterThanOrEqual(MESSAGES);

  bob.page = await bob.context.newPage();
  await bob.page.goto('/');
  await openChat(bob.page, alice.name);
  const result = await settle([{ from: alice, to: bob, tag, count: MESSAGES }], started);
  record(result, 'recipient page closed during the whole burst');
  await assertInvariants(result, [alice, bob]);
  await stillChatting(alice, bob, tag);
});
