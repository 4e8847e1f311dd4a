/**
 * Scenario 10, session repair (issue 17, PROTOCOL.md §12.8): mid-conversation Bob's
 * profile loses every ratchet session (his tab is closed and the `sessions` store cleared,
 * as a broken profile or a partial restore would leave it) while Alice keeps sending,
 * before and after he comes back. What Bob cannot decrypt he asks for again with a retry
 * request under a fresh session, and Alice sends it again from her kept copies: every
 * message arrives, once, readable, and ends delivered at Alice.
 *
 * Re-sent messages arrive after newer ones and take their place in the conversation at
 * arrival (the order key), so the run records `reordered` but does not require 0: the
 * invariant here is 0 lost, 0 duplicated, 0 unconfirmed. Bob's `crypto.failure` counts
 * are only the repairable kinds (what a fresh session mends); Alice has none.
 */
import { expect, type BrowserContext } from '@playwright/test';
import { DEFAULT_DATABASE_NAME } from '../../src/platform/idb/schema.ts';
import { body, openChat, pair, send } from './support/app.ts';
import { cryptoFailures, settle, stillChatting } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const AWAY = 10;
const BACK = 10;
const REPAIRABLE = new Set(['no_session', 'authentication_failed', 'invalid_header', 'skip_limit_exceeded', 'session_mismatch', 'unknown_prekey']);

/** Clears the profile's `sessions` store from a same-origin page that does not start the app; returns how many it held. */
async function loseSessions(context: BrowserContext): Promise<number> {
  const page = await context.newPage();
  try {
    await page.goto('/manifest.webmanifest');
    return await page.evaluate(async (name) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      try {
        return await new Promise<number>((resolve, reject) => {
          const tx = db.transaction('sessions', 'readwrite');
          const store = tx.objectStore('sessions');
          const count = store.count();
          store.clear();
          tx.oncomplete = () => resolve(count.result);
          tx.onerror = () => reject(tx.error);
        });
      } finally {
        db.close();
      }
    }, DEFAULT_DATABASE_NAME);
  } finally {
    await page.close();
  }
}

scenario(10, 'session repair', 'e2e/chaos/session-repair.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());
  const tag = `repair${schedule.int(0, 9999)}`;
  const warm = `${tag}-warm`;

  // Both hold a working session first (a message each way, read).
  await send(alice.page, body(warm, alice.name, 0));
  await send(bob.page, body(warm, bob.name, 0));
  const warmed = await settle(
    [
      { from: alice, to: bob, tag: warm, count: 1 },
      { from: bob, to: alice, tag: warm, count: 1 },
    ],
    Date.now(),
  );
  expect(warmed).toMatchObject({ lost: 0, duplicated: 0, unconfirmed: 0 });

  // Bob's tab closes and his profile loses its sessions; Alice keeps writing meanwhile.
  await bob.page.close();
  expect(await loseSessions(bob.context)).toBeGreaterThan(0);
  const started = Date.now();
  let i = 0;
  for (; i < AWAY; i++) await send(alice.page, body(tag, alice.name, i));
  await expect.poll(() => relay.metric(/^petrel_queue_depth (\d+)/m), { timeout: 30_000 }).toBeGreaterThanOrEqual(AWAY);

  // He comes back while she keeps writing.
  bob.page = await bob.context.newPage();
  await bob.page.goto('/');
  await openChat(bob.page, alice.name);
  for (; i < AWAY + BACK; i++) await send(alice.page, body(tag, alice.name, i));

  const result = await settle([{ from: alice, to: bob, tag, count: AWAY + BACK }], started);
  record(result, `recipient's sessions cleared while the sender sent ${AWAY}, then ${BACK} more after he reopened`);
  expect(result, 'every message once, all delivered').toMatchObject({ lost: 0, duplicated: 0, unconfirmed: 0, failedWithoutReason: 0, lostDetail: [] });
  // Readable: `settle` matched every stored body to the text Alice sent; the newest shows in Bob's chat.
  await expect(bob.page.getByRole('log', { name: 'Messages' }).getByText(body(tag, alice.name, 0).slice(0, -1), { exact: false }).last()).toBeVisible();

  expect(await cryptoFailures(alice.page), 'crypto.failure at Alice').toEqual({});
  const atBob = await cryptoFailures(bob.page);
  expect(Object.keys(atBob).filter((reason) => !REPAIRABLE.has(reason)), `only repairable failures at Bob: ${JSON.stringify(atBob)}`).toEqual([]);
  await stillChatting(alice, bob, tag);
}, { timeoutMs: 360_000 });
