/**
 * The direct path per device (issue 16): Bo writes to Ada, who has two linked devices.
 * Bo opens one channel to each of Ada's devices (signaling with that device's session, to
 * its mailbox); each device's copy goes over its own channel, and when one device's
 * channel closes only that device's copies fail over to the relay while the other stays
 * direct — each device gets every message exactly once, in order. Two complete cores per
 * account on the real relay, WebRTC over the in-memory double.
 */
import { describe, expect, it } from 'vitest';
import type { DirectPeer } from '../../src/core/messenger/direct-path.ts';
import type { WebRtcDirectPath } from '../../src/platform/webrtc/webrtc-direct-path.ts';
import { toHex } from '../../src/core/bytes.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { fakeDirectPath } from './fake-direct-path.ts';
import { expectEventually, testWorld, type Device } from './harness.ts';

const world = testWorld();

async function withDirectPaths() {
  const paths = new Map<string, WebRtcDirectPath>();
  const setup = await adaOnTwoDevices(world, undefined, (who) => ({
    routerConfig: { backoff: { baseMs: 20, capMs: 300 } },
    createDirect: fakeDirectPath((d) => paths.set(who, d)),
  }));
  return { ...setup, direct: (who: 'ada1' | 'ada2' | 'bo') => paths.get(who)! };
}

/** What `d` received from `contactId`, as text and path, in order. */
async function received(d: Device, contactId: string): Promise<{ body: string; via: string | undefined }[]> {
  const page = await d.store.pageMessages(contactId, { limit: 200 });
  return page.messages.filter((m) => m.direction === 'in').map((m) => ({ body: m.body, via: m.via }));
}

const devicesOf = (open: readonly DirectPeer[]) => open.map((p) => p.device).sort();

describe('direct path per device', () => {
  it('opens a channel to each device of a contact; each copy goes over its device channel, one channel failing over leaves the other direct, nothing lost or doubled', async () => {
    const { ada1, ada2, bo, aSeesB, bSeesA, one, two, direct } = await withDirectPaths();
    const [d1, d2] = [toHex(one.id), toHex(two.id)].sort();

    // The first message starts Bo's sessions with both of Ada's devices (through the relay);
    // then Bo's direct path asks each device for a channel, with that device's session.
    await bo.messenger.send(bSeesA, 'first');
    await expectEventually(async () => devicesOf(direct('bo').openChannels()).join() === [d1, d2].join());
    expect(direct('bo').openChannels().every((p) => p.contactId === bSeesA)).toBe(true);
    // One contact: the status line counts contacts, not their devices.
    expect(bo.messenger.getState().connection).toEqual({ kind: 'online', direct: 1 });
    expect(bo.messenger.getState().contacts.find((c) => c.id === bSeesA)?.direct).toBe(true);
    for (const ada of ['ada1', 'ada2'] as const) {
      expect(direct(ada).openChannels()).toEqual([{ contactId: aSeesB }]);
    }
    const diagnostics = bo.messenger.diagnostics().direct ?? [];
    expect(diagnostics.map((c) => [c.device, c.state]).sort()).toEqual([
      [d1, 'open'],
      [d2, 'open'],
    ]);

    // Each device's copy over its own channel.
    const direct1 = ['d0', 'd1', 'd2'];
    for (const t of direct1) await bo.messenger.send(bSeesA, t);
    for (const ada of [ada1, ada2]) {
      await expectEventually(async () => (await received(ada, aSeesB)).length === 4);
      const got = await received(ada, aSeesB);
      expect(got.map((m) => m.body)).toEqual(['first', ...direct1]);
      expect(got.slice(1).every((m) => m.via === 'direct')).toBe(true);
    }

    // Ada's second device loses its channel (and takes no new one): only its copies go
    // through the relay; the first device stays direct.
    direct('ada2').pause();
    await expectEventually(async () => devicesOf(direct('bo').openChannels()).join() === toHex(one.id));
    expect(bo.messenger.getState().connection).toEqual({ kind: 'online', direct: 1 });
    expect(bo.messenger.diagnostics().direct?.find((c) => c.device === toHex(two.id))?.state).not.toBe('open');
    const split = ['s0', 's1', 's2', 's3'];
    for (const t of split) await bo.messenger.send(bSeesA, t);
    await expectEventually(async () => (await received(ada1, aSeesB)).length === 8 && (await received(ada2, aSeesB)).length === 8);
    const on1 = await received(ada1, aSeesB);
    const on2 = await received(ada2, aSeesB);
    expect(on1.map((m) => m.body)).toEqual(['first', ...direct1, ...split]);
    expect(on2.map((m) => m.body)).toEqual(['first', ...direct1, ...split]);
    expect(on1.slice(-4).every((m) => m.via === 'direct')).toBe(true);
    expect(on2.slice(-4).every((m) => m.via === 'relay')).toBe(true);
    // Every copy confirmed; nothing shown twice on Bo's side either.
    const sent = async () => (await bo.store.pageMessages(bSeesA, { limit: 50 })).messages.filter((m) => m.direction === 'out');
    await expectEventually(async () => (await sent()).every((m) => m.status === 'delivered' || m.status === 'read'));
    expect((await sent()).map((m) => m.body)).toEqual(['first', ...direct1, ...split]);
    for (const d of [ada1, ada2, bo]) expect(d.metrics.counter('crypto.failure')).toBe(0);
  }, 60_000);
});
