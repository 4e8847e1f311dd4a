/**
 * Signed prekey rotation in a running messenger, under a fake clock: due after
 * SIGNED_PREKEY_ROTATION_INTERVAL_MS, committed with its time in one step, the signed
 * keys alone uploaded to the relay (no one-time key handed out twice), an initial message
 * built from the bundle fetched before the rotation still opens, a second rotation
 * retires that bundle, and an upload that could not happen is made on reconnect.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { deserializePreKeyPool, identityFromSeed, limits } from '../../src/core/crypto/index.ts';
import { SPK_ROTATION_CHECK_INTERVAL_MS } from '../../src/core/messenger/prekey-rotation.ts';
import type { IdentityRecord } from '../../src/core/store/index.ts';
import { mailboxAddress } from '../../src/core/wire/index.ts';
import { bodies, ClockedWorld, makeIdentity, WORLD_START, type ClockedDevice } from './clocked-world.ts';

const INTERVAL = limits.SIGNED_PREKEY_ROTATION_INTERVAL_MS;

let ALICE: IdentityRecord;
let BOB: IdentityRecord;
beforeAll(() => {
  // Full pools: no background top-up of one-time keys, so every upload after the first is a rotation's.
  ALICE = makeIdentity('Alice', 61, limits.ONE_TIME_PREKEY_TARGET);
  BOB = makeIdentity('Bob', 62, limits.ONE_TIME_PREKEY_TARGET);
}, 60_000);

const bobKey = () => identityFromSeed(BOB.seed).publicKey;

async function storedPool(d: ClockedDevice) {
  const identity = (await d.store.loadIdentity())!;
  return { pool: deserializePreKeyPool(identity.preKeyPool!).data, rotatedAt: identity.signedPreKeysRotatedAt };
}

function bobPublishes(world: ClockedWorld) {
  return world.relay.publishes.filter((p) => p.ik === toHex(bobKey()));
}

function cryptoFailures(d: ClockedDevice): Record<string, number> {
  return Object.fromEntries(Object.entries(d.metrics.snapshot().counters).filter(([k]) => k.startsWith('crypto.failure')));
}

describe('signed prekey rotation', () => {
  it('rotates once the keys are 7 days old, commits the pool with its time, uploads the signed keys alone', async () => {
    const world = new ClockedWorld(63);
    const bob = await world.device(BOB);
    const first = await storedPool(bob);
    expect(bobPublishes(world).map((p) => p.spkId)).toEqual([first.pool.signedPreKey.id]);
    const opksOnRelay = world.relay.bundles.get(toHex(bobKey()))!.opks.length;

    await world.run(INTERVAL - 2 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS);
    expect(bobPublishes(world)).toHaveLength(1);
    expect((await storedPool(bob)).pool.signedPreKey.id).toBe(first.pool.signedPreKey.id);

    await world.run(3 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS / 4);
    const after = await storedPool(bob);
    expect(after.pool.signedPreKey.id).not.toBe(first.pool.signedPreKey.id);
    expect(after.pool.previousSignedPreKey?.id).toBe(first.pool.signedPreKey.id);
    expect(after.pool.previousLastResortPqPreKey?.id).toBe(first.pool.lastResortPqPreKey.id);
    expect(after.rotatedAt! - WORLD_START).toBeGreaterThanOrEqual(INTERVAL);
    expect(after.rotatedAt! - WORLD_START).toBeLessThanOrEqual(INTERVAL + SPK_ROTATION_CHECK_INTERVAL_MS);
    expect(bobPublishes(world).map((p) => p.spkId)).toEqual([first.pool.signedPreKey.id, after.pool.signedPreKey.id]);
    // The upload carried no one-time keys: the relay's pool is as it was.
    expect(world.relay.bundles.get(toHex(bobKey()))!.opks.length).toBe(opksOnRelay);
    expect(bob.metrics.counter('prekeys.rotated')).toBe(1);

    // Not again before another interval.
    await world.run(INTERVAL - 2 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS);
    expect(bob.metrics.counter('prekeys.rotated')).toBe(1);
    await bob.messenger.stop();
  });

  it('a first message built from the bundle fetched before a rotation still opens after it', async () => {
    const world = new ClockedWorld(64);
    const bob = await world.device(BOB);
    const alice = await world.device(ALICE);
    const bobMailbox = mailboxAddress(bobKey());
    world.relay.holdPushes.add(toHex(bobMailbox));
    const aSeesB = await alice.messenger.addContact({ identityKey: bobKey(), displayName: 'Bob', relay: 'ws://relay.test/ws' });
    await alice.messenger.send(aSeesB, 'built on the old signed prekey');
    await world.until(() => world.relay.queued(bobMailbox) > 0);

    await world.run(INTERVAL + 2 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS);
    expect(bob.metrics.counter('prekeys.rotated')).toBe(1);
    world.relay.releasePushes(bobMailbox);
    await world.until(() => bob.state().contacts.length === 1);
    expect(await bodies(bob, bob.state().contacts[0]!.id)).toEqual(['in:built on the old signed prekey']);
    expect(cryptoFailures(bob)).toEqual({});
    await alice.messenger.stop();
    await bob.messenger.stop();
  });

  it('an initial message older than two rotations is refused (its signed prekey is gone)', async () => {
    const world = new ClockedWorld(65);
    const bob = await world.device(BOB);
    const alice = await world.device(ALICE);
    const bobMailbox = mailboxAddress(bobKey());
    world.relay.holdPushes.add(toHex(bobMailbox));
    // Alice's one-time keys run out on the relay first, so her message uses only the signed keys.
    world.relay.bundles.get(toHex(bobKey()))!.opks.length = 0;
    world.relay.bundles.get(toHex(bobKey()))!.pqopks.length = 0;
    const aSeesB = await alice.messenger.addContact({ identityKey: bobKey(), displayName: 'Bob', relay: 'ws://relay.test/ws' });
    await alice.messenger.send(aSeesB, 'too late');
    await world.until(async () => (await alice.store.queueDepth()) === 0); // the message and our profile, both initial messages
    expect(world.relay.queued(bobMailbox)).toBe(2);
    await alice.messenger.stop();

    await world.run(2 * INTERVAL + 2 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS);
    expect(bob.metrics.counter('prekeys.rotated')).toBe(2);
    world.relay.releasePushes(bobMailbox);
    await world.until(() => world.relay.queued(bobMailbox) === 0);
    expect(bob.state().contacts).toEqual([]);
    expect(cryptoFailures(bob)).toEqual({ 'crypto.failure{reason="unknown_prekey"}': 2 });
    await bob.messenger.stop();
  });

  it('rotated while offline: the new signed keys are uploaded on reconnect', async () => {
    const world = new ClockedWorld(66);
    const bob = await world.device(BOB);
    const first = (await storedPool(bob)).pool.signedPreKey.id;
    await world.run(INTERVAL - 2 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS);
    world.relay.faults = { ...world.relay.faults, reconnectMs: 6 * SPK_ROTATION_CHECK_INTERVAL_MS };
    world.relay.clientOf(mailboxAddress(bobKey()))!.drop();

    await world.run(4 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS / 4);
    const rotated = (await storedPool(bob)).pool.signedPreKey.id;
    expect(rotated).not.toBe(first);
    expect(bobPublishes(world).map((p) => p.spkId)).toEqual([first]);

    await world.run(3 * SPK_ROTATION_CHECK_INTERVAL_MS, SPK_ROTATION_CHECK_INTERVAL_MS / 4);
    expect(bob.state().connection.kind).toBe('online');
    expect(bobPublishes(world).map((p) => p.spkId)).toEqual([first, rotated]);
    expect(bob.metrics.counter('prekeys.rotated')).toBe(1);
    await bob.messenger.stop();
  });
});
