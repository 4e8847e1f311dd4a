/**
 * Scenario 9, junk flood (issue 21). While Alice and Bob chat in the real app, one
 * address (127.0.0.2, a Node client authenticated as an identity of its own) deposits
 * random 150 KiB "envelopes" into Bob's mailbox at 3 MiB/s, past the relay's default
 * byte budgets (1 MiB/s per connection, 2 MiB/s per IP). The relay stores what the budget allows and refuses the rest; Bob's
 * app receives the junk, refuses every box and acknowledges it; and both people's
 * messages still arrive exactly once, in order, confirmed, within the usual settle time.
 */
import { randomBytes } from 'node:crypto';
import { expect, type Page } from '@playwright/test';
import { decodeFrame, type Envelope } from '../../src/core/wire/index.ts';
import { newIdentity } from '../../tests/relay/helpers/identity.ts';
import { TestClient } from '../../tests/relay/helpers/test-client.ts';
import { body, pair, send } from './support/app.ts';
import { assertInvariants, settle, stillChatting } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const MESSAGES = 10;
const JUNK_BYTES = 150 * 1024;
/** Two junk envelopes every 100 ms: 3 MiB/s against the default budgets (1 MiB/s per connection, 2 MiB/s per IP). */
const JUNK_PER_TICK = 2;
const TICK_MS = 100;

/** Envelopes `page` deposits at the relay, decoded off its WebSocket. */
function captureDeposits(page: Page): Envelope[] {
  const captured: Envelope[] = [];
  page.on('websocket', (ws) =>
    ws.on('framesent', ({ payload }) => {
      if (typeof payload === 'string') return;
      try {
        const frame = decodeFrame(new Uint8Array(payload), { from: 'client' });
        if (frame.t === 'send') captured.push(frame.env);
      } catch {
        // not a frame of ours
      }
    }),
  );
  return captured;
}

scenario(9, 'junk flood', 'e2e/chaos/junk-flood.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());
  const deposits = captureDeposits(alice.page);
  await alice.page.reload();
  await alice.page.getByRole('button', { name: /^Bob/ }).first().click();

  const tag = `flood${schedule.int(0, 9999)}`;
  const started = Date.now();
  await send(alice.page, body(tag, alice.name, 0));
  const first = await settle([{ from: alice, to: bob, tag, count: 1 }], started);
  expect(first).toMatchObject({ lost: 0, unconfirmed: 0 });
  const bobMailbox = deposits.find((e) => e.to.length === 32)!.to;

  // The flood, from another address than the browsers (they share 127.0.0.1).
  const flooder = await TestClient.connect(`ws://127.0.0.1:${relay.port}/ws`, { localAddress: '127.0.0.2' });
  defer(() => flooder.terminate());
  await flooder.auth(newIdentity());
  let rid = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < JUNK_PER_TICK; i++) flooder.send({ t: 'send', rid: ++rid, env: { to: bobMailbox, id: new Uint8Array(randomBytes(16)), body: new Uint8Array(randomBytes(JUNK_BYTES)) } });
    flooder.frames.splice(0);
  }, TICK_MS);
  defer(() => clearInterval(timer));
  // Chat once the flood has reached its budget (refusals have started).
  await expect.poll(() => relay.metric(/^petrel_errors_sent_total\{code="rate_limited"\} (\d+)/m), { timeout: 30_000 }).toBeGreaterThan(0);

  const floodStarted = Date.now();
  for (let i = 1; i <= MESSAGES; i++) {
    await send(alice.page, body(tag, alice.name, i));
    await send(bob.page, body(tag, bob.name, i - 1));
  }
  const result = await settle(
    [
      { from: alice, to: bob, tag, count: MESSAGES + 1 },
      { from: bob, to: alice, tag, count: MESSAGES },
    ],
    floodStarted,
  );
  clearInterval(timer);
  const stored = await relay.metric(/^petrel_deposits_total\{result="stored"\} (\d+)/m);
  const refused = await relay.metric(/^petrel_errors_sent_total\{code="rate_limited"\} (\d+)/m);
  record(result, `one address flooding Bob's mailbox with ${JUNK_BYTES / 1024} KiB junk past its byte budget (${refused} refused); ${stored} envelopes stored in all`);
  // Junk boxes fail to unseal at Bob (counted), so crypto failures are expected there.
  await assertInvariants(result, [alice, bob], { tampered: true });
  // Bob's app refused and acknowledged the junk: his mailbox empties once the flood stops.
  await expect.poll(() => relay.metric(/^petrel_queue_depth (\d+)/m), { timeout: 60_000 }).toBe(0);
  await stillChatting(alice, bob, tag);
});
