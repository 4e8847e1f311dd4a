/**
 * The relay transport as one device of a multi-device account, against the REAL relay on
 * loopback: the account publishes its signed list, each device authenticates with its own
 * key and gets its own mailbox, a contact fetches and judges the list and hears when it
 * changes, a device the list no longer names is refused, and a send to its closed mailbox
 * is refused for good (not retried).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { systemClock } from '../../src/core/clock.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { silentLogger } from '../../src/core/log.ts';
import { secureRandom } from '../../src/core/random.ts';
import { generateIdentity, type Identity } from '../../src/core/crypto/identity.ts';
import { signDeviceList, withDeviceRemoved } from '../../src/core/devices/device-list.ts';
import { createOwnDevice, ownDeviceEntry, type OwnDevice } from '../../src/core/devices/own-device.ts';
import { DeviceListBook } from '../../src/core/messenger/device-list-book.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { TransportSendError, type IncomingEnvelope } from '../../src/core/transport/transport.ts';
import { WsRelayTransport, type RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { startTestRelay, type TestRelay } from '../relay/helpers/relay-harness.ts';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function transport(url: string, account: Identity, device?: OwnDevice) {
  const t = new WsRelayTransport({
    url,
    WebSocket: NodeWebSocket as RelaySocketConstructor,
    identityKey: account.publicKey,
    sign: async (p) => account.sign(p),
    ...(device ? { device: { cert: device.cert, sign: async (p: Uint8Array) => device.key.sign(p) } } : {}),
    clock: systemClock,
    random: secureRandom,
    metrics: new InMemoryMetrics(),
    logger: silentLogger,
    config: { reconnect: { baseMs: 20, capMs: 250 }, sendTimeoutMs: 3_000 },
  });
  const incoming: IncomingEnvelope[] = [];
  t.onEnvelope((i) => {
    incoming.push(i);
    i.ack();
  });
  t.start();
  cleanups.push(() => t.stop());
  return { t, incoming };
}

const online = (t: WsRelayTransport) => vi.waitFor(() => expect(t.state.kind).toBe('online'), { timeout: 5_000, interval: 5 });
let n = 0;
const env = (to: Uint8Array) => ({ to, id: Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? ++n : 0x33)), body: new TextEncoder().encode(`m${n}`) });

describe('a device of a multi-device account on the real relay', () => {
  it('authenticates per device, gets its own mailbox, and is refused once unlinked; a contact follows the list', async () => {
    const relay: TestRelay = await startTestRelay({ PETREL_LOG_LEVEL: 'silent' });
    cleanups.push(() => relay.stop());
    const ada = generateIdentity(secureRandom);
    const bo = generateIdentity(secureRandom);
    const [d1, d2] = [createOwnDevice(ada, secureRandom), createOwnDevice(ada, secureRandom)] as const;

    // Before any list, a device is not listed: refused.
    const early = transport(relay.url, ada, d1);
    await vi.waitFor(() => expect(early.t.state.kind).not.toMatch(/^(connecting|authenticating|online)$/u), { timeout: 5_000, interval: 5 });
    early.t.stop();

    // The account (by IK) publishes [d1, d2].
    const account = transport(relay.url, ada);
    await online(account.t);
    const v1 = signDeviceList(ada, { version: 1, issuedAt: Date.now(), devices: [ownDeviceEntry(d1), ownDeviceEntry(d2)] });
    expect(await account.t.publishDeviceList(v1)).toBe(1);

    const one = transport(relay.url, ada, d1);
    const two = transport(relay.url, ada, d2);
    const boT = transport(relay.url, bo);
    await Promise.all([online(one.t), online(two.t), online(boT.t)]);

    // Bo: Ada's list judged and held; his own account has none.
    const book = new DeviceListBook(createMemoryStore({ now: () => 0 }), new InMemoryMetrics(), silentLogger);
    const fetched = await boT.t.fetchDeviceList(ada.publicKey);
    expect(await book.accept(ada.publicKey, fetched!)).toMatchObject({ kind: 'changed', first: true });
    expect(await boT.t.fetchDeviceList(bo.publicKey)).toBeUndefined();
    const changes: number[] = [];
    boT.t.onDevicesChanged((c) => changes.push(c.version));
    // Every connection already watches its own account: Ada's is the second.
    expect(await boT.t.watchDevices([ada.publicKey])).toBe(2);

    // One envelope per device mailbox: each device gets exactly its own.
    const [toOne, toTwo] = (await book.targets({ account: bo.publicKey }, ada.publicKey)).map((t) => t.mailbox);
    expect(toOne).toEqual(d1.mailbox);
    await boT.t.send(env(toOne!));
    await boT.t.send(env(toTwo!));
    await vi.waitFor(() => expect([one.incoming.length, two.incoming.length]).toEqual([1, 1]), { timeout: 5_000, interval: 5 });
    expect(one.incoming[0]!.envelope.to).toEqual(d1.mailbox);
    expect(two.incoming[0]!.envelope.to).toEqual(d2.mailbox);

    // Ada unlinks d2 from d1; Bo hears of it, refetches, and d2's mailbox is closed for good.
    const v2 = signDeviceList(ada, withDeviceRemoved((await book.get(ada.publicKey))!, d2.id, Date.now()));
    expect(await one.t.publishDeviceList(v2)).toBe(2);
    await vi.waitFor(() => expect(changes).toEqual([2]), { timeout: 5_000, interval: 5 });
    const change = await book.accept(ada.publicKey, (await boT.t.fetchDeviceList(ada.publicKey))!);
    expect(change).toMatchObject({ kind: 'changed', removed: [ownDeviceEntry(d2)], added: [] });
    const refusal = await boT.t.send(env(d2.mailbox)).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(TransportSendError);
    expect(refusal).toMatchObject({ kind: 'rejected', code: 'device_unlinked' });
    await vi.waitFor(() => expect(two.t.state.kind).not.toBe('online'), { timeout: 5_000, interval: 5 });
    // The old list, replayed by a relay that would roll Bo back, is refused.
    await expect(book.accept(ada.publicKey, v1)).rejects.toMatchObject({ kind: 'stale' });
  });
});
