/**
 * Scenario 6, direct path: Alice and Bob are both online and talk over a WebRTC data
 * channel; the relay's own Prometheus counter shows it stored nothing for them. Then, at
 * seeded message indices of a two-way burst:
 * - the path between them is severed (test hook `severDirect` on both sides): the channel
 *   still looks open but every frame on it is lost, so direct sends time out, each
 *   message fails over to the relay, and the direct transport's circuit breaker opens;
 * - the channel then dies (`dropDirect` on one side) and cannot come back while severed;
 *   the breaker half-opens after its cool-down;
 * - the path heals: the next message reopens the channel, the first direct send is the
 *   half-open probe, it succeeds and the breaker closes.
 * A tail of messages then flows direct again with nothing stored by the relay. Breaker
 * states are read from the core metrics (`circuit_breaker.state{transport}` and
 * `circuit_breaker.transitions{transport,to}`) through the test handle.
 */
import { expect, type Page } from '@playwright/test';
import { body, pair, send, type ChaosUser } from './support/app.ts';
import { assertInvariants, settle, stillChatting, storedMessages, type Flow } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

/** Messages per side over the healthy channel before the faults (the relay must store none). */
const WARMUP = 6;
/** Messages per side in the burst the faults happen in. */
const BURST = 24;
/** Messages per side after the channel came back (the relay must store none). */
const TAIL = 6;
/** Long waits: five direct sends must time out (5 s each) before a breaker opens, cool-downs double. */
const FAULT_WAIT_MS = 90_000;
const DIRECT = 'Online · direct to 1';

type Hook = 'severDirect' | 'healDirect' | 'dropDirect';

interface BreakerView {
  /** `circuit_breaker.state{transport="direct"}`: 0 closed, 1 open, 2 half_open. */
  readonly state: number;
  readonly open: number;
  readonly halfOpen: number;
  readonly closed: number;
}

function hook(page: Page, name: Hook): Promise<void> {
  return page.evaluate((n) => (window as unknown as { __petrelTest: Record<Hook, () => Promise<void>> }).__petrelTest[n](), name);
}

function directBreaker(page: Page): Promise<BreakerView> {
  return page.evaluate(async () => {
    const h = (window as unknown as { __petrelTest: { diagnostics(): Promise<{ metrics: { counters: Record<string, number>; gauges: Record<string, number> } }> } }).__petrelTest;
    const { counters, gauges } = (await h.diagnostics()).metrics;
    const to = (state: string) => counters[`circuit_breaker.transitions{to="${state}",transport="direct"}`] ?? 0;
    return { state: gauges['circuit_breaker.state{transport="direct"}'] ?? -1, open: to('open'), halfOpen: to('half_open'), closed: to('closed') };
  });
}

function connection(page: Page) {
  return page.getByRole('status', { name: 'Connection' });
}

/**
 * Messages either side sent that the other has not read yet (`<sender>:<body>=<status>`):
 * when empty, no receipt is still on its way.
 */
async function notYetRead(users: readonly ChaosUser[]): Promise<string[]> {
  const rows = await Promise.all(users.map(async (u) => (await storedMessages(u.page)).filter((m) => m.direction === 'out' && m.status !== 'read').map((m) => `${u.name}:${m.body}=${m.status}`)));
  return rows.flat();
}

/** How the messages of `from` with indices [lo, hi) reached `to`. */
async function carriers(from: ChaosUser, to: ChaosUser, tag: string, lo: number, hi: number): Promise<string[]> {
  const wanted = new Set(Array.from({ length: hi - lo }, (_, k) => body(tag, from.name, lo + k)));
  return (await storedMessages(to.page)).filter((m) => m.direction === 'in' && wanted.has(m.body)).map((m) => m.via ?? 'unknown');
}

