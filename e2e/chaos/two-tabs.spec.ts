/**
 * Scenario 7, two tabs of one user: Alice opens Petrel twice in one profile. The first
 * tab hosts the core; the second is a full client of it: an invite opened there is
 * added there, and both tabs send to Bob during a burst (Bob answering). At a seeded
 * point the hosting tab closes right after the second tab pressed Enter (its command
 * in flight); the second tab takes over and sends the rest. Every message of each tab
 * arrives once and in order, all confirmed, no crypto failure.
 */
import { expect } from '@playwright/test';
import { addContact, body, contactButton, openChat, openUser, pair, send, type ChaosUser } from './support/app.ts';
import { assertInvariants, settle, stillChatting } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const PER_TAB = 25;
const REPLY_EVERY = 5;

scenario(7, 'two tabs of one user', 'e2e/chaos/two-tabs.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());

  // The second tab: no "open in another tab" notice, the same identity, and an invite opened here is added here.
  const second = await alice.context.newPage();
  await second.goto('/');
  await expect(second.getByText('Petrel is open in another tab')).toHaveCount(0);
  await expect(contactButton(second, bob.name)).toBeVisible();
  const carol = await openUser(browser, 'Carol', relay.origin);
  defer(() => carol.context.close());
  const aliceTwo: ChaosUser = { ...alice, page: second };
  await addContact(aliceTwo, carol);
  await expect(contactButton(alice.page, carol.name)).toBeVisible();
  await openChat(second, bob.name);

  const tag = `tabs${schedule.int(0, 9999)}`;
  const tagOne = `${tag}one`;
  const tagTwo = `${tag}two`;
  const closeAt = schedule.int(Math.floor(PER_TAB / 2), PER_TAB + Math.floor(PER_TAB / 2));
  const started = Date.now();
  let one = 0;
  let two = 0;
  let replies = 0;
  let hostOpen = true;
  for (let step = 0; one < PER_TAB || two < PER_TAB; step++) {
    if (hostOpen && step === closeAt) {
      // The second tab presses Enter; the hosting tab closes while that command is in flight.
      await send(second, body(tagTwo, alice.name, two++));
      await alice.page.close({ runBeforeUnload: false });
      hostOpen = false;
      alice.page = second;
      continue;
    }
    const fromOne = hostOpen && one < PER_TAB && (two === PER_TAB || schedule.chance(0.5));
    if (fromOne) await send(alice.page, body(tagOne, alice.name, one++));
    // After the close the second tab also sends what the first had left.
    else if (two < PER_TAB) await send(second, body(tagTwo, alice.name, two++));
    else await send(second, body(tagOne, alice.name, one++));
    if (step % REPLY_EVERY === 0) await send(bob.page, body(tag, bob.name, replies++));
  }
  const result = await settle(
    [
      { from: aliceTwo, to: bob, tag: tagOne, count: PER_TAB },
      { from: aliceTwo, to: bob, tag: tagTwo, count: PER_TAB },
      { from: bob, to: aliceTwo, tag, count: replies },
    ],
    started,
  );
  record(result, `both tabs sending; the hosting tab closed at step ${closeAt}, right after the other tab pressed Enter`);
  await assertInvariants(result, [aliceTwo, bob]);
  await stillChatting(aliceTwo, bob, tag);
});
