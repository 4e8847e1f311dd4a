/**
 * Scenario 3, relay crash: Alice and Bob each send 100 (200 in all, interleaved) while
 * the relay is killed with SIGKILL at a seeded message index, stays down for a seeded
 * number of further messages, and is restarted on the same port and data dir. Nothing
 * the relay acknowledged may be lost, nothing shown twice, nothing out of order.
 */
import { body, pair, send } from './support/app.ts';
import { assertInvariants, settle, stillChatting } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const PER_SIDE = 100;

scenario(3, 'relay SIGKILL mid-burst', 'e2e/chaos/relay-crash.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());

  const tag = `crash${schedule.int(0, 9999)}`;
  const killAt = schedule.int(20, 70);
  const restartAt = killAt + schedule.int(5, 25);
  const started = Date.now();
  for (let i = 0; i < PER_SIDE; i++) {
    if (i === killAt) await relay.stop('SIGKILL');
    if (i === restartAt) await relay.restart();
    await Promise.all([send(alice.page, body(tag, alice.name, i)), send(bob.page, body(tag, bob.name, i))]);
  }
  const result = await settle(
    [
      { from: alice, to: bob, tag, count: PER_SIDE },
      { from: bob, to: alice, tag, count: PER_SIDE },
    ],
    started,
  );
  record(result, `SIGKILL before pair ${killAt}, restart before pair ${restartAt}`);
  await assertInvariants(result, [alice, bob]);
  await stillChatting(alice, bob, tag);
});
