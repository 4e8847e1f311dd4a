/**
 * The running core keeps each contact's last committed session in memory: sends read no
 * session from storage, and a send whose commit failed leaves the next send to read the
 * store again and go through (under a fake clock, real crypto).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { IdentityRecord, OutgoingCommit, PetrelStore } from '../../src/core/store/index.ts';
import { befriend, bodies, ClockedWorld, makeIdentity } from './clocked-world.ts';

let ALICE: IdentityRecord;
let BOB: IdentityRecord;
beforeAll(() => {
  ALICE = makeIdentity('Alice', 71);
  BOB = makeIdentity('Bob', 72);
}, 60_000);

describe("the core's session cache", () => {
  it('sends without reading the session from storage; a failed commit makes the next send read it again', async () => {
    const counts = { reads: 0 };
    const faults = { failNextSend: false };
    const instrumented = (inner: PetrelStore): PetrelStore => {
      const store = Object.create(inner) as PetrelStore;
      store.getSession = (id: string) => {
        counts.reads++;
        return inner.getSession(id);
      };
      store.commitOutgoing = async (c: OutgoingCommit) => {
        if (faults.failNextSend && c.message) {
          faults.failNextSend = false;
          throw new Error('transaction aborted');
        }
        return inner.commitOutgoing(c);
      };
      return store;
    };
    const world = new ClockedWorld(73);
    const alice = await world.device(ALICE, { wrapStore: instrumented });
    const bob = await world.device(BOB);
    const { aSeesB, bSeesA } = await befriend(alice, bob);
    await alice.messenger.send(aSeesB, 'first');
    await bob.messenger.send(bSeesA, 'reply');
    await world.until(async () => (await bodies(alice, aSeesB)).length === 2 && (await alice.store.queueDepth()) === 0);

    counts.reads = 0;
    for (let i = 0; i < 5; i++) await alice.messenger.send(aSeesB, `m${i}`);
    expect(counts.reads).toBe(0);

    faults.failNextSend = true;
    await expect(alice.messenger.send(aSeesB, 'lost')).rejects.toThrow();
    await alice.messenger.send(aSeesB, 'after the failure');
    expect(counts.reads).toBe(1);

    await world.until(async () => (await bodies(bob, bSeesA)).length === 8);
    expect((await bodies(bob, bSeesA)).filter((b) => b.startsWith('in:'))).toEqual(['in:first', 'in:m0', 'in:m1', 'in:m2', 'in:m3', 'in:m4', 'in:after the failure']);
    expect(Object.keys(bob.metrics.snapshot().counters).filter((k) => k.startsWith('crypto.failure'))).toEqual([]);
    await alice.messenger.stop();
    await bob.messenger.stop();
  });
});
