/**
 * Scenario 5, flaky link: both people reach the relay through the fault proxy, which —
 * at seeded message indices of a 200-message two-way burst — cuts every connection,
 * loses a chunk (and the connection with it), cuts a chunk in half, and delays traffic
 * for stretches. Every message still arrives once, in order, and is confirmed.
 */
import { expect } from '@playwright/test';
import { body, pair, send } from './support/app.ts';
import { FaultProxy } from './support/fault-proxy.ts';
import { assertInvariants, settle, stillChatting } from './support/invariants.ts';
import { ChaosRelay } from './support/relay-process.ts';
import { scenario } from './support/scenario.ts';

const PER_SIDE = 100;
const CUTS = 4;
const DROPS = 3;
const TRUNCATIONS = 3;
const DELAY_WINDOWS = 3;
const MAX_DELAY_MS = 300;
const DELAY_WINDOW_PAIRS = 10;

type Fault = { kind: 'cut' } | { kind: 'drop' } | { kind: 'truncate' } | { kind: 'delay'; ms: number } | { kind: 'heal' };

scenario(5, 'flaky link', 'e2e/chaos/flaky-link.spec.ts', async ({ browser, schedule, defer, record }) => {
  const relay = await ChaosRelay.start();
  defer(() => relay.dispose());
  const proxy = await FaultProxy.start(relay.port);
  defer(() => proxy.close());
  const [alice, bob] = await pair(browser, proxy.origin);
  defer(() => alice.context.close());
  defer(() => bob.context.close());

  const plan = new Map<number, Fault[]>();
  const add = (i: number, f: Fault) => plan.set(i, [...(plan.get(i) ?? []), f]);
  for (const i of schedule.indices(CUTS, 1, PER_SIDE - 1)) add(i, { kind: 'cut' });
  for (const i of schedule.indices(DROPS, 1, PER_SIDE - 1)) add(i, { kind: 'drop' });
  for (const i of schedule.indices(TRUNCATIONS, 1, PER_SIDE - 1)) add(i, { kind: 'truncate' });
  for (const i of schedule.indices(DELAY_WINDOWS, 1, PER_SIDE - DELAY_WINDOW_PAIRS)) {
    add(i, { kind: 'delay', ms: schedule.int(10, MAX_DELAY_MS) });
    add(i + DELAY_WINDOW_PAIRS, { kind: 'heal' });
  }

  const tag = `flaky${schedule.int(0, 9999)}`;
  const started = Date.now();
  for (let i = 0; i < PER_SIDE; i++) {
    for (const f of plan.get(i) ?? []) {
      if (f.kind === 'cut') proxy.cutAll();
      else if (f.kind === 'drop' || f.kind === 'truncate') proxy.arm(f.kind);
      else if (f.kind === 'delay') proxy.delay(f.ms);
      else proxy.heal();
    }
    await Promise.all([send(alice.page, body(tag, alice.name, i)), send(bob.page, body(tag, bob.name, i))]);
  }
  proxy.heal();
  const result = await settle(
    [
      { from: alice, to: bob, tag, count: PER_SIDE },
      { from: bob, to: alice, tag, count: PER_SIDE },
    ],
    started,
  );
  const c = proxy.counts;
  record(result, `${c.cuts} connections cut, ${c.drops} chunks lost, ${c.truncations} truncated, ${c.delayed} delayed`);
  expect(c.cuts, 'the schedule really cut connections').toBeGreaterThan(0);
  await assertInvariants(result, [alice, bob]);
  await stillChatting(alice, bob, tag);
});