scenario(6, 'direct path', 'e2e/chaos/direct-path.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const [alice, bob] = await pair(browser, relay.origin, ['Alice', 'Bob'], { testHooks: true });
  defer(() => alice.context.close());
  defer(() => bob.context.close());
  const users = [alice, bob] as const;
  const stored = () => relay.metric(/^petrel_deposits_total\{result="stored"\} (\d+)/m);

  const tag = `direct${schedule.int(0, 9999)}`;
  const severAt = schedule.int(1, 4);
  const dropAt = severAt + schedule.int(6, 9);
  const healAt = dropAt + schedule.int(2, 5);
  const dropper = schedule.chance(0.5) ? alice : bob;
  const next = new Map<ChaosUser, number>([
    [alice, 0],
    [bob, 0],
  ]);
  const sendNext = async (u: ChaosUser) => {
    const i = next.get(u)!;
    next.set(u, i + 1);
    await send(u.page, body(tag, u.name, i));
  };
  const sendBoth = () => Promise.all([sendNext(alice), sendNext(bob)]);
  const flows = (): Flow[] => [
    { from: alice, to: bob, tag, count: next.get(alice)! },
    { from: bob, to: alice, tag, count: next.get(bob)! },
  ];

  // The first message starts the session over the relay; the channel opens after it.
  const started = Date.now();
  await sendNext(alice);
  await expect(connection(alice.page)).toHaveText(DIRECT, { timeout: FAULT_WAIT_MS });
  await expect(connection(bob.page)).toHaveText(DIRECT, { timeout: FAULT_WAIT_MS });
  await expect.poll(() => notYetRead(users), { timeout: FAULT_WAIT_MS }).toEqual([]);

  // Healthy direct path: messages and receipts both ways, none of them stored by the relay.
  const beforeWarmup = await stored();
  const warmFrom = { alice: next.get(alice)!, bob: next.get(bob)! };
  for (let i = 0; i < WARMUP; i++) await sendBoth();
  expect(await settle(flows(), started), 'warm-up over the data channel').toMatchObject({ lost: 0, unconfirmed: 0 });
  await expect.poll(() => notYetRead(users), { timeout: FAULT_WAIT_MS }).toEqual([]);
  expect(await stored(), 'envelopes the relay stored while the channel carried everything').toBe(beforeWarmup);
  expect(await carriers(alice, bob, tag, warmFrom.alice, next.get(alice)!)).toEqual(Array(WARMUP).fill('direct'));
  expect(await carriers(bob, alice, tag, warmFrom.bob, next.get(bob)!)).toEqual(Array(WARMUP).fill('direct'));

  // The burst, with the faults at their seeded indices.
  const burstFrom = { alice: next.get(alice)!, bob: next.get(bob)! };
  const beforeBurst = await stored();
  for (let i = 0; i < BURST; i++) {
    if (i === severAt) await Promise.all(users.map((u) => hook(u.page, 'severDirect')));
    if (i === dropAt) {
      // Every direct send since the cut timed out and went through the relay: both breakers opened.
      for (const u of users) await expect.poll(async () => (await directBreaker(u.page)).open, { timeout: FAULT_WAIT_MS, message: `${u.name}'s direct breaker opens` }).toBeGreaterThan(0);
      await hook(dropper.page, 'dropDirect');
      for (const u of users) await expect(connection(u.page)).toHaveText(/^Online via relay/, { timeout: FAULT_WAIT_MS });
    }
    if (i === healAt) {
      // No channel, no probe: each breaker waits half-open after its cool-down.
      for (const u of users) await expect.poll(async () => (await directBreaker(u.page)).state, { timeout: FAULT_WAIT_MS, message: `${u.name}'s direct breaker half-opens` }).toBe(2);
      await Promise.all(users.map((u) => hook(u.page, 'healDirect')));
    }
    await sendBoth();
  }
  const burst = await settle(flows(), started);
  expect(burst, 'the burst arrived in full').toMatchObject({ lost: 0, unconfirmed: 0 });
  expect(await stored(), 'the relay carried the burst while the path was down').toBeGreaterThan(beforeBurst);
  expect(await carriers(alice, bob, tag, burstFrom.alice, next.get(alice)!)).toContain('relay');
  expect(await carriers(bob, alice, tag, burstFrom.bob, next.get(bob)!)).toContain('relay');

  // Healed: the channel is back (reopened by the messages after the heal); the next direct
  // send is the half-open probe, and from then on nothing goes through the relay.
  for (const u of users) await expect(connection(u.page)).toHaveText(DIRECT, { timeout: FAULT_WAIT_MS });
  await expect.poll(() => notYetRead(users), { timeout: FAULT_WAIT_MS }).toEqual([]);
  const beforeTail = await stored();
  const tailFrom = { alice: next.get(alice)!, bob: next.get(bob)! };
  for (let i = 0; i < TAIL; i++) await sendBoth();
  const result = await settle(flows(), started);
  const breakers = await Promise.all(users.map((u) => directBreaker(u.page)));
  record(
    result,
    `path severed at #${severAt}, channel dropped by ${dropper.name} at #${dropAt} and kept down, healed at #${healAt}; ` +
      `direct breaker opened ${breakers[0]!.open}/${breakers[1]!.open}×, half-opened ${breakers[0]!.halfOpen}/${breakers[1]!.halfOpen}× (Alice/Bob)`,
  );
  await assertInvariants(result, users);
  for (const u of users) {
    await expect.poll(async () => (await directBreaker(u.page)).state, { timeout: FAULT_WAIT_MS, message: `${u.name}'s direct breaker closes` }).toBe(0);
    const b = await directBreaker(u.page);
    expect(Math.min(b.open, b.halfOpen, b.closed), `${u.name}'s direct breaker went open, half-open and closed again: ${JSON.stringify(b)}`).toBeGreaterThan(0);
  }
  await expect.poll(() => notYetRead(users), { timeout: FAULT_WAIT_MS }).toEqual([]);
  expect(await stored(), 'envelopes the relay stored once the channel was back').toBe(beforeTail);
  expect(await carriers(alice, bob, tag, tailFrom.alice, next.get(alice)!)).toEqual(Array(TAIL).fill('direct'));
  expect(await carriers(bob, alice, tag, tailFrom.bob, next.get(bob)!)).toEqual(Array(TAIL).fill('direct'));
  await stillChatting(alice, bob, tag);
});
