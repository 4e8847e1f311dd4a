/**
 * Linking a device when the two devices reach different relay nodes of a cluster (issue 16,
 * PROTOCOL.md §13.6, SCALING.md): behind a load balancer the existing device's socket and
 * the new device's land on different nodes, and the link must still carry the account.
 * Two real relay nodes on the real PostgreSQL and Redis (tests/relay/helpers/cluster-harness.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../relay/helpers/cluster-harness.ts';
import type { TestRelay } from '../relay/helpers/relay-harness.ts';
import { adaAndBoTalked, device, testWorld, texts, until } from './harness.ts';

const { track } = testWorld();

let cluster: TestCluster;
let a: TestRelay;
let b: TestRelay;
beforeAll(async () => {
  cluster = await startTestCluster(2, { PETREL_LOG_LEVEL: 'silent' });
  [a, b] = cluster.nodes as [TestRelay, TestRelay];
});
afterAll(async () => {
  await cluster.stop();
});

describe('linking a device across cluster nodes', () => {
  it('the new device on another node gets the account, contacts and history, and both are listed', async () => {
    const ada = track(device(a.url));
    const bo = track(device(a.url));
    const { aSeesB } = await adaAndBoTalked(ada, bo);
    const link = await ada.messenger.createDeviceLink();

    const ada2 = track(device(b.url));
    await ada2.messenger.start();
    await until(ada2, (s) => s.phase === 'onboarding');
    await ada2.messenger.linkThisDevice(link);
    const s = await until(ada2, (st) => st.phase === 'ready' && st.contacts.length === 1);
    expect(s.me?.id).toBe(ada.messenger.getState().me?.id);
    expect(s.contacts[0]).toMatchObject({ id: aSeesB, displayName: 'Bo' });
    expect(await texts(ada2, aSeesB)).toEqual(await texts(ada, aSeesB));
    await until(ada, (st) => st.deviceLink?.status === 'done');
    const onFirst = await ada.messenger.listDevices();
    expect(onFirst).toHaveLength(2);
    expect((await ada2.messenger.listDevices()).map((d) => d.id).sort()).toEqual(onFirst.map((d) => d.id).sort());
  });
});
