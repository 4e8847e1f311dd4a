/**
 * Scenario 7, two tabs of one user: Alice opens Petrel twice in one profile. Only the
 * first tab runs the core; the second shows the follower notice and mirrors it. After
 * 100 messages (50 each way) nothing is lost or doubled and no session is corrupted
 * (no crypto failure); closing the leader tab lets the second take over and chat on.
 */
import { expect, type Page } from '@playwright/test';
import { body, openChat, pair, send } from './support/app.ts';
import { assertInvariants, settle, stillChatting, storedMessages } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const PER_SIDE = 50;

function followerNotice(page: Page) {
  return page.getByRole('note').filter({ hasText: 'Petrel is open in another tab' });
}

scenario(7, 'two tabs of one user', 'e2e/chaos/two-tabs.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());

  const second = await alice.context.newPage();
  await second.goto('/');
  await expect(followerNotice(second)).toBeVisible();
  await expect(followerNotice(alice.page)).toHaveCount(0);

  const tag = `tabs${schedule.int(0, 9999)}`;
  // The seed decides which of Bob's messages are sent between which of Alice's.
  const started = Date.now();
  let a = 0;
  let b = 0;
  while (a < PER_SIDE || b < PER_SIDE) {
    if (b === PER_SIDE || (a < PER_SIDE && schedule.chance(0.5))) await send(alice.page, body(tag, alice.name, a++));
    else await send(bob.page, body(tag, bob.name, b++));
  }
  const result = await settle(
    [
      { from: alice, to: bob, tag, count: PER_SIDE },
      { from: bob, to: alice, tag, count: PER_SIDE },
    ],
    started,
  );
  record(result, 'second tab following during the burst, then the leader tab closed');
  await assertInvariants(result, [alice, bob]);
  // The follower mirrors the leader: it lists Bob and still refuses to send.
  await expect(second.getByRole('button', { name: /^Bob/ }).first()).toBeVisible();
  await expect(followerNotice(second)).toBeVisible();

  const rows = (await storedMessages(second)).length;
  await alice.page.close();
  alice.page = second;
  await expect(followerNotice(second)).toHaveCount(0, { timeout: 30_000 });
  await openChat(second, bob.name);
  expect((await storedMessages(second)).length).toBe(rows);
  await stillChatting(alice, bob, tag);
  await assertInvariants(await settle([{ from: bob, to: alice, tag, count: PER_SIDE }], started), [alice]);
});
