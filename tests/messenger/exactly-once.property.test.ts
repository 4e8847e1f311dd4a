/**
 * Exactly once and in order, end to end on the production path: two whole messengers
 * (Messenger.send → outbox → OutboxWorker → Router.attempt → relay → ReceivePipeline →
 * commit → ack, receipts back the same way) over an in-memory relay that loses `sent`
 * answers (the sender resends the same bytes), drops connections (pushes and acks lost,
 * the mailbox redelivered on reconnect), pushes stale duplicates after newer envelopes,
 * and delays every hop; the receivers' commits fail at random (nothing acknowledged,
 * retried); and either messenger is restarted at random moments (everything in memory
 * lost, the store kept: a reload or a crash). All on one FakeClock with seeded
 * randomness: a failing case replays exactly.
 *
 * Property: each side shows every message of the other exactly once, in the order it was
 * written; every outgoing message ends `delivered`; no envelope fails to decrypt.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { IdentityRecord, IncomingCommit, PetrelStore } from '../../src/core/store/index.ts';
import { seededRandom } from '../../src/core/random.ts';
import { befriend, bodies, ClockedWorld, makeIdentity, type ClockedDevice } from './clocked-world.ts';
import { NO_FAULTS, type RelayFaults } from './memory-relay.ts';

let ALICE: IdentityRecord;
let BOB: IdentityRecord;
beforeAll(() => {
  ALICE = makeIdentity('Alice', 11);
  BOB = makeIdentity('Bob', 12);
}, 60_000);

/** The store with `commitIncomingBatch` failing (writing nothing) at `rate`. */
function flaky(rate: number, seed: number): (store: PetrelStore) => PetrelStore {
  const random = seededRandom(seed);
  return (inner) => {
    const store = Object.create(inner) as PetrelStore;
    store.commitIncomingBatch = async (batch: readonly IncomingCommit[]) => {
      if (random.float() < rate) throw new Error('disk went away');
      return inner.commitIncomingBatch(batch);
    };
    return store;
  };
}

const faultsArb: fc.Arbitrary<RelayFaults> = fc.record({
  loseSentAnswer: fc.double({ min: 0, max: 0.3, noNaN: true }),
  dropConnection: fc.double({ min: 0, max: 0.1, noNaN: true }),
  duplicatePush: fc.double({ min: 0, max: 0.4, noNaN: true }),
  maxDelayMs: fc.integer({ min: 1, max: 800 }),
  reconnectMs: fc.integer({ min: 50, max: 3_000 }),
});

async function allDelivered(d: ClockedDevice, contactId: string, count: number): Promise<boolean> {
  const out = (await d.store.pageMessages(contactId, { limit: 200 })).messages.filter((m) => m.direction === 'out');
  return out.length === count && out.every((m) => m.status === 'delivered');
}

function cryptoFailures(d: ClockedDevice): number {
  return Object.entries(d.metrics.snapshot().counters)
    .filter(([k]) => k.startsWith('crypto.failure'))
    .reduce((n, [, v]) => n + v, 0);
}

describe('exactly once, in order, through the outbox worker and the receive pipeline', () => {
  it('holds under lost answers, dropped connections, stale duplicates, delays and failing commits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 4 }),
        faultsArb,
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        async (seed, fromAlice, fromBob, faults, commitFailure, restartRate) => {
          const world = new ClockedWorld(seed);
          const routerConfig = {
            backoff: { baseMs: 200, capMs: 4_000 },
            budget: { maxAttempts: 200, maxAgeMs: 24 * 3_600_000 },
            breaker: { failureThreshold: 5, openCooldownMs: 500, cooldownMultiplier: 2, maxCooldownMs: 4_000 },
          };
          let alice = await world.device(ALICE, { routerConfig, wrapStore: flaky(commitFailure, seed + 1) });
          let bob = await world.device(BOB, { routerConfig, wrapStore: flaky(commitFailure, seed + 2) });
          try {
            const { aSeesB, bSeesA } = await befriend(alice, bob);
            world.relay.faults = faults;
            const gaps = seededRandom(seed + 3);
            const wanted = { a: [] as string[], b: [] as string[] };
            for (let i = 0; i < Math.max(fromAlice, fromBob); i++) {
              if (i < fromAlice) {
                wanted.a.push(`a${i}`);
                await alice.messenger.send(aSeesB, `a${i}`);
              }
              if (i < fromBob) {
                wanted.b.push(`b${i}`);
                await bob.messenger.send(bSeesA, `b${i}`);
              }
              await world.run(Math.floor(gaps.float() * 1_000), 100);
              if (gaps.float() < restartRate) alice = await alice.restart();
              if (gaps.float() < restartRate) bob = await bob.restart();
            }
            await world.until(
              async () =>
                (await bodies(bob, bSeesA)).filter((b) => b.startsWith('in:')).length >= fromAlice &&
                (await bodies(alice, aSeesB)).filter((b) => b.startsWith('in:')).length >= fromBob &&
                (await allDelivered(alice, aSeesB, fromAlice)) &&
                (await allDelivered(bob, bSeesA, fromBob)),
              900_000,
              100,
            );
            // Stragglers (late duplicates, redeliveries) land; nothing may change what is shown.
            world.relay.faults = NO_FAULTS;
            await world.run(30_000, 500);

            const shown = async (d: ClockedDevice, id: string) => (await bodies(d, id)).filter((b) => b.startsWith('in:')).map((b) => b.slice(3));
            expect(await shown(bob, bSeesA), `seed ${seed}`).toEqual(wanted.a);
            expect(await shown(alice, aSeesB), `seed ${seed}`).toEqual(wanted.b);
            expect(bob.state().contacts.map((c) => c.id)).toEqual([bSeesA]);
            expect(alice.state().contacts.map((c) => c.id)).toEqual([aSeesB]);
            expect(cryptoFailures(alice) + cryptoFailures(bob), `seed ${seed}`).toBe(0);
          } finally {
            await alice.messenger.stop();
            await bob.messenger.stop();
          }
        },
      ),
      { numRuns: 15 },
    );
  }, 300_000);
});
