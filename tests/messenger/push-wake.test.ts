import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_PAYLOAD } from '../../src/relay/push/push-notifier.ts';
import { startLoopbackPushService, type LoopbackPushService } from '../relay/helpers/push-service.ts';
import { startTestRelay } from '../relay/helpers/relay-harness.ts';
import { device, introduce, onboard, testWorld } from './harness.ts';

// Two real cores on a real relay: the device's core registers its push subscription
// through the messenger, and a message sent while it is closed wakes it through a push
// service on loopback (which checks VAPID and decrypts the payload itself).

const world = testWorld();
let service: LoopbackPushService;
beforeAll(async () => {
  service = await startLoopbackPushService();
});
afterAll(async () => {
  await service.close();
});

describe('Web Push through the messenger', () => {
  it('a closed device is woken by a content-free push when a message arrives for it', async () => {
    const relay = await startTestRelay({ PETREL_LOG_LEVEL: 'silent', PETREL_PUSH_ALLOW_LOOPBACK: 'true' });
    world.defer(() => relay.stop());
    const alice = world.track(device(relay.url));
    const bob = world.track(device(relay.url));
    await onboard(alice, 'Alice');
    await onboard(bob, 'Bob');
    const { bSeesA } = await introduce(alice, bob);

    const sub = service.subscribe();
    expect(await alice.messenger.setPushSubscription(sub)).toBe('registered');
    // A subscription the relay will not use is refused with its typed reason.
    await expect(alice.messenger.setPushSubscription({ ...sub, endpoint: 'http://push.example.org/x' })).rejects.toMatchObject({ kind: 'push_refused', reason: 'bad_push_subscription' });
    expect(await alice.messenger.setPushSubscription(sub)).toBe('registered');

    await alice.stop();
    const before = service.received.length;
    await bob.messenger.send(bSeesA, 'are you there?');
    await service.waitFor(before + 1, 10_000);
    const push = service.received[before]!;
    expect(sub.endpoint.endsWith(push.path)).toBe(true);
    expect(push.payload.toString()).toBe(PUSH_PAYLOAD);
    expect(push.payload.toString()).not.toContain('are you there');
  });
});
