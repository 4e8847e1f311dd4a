/**
 * First contact under a fake clock: messages to someone whose prekey bundle is not on the
 * relay yet wait as `pending_session` while the session starter retries the fetch with
 * backoff; they go (encrypted, in order) once the bundle appears, or fail with a reason
 * after MAX_BUNDLE_FETCH_FAILURES, and a manual retry then starts the session and sends.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { identityFromSeed } from '../../src/core/crypto/index.ts';
import { MAX_BUNDLE_FETCH_FAILURES } from '../../src/core/messenger/session-starter.ts';
import type { IdentityRecord } from '../../src/core/store/index.ts';
import { backoffWindow, RETRY_BACKOFF } from '../../src/core/transport/index.ts';
import { bodies, ClockedWorld, makeIdentity, type ClockedDevice } from './clocked-world.ts';

let ALICE: IdentityRecord;
let BOB: IdentityRecord;
beforeAll(() => {
  ALICE = makeIdentity('Alice', 21);
  BOB = makeIdentity('Bob', 22);
}, 60_000);

/** Alice adds Bob from his invite while Bob has never been online (no bundle on the relay). */
async function aliceWaitsForBob(world: ClockedWorld): Promise<{ alice: ClockedDevice; aSeesB: string; fetches: number[] }> {
  const alice = await world.device(ALICE);
  const fetches: number[] = [];
  const fetch = world.relay.fetch.bind(world.relay);
  world.relay.fetch = (ik) => {
    fetches.push(world.clock.now());
    return fetch(ik);
  };
  const bobKey = identityFromSeed(BOB.seed).publicKey;
  const aSeesB = await alice.messenger.addContact({ identityKey: bobKey, displayName: 'Bob', relay: 'ws://relay.test/ws' });
  return { alice, aSeesB, fetches };
}

async function statuses(d: ClockedDevice, contactId: string): Promise<string[]> {
  return (await d.store.pageMessages(contactId, { limit: 50 })).messages.map((m) => m.status);
}

describe('SessionStarter under a fake clock', () => {
  it('retries the bundle fetch with backoff and sends the waiting messages in order once the bundle is there', async () => {
    const world = new ClockedWorld(5);
    const { alice, aSeesB, fetches } = await aliceWaitsForBob(world);
    await alice.messenger.send(aSeesB, 'one');
    await alice.messenger.send(aSeesB, 'two');
    await world.until(() => fetches.length >= 4, 60_000, 100);
    for (let k = 1; k < fetches.length; k++) expect(fetches[k]! - fetches[k - 1]!).toBeLessThanOrEqual(backoffWindow(k - 1, RETRY_BACKOFF) + 100);
    expect(await statuses(alice, aSeesB)).toEqual(['queued', 'queued']);
    expect((await alice.store.pendingJobs(aSeesB)).length).toBe(2);

    const bob = await world.device(BOB); // publishes his bundle on connect
    await world.until(async () => (await statuses(alice, aSeesB)).every((s) => s === 'delivered'), 120_000, 100);
    const bSeesA = bob.state().contacts[0]!.id;
    expect(await bodies(bob, bSeesA)).toEqual(['in:one', 'in:two']);
    expect(bob.state().contacts[0]!.displayName).toBe('Alice');
    await alice.messenger.stop();
    await bob.messenger.stop();
  });

  it('after MAX_BUNDLE_FETCH_FAILURES the messages fail with a reason; a manual retry then starts the session and sends', async () => {
    const world = new ClockedWorld(6);
    const { alice, aSeesB, fetches } = await aliceWaitsForBob(world);
    await alice.messenger.send(aSeesB, 'hello?');
    await world.until(async () => (await statuses(alice, aSeesB))[0] === 'failed', 900_000, 500);
    expect(fetches).toHaveLength(MAX_BUNDLE_FETCH_FAILURES + 1);
    const [m] = (await alice.store.pageMessages(aSeesB, { limit: 1 })).messages;
    expect(m).toMatchObject({ status: 'failed', failure: 'This contact has not published keys to the relay yet' });
    expect(await alice.store.queueDepth()).toBe(0);

    // Nothing more on its own.
    await world.run(600_000, 10_000);
    expect(fetches).toHaveLength(MAX_BUNDLE_FETCH_FAILURES + 1);

    const bob = await world.device(BOB);
    await alice.messenger.retry(m!.id);
    await world.until(async () => (await statuses(alice, aSeesB))[0] === 'delivered', 60_000, 100);
    expect(await bodies(bob, bob.state().contacts[0]!.id)).toEqual(['in:hello?']);
    await alice.messenger.stop();
    await bob.messenger.stop();
  });
});
