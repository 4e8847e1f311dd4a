/**
 * An envelope from a device its sender's verified list does not name (issue 16, chaos
 * scenario 11, docs/PROTOCOL.md §13.5): held unacknowledged while Bo fetches Ada's list
 * again, then opened once, or — only when a list fetched after it arrived still does not
 * name the device — recorded and dropped (counted: `crypto.failure{unknown_device}`, or
 * `devices.unlinked_sender_dropped` for a device her list once named). Bo's list fetches
 * pass through a gate the test opens, so "the envelope came before the list" is not left
 * to timing. On the real relay.
 */
import { describe, expect, it, vi } from 'vitest';
import { WebSocket as NodeWebSocket } from 'ws';
import { concatBytes, toHex } from '../../src/core/bytes.ts';
import { CryptoRuntime, encrypt, initiateSession, seal, verifyFetchedBundle, type SessionState } from '../../src/core/crypto/index.ts';
import { createPreKeyPool, serializePreKeyPool } from '../../src/core/crypto/index.ts';
import type { Identity } from '../../src/core/crypto/identity.ts';
import { encodeOwnDevice, ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { META_DEVICE_LIST_PREFIX } from '../../src/core/messenger/device-list-book.ts';
import { META_OWN_DEVICE } from '../../src/core/messenger/own-device-store.ts';
import { DEVICE_HOLD_MAX_ENVELOPES } from '../../src/core/messenger/unlisted-device-hold.ts';
import { secureRandom } from '../../src/core/random.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import { decodeFrame, encodeContent, mailboxAddress } from '../../src/core/wire/index.ts';
import type { RelaySocketConstructor } from '../../src/platform/ws-relay-transport.ts';
import { startTestRelay } from '../relay/helpers/relay-harness.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device, type DeviceOptions } from './harness.ts';
import { connectAs, extraDevice, publishDeviceList, storedAccount } from './linked-device.ts';

const world = testWorld();
const { track } = world;

const counter = (d: Device, name: string) => d.metrics.counter(name);
/** Every `crypto.failure{…}` counter this device has (none: `{}`). */
function cryptoFailures(d: Device): Record<string, number> {
  return Object.fromEntries(Object.entries(d.metrics.snapshot().counters).filter(([k, v]) => k.startsWith('crypto.failure') && v > 0));
}

/** Every message body of a conversation, page by page. */
async function allBodies(d: Device, contactId: string): Promise<string[]> {
  const out: string[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await d.store.pageMessages(contactId, { limit: 200, ...(before !== undefined ? { before } : {}) });
    out.unshift(...page.messages.map((m) => m.body));
    if (page.olderCursor === undefined) return out;
    before = page.olderCursor;
  }
}

/** Holds Bo's `devices.fetch` requests while closed; sends them when opened. */
class FetchGate {
  closed = false;
  /** `devices.fetch` requests held so far. */
  held = 0;
  private readonly waiting: Array<() => void> = [];

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
    for (const send of this.waiting.splice(0)) send();
  }

  socket(): RelaySocketConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the socket class reads the gate it was made by
    const gate = this;
    class Gated extends NodeWebSocket {
      override send(data: unknown, ...rest: unknown[]): void {
        const go = () => {
          if (this.readyState === NodeWebSocket.OPEN) (super.send as (...a: unknown[]) => void).call(this, data, ...rest);
        };
        let fetch = false;
        try {
          fetch = decodeFrame(new Uint8Array(data as ArrayBuffer)).t === 'devices.fetch';
        } catch {
          // not a frame we read: let it through
        }
        if (fetch && gate.closed) {
          gate.held++;
          gate.waiting.push(go);
        }
        else go();
      }
    }
    return Gated as unknown as RelaySocketConstructor;
  }
}

/** Ada (one listed device, list version 1) and Bo, contacts; Bo's list fetches go through `gate`. */
async function adaListedAndBo(bo: Partial<DeviceOptions> = {}, env: Record<string, string> = {}) {
  const r = await startTestRelay({ PETREL_LOG_LEVEL: 'silent', ...env });
  world.defer(() => r.stop());
  const gate = new FetchGate();
  const boOptions: DeviceOptions = { ...bo, WebSocket: gate.socket() };
  const ada1 = track(device(r.url));
  const b = track(device(r.url, undefined, boOptions));
  await onboard(ada1, 'Ada');
  await onboard(b, 'Bo');
  const { aSeesB, bSeesA } = await introduce(ada1, b);
  const { identity, device: one } = await storedAccount(ada1.store);
  await publishDeviceList(r.url, identity, 1, [ownDeviceEntry(one)]);
  await until(b, () => counter(b, 'devices.list_accepted') >= 1);
  await until(ada1, () => ada1.logs.recent().some((l) => l.msg === 'this device is listed: authenticating as the device'));
  await until(ada1, (s) => s.connection.kind === 'online');
  return { r, gate, ada1, bo: b, boOptions, aSeesB, bSeesA, identity, one };
}

/** Someone holding Ada's identity writes to Bo as her device `deviceId` (what a stolen or late device could send). */
class SealedWriter {
  private state: SessionState | undefined;
  private readonly rt = new CryptoRuntime(secureRandom);

  constructor(
    private readonly relayUrl: string,
    private readonly identity: Identity,
    private readonly boKey: Uint8Array,
    private readonly deviceId: Uint8Array,
  ) {}

  async write(textsToSend: readonly string[]): Promise<void> {
    const t = await connectAs(this.relayUrl, this.identity);
    try {
      if (!this.state) this.state = (await initiateSession(this.identity, await verifyFetchedBundle(await t.fetchPrekeys(this.boKey), this.boKey), this.rt)).state;
      for (const text of textsToSend) {
        const out = await encrypt(this.state, encodeContent({ t: 'msg', id: secureRandom.bytes(16), ts: Date.now(), text }), this.rt);
        this.state = out.state;
        const body = await seal(this.identity, this.boKey, out.message, this.rt, this.deviceId);
        await t.send({ to: mailboxAddress(this.boKey), id: secureRandom.bytes(16), body });
      }
    } finally {
      t.stop();
    }
  }
}

describe('an envelope from a device the list does not name yet', () => {
  it("arrives before Bo learns of Ada's new device: held unacknowledged, then opened once when the fetched list names it, with no crypto failure", async () => {
    const { r, gate, ada1, bo, aSeesB, bSeesA, identity, one } = await adaListedAndBo();
    // Bo will not hear of her list for now; Ada links a second device (list version 2), which writes at once.
    gate.close();
    const two = extraDevice(identity);
    const store2 = createMemoryStore({ now: () => Date.now() });
    const pool = createPreKeyPool(identity, secureRandom, 4);
    await store2.saveIdentity({ id: 'self', seed: identity.exportSeed(), displayName: 'Ada', createdAt: Date.now(), preKeyPool: serializePreKeyPool(pool), nextPreKeyId: pool.data.nextId });
    await store2.setMeta(META_OWN_DEVICE, encodeOwnDevice(two));
    await store2.putContact((await ada1.store.getContact(aSeesB))!);
    const signed = await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two)]);
    await store2.setMeta(META_DEVICE_LIST_PREFIX + toHex(identity.publicKey), concatBytes(signed.body, signed.sig));
    const ada2 = track(device(r.url, store2));
    await ada2.messenger.start();
    await until(ada2, (s) => s.connection.kind === 'online');
    await ada2.messenger.send(aSeesB, 'from my new laptop');

    await until(bo, () => counter(bo, 'devices.held') >= 1);
    expect(await texts(bo, bSeesA)).not.toContain('in:from my new laptop');
    expect(cryptoFailures(bo)).toEqual({});

    gate.open();
    await until(bo, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    expect((await texts(bo, bSeesA)).filter((t) => t === 'in:from my new laptop')).toHaveLength(1);
    expect(counter(bo, 'devices.hold_opened')).toBeGreaterThanOrEqual(1);
    expect(counter(bo, 'devices.hold_refused')).toBe(0);
    expect(cryptoFailures(bo)).toEqual({});
    expect(bo.messenger.getState().contacts.find((c) => c.id === bSeesA)).toMatchObject({ keyChanged: false });
    // Opened means committed and acknowledged: a reload does not get it again.
    const next = track(await bo.reload());
    await ada1.messenger.send(aSeesB, 'and from my first');
    await until(next, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 2);
    expect((await texts(next, bSeesA)).filter((t) => t === 'in:from my new laptop')).toHaveLength(1);
    expect(counter(next, 'devices.held')).toBe(0);
  });

  it('from a device her list never named: held until a list fetched after it arrived, then dropped, counted unknown_device and acknowledged', async () => {
    const { r, gate, ada1, bo, aSeesB, bSeesA, identity } = await adaListedAndBo();
    const boKey = (await storedAccount(bo.store)).identity.publicKey;
    gate.close();
    await new SealedWriter(r.url, identity, boKey, extraDevice(identity).id).write(['from nowhere']);
    await until(bo, () => counter(bo, 'devices.held') === 1);
    // Not judged while no list came after it.
    expect(cryptoFailures(bo)).toEqual({});

    gate.open();
    await until(bo, () => counter(bo, 'devices.hold_refused') === 1);
    await until(bo, () => counter(bo, 'crypto.failure{reason="unknown_device"}') === 1);
    expect(cryptoFailures(bo)).toEqual({ 'crypto.failure{reason="unknown_device"}': 1 });
    expect(await texts(bo, bSeesA)).not.toContain('in:from nowhere');
    // Recorded and acknowledged: after a reload the mailbox (first in, first out) brings Ada's next message and not it.
    const next = track(await bo.reload());
    await ada1.messenger.send(aSeesB, 'hello');
    await until(next, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    expect(counter(next, 'devices.held')).toBe(0);
    expect(cryptoFailures(next)).toEqual({});
  });

  it('from many made-up devices of one contact (the box does not authenticate its sender): one list fetch for them all, each refused', async () => {
    const { r, gate, bo, bSeesA, identity } = await adaListedAndBo();
    const boKey = (await storedAccount(bo.store)).identity.publicKey;
    gate.close();
    for (let i = 0; i < 5; i++) await new SealedWriter(r.url, identity, boKey, extraDevice(identity).id).write([`forged ${i}`]);
    await until(bo, () => counter(bo, 'devices.held') === 5);
    // One fetch for the account, not one per device (a second only if the first timed out meanwhile, 10 s).
    expect(gate.held).toBeLessThanOrEqual(2);
    gate.open();
    await until(bo, () => counter(bo, 'crypto.failure{reason="unknown_device"}') === 5);
    expect(counter(bo, 'devices.hold_refused')).toBe(5);
    expect((await texts(bo, bSeesA)).filter((t) => t.startsWith('in:forged'))).toEqual([]);
  });

  it('from a device Ada unlinked, delivered late (a relay that held it, or the unlinked device itself): dropped and counted as from an unlinked device, never opened', async () => {
    const { r, bo, bSeesA, identity, one } = await adaListedAndBo();
    const boKey = (await storedAccount(bo.store)).identity.publicKey;
    const two = extraDevice(identity);
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two)]);
    await until(bo, () => counter(bo, 'devices.contact_device_added') >= 1);
    await publishDeviceList(r.url, identity, 3, [ownDeviceEntry(one)]);
    await until(bo, () => counter(bo, 'devices.contact_device_removed') >= 1);

    await new SealedWriter(r.url, identity, boKey, two.id).write(['written on the unlinked device']);
    await until(bo, () => counter(bo, 'devices.unlinked_sender_dropped') === 1);
    expect(counter(bo, 'devices.held')).toBe(1);
    expect(counter(bo, 'devices.hold_refused')).toBe(1);
    expect(cryptoFailures(bo)).toEqual({});
    expect(await texts(bo, bSeesA)).not.toContain('in:written on the unlinked device');
    // Remembered across a reload (a stored row): still refused as unlinked, not as unknown.
    const next = track(await bo.reload());
    await until(next, (s) => s.connection.kind === 'online');
    await new SealedWriter(r.url, identity, boKey, two.id).write(['and again']);
    await until(next, () => counter(next, 'devices.unlinked_sender_dropped') === 1);
    expect(cryptoFailures(next)).toEqual({});
  });
});

describe('the hold is bounded', () => {
  it('in time: with no list fetched in time the envelope is left unacknowledged, nothing committed; the next connection opens it', async () => {
    const { r, gate, bo, bSeesA, identity, one } = await adaListedAndBo({ deviceHoldMaxMs: 400, requestTimeoutMs: 300 });
    const boKey = (await storedAccount(bo.store)).identity.publicKey;
    gate.close();
    const two = extraDevice(identity);
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two)]);
    await new SealedWriter(r.url, identity, boKey, two.id).write(['late but whole']);
    await until(bo, () => counter(bo, 'devices.hold_expired') === 1);
    expect(cryptoFailures(bo)).toEqual({});
    expect(await texts(bo, bSeesA)).not.toContain('in:late but whole');

    gate.open();
    const next = track(await bo.reload());
    await until(next, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    expect((await texts(next, bSeesA)).filter((t) => t === 'in:late but whole')).toHaveLength(1);
    expect(cryptoFailures(next)).toEqual({});
  });

  it(`in count: past ${DEVICE_HOLD_MAX_ENVELOPES} held envelopes one more is left unacknowledged; each opens once in the end`, async () => {
    const { r, gate, bo, bSeesA, identity, one } = await adaListedAndBo({}, { PETREL_CONN_DEPOSIT_BURST: '1000', PETREL_IP_DEPOSIT_BURST: '2000' });
    const boKey = (await storedAccount(bo.store)).identity.publicKey;
    gate.close();
    const two = extraDevice(identity);
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one), ownDeviceEntry(two)]);
    const all = Array.from({ length: DEVICE_HOLD_MAX_ENVELOPES + 1 }, (_, i) => `m${i}`);
    await new SealedWriter(r.url, identity, boKey, two.id).write(all);
    await until(bo, () => counter(bo, 'devices.hold_full') === 1, 30_000);
    expect(counter(bo, 'devices.held')).toBe(DEVICE_HOLD_MAX_ENVELOPES);

    gate.open();
    await until(bo, () => counter(bo, 'devices.hold_opened') === DEVICE_HOLD_MAX_ENVELOPES, 30_000);
    // The one left over comes again with the next connection.
    const next = track(await bo.reload());
    const burst = async () => (await allBodies(next, bSeesA)).filter((b) => /^m\d+$/.test(b));
    await vi.waitFor(async () => expect((await burst()).length).toBeGreaterThanOrEqual(all.length), { timeout: 30_000, interval: 50 });
    const got = await burst();
    expect(new Set(got).size).toBe(all.length);
    expect(got).toHaveLength(all.length);
    expect(cryptoFailures(next)).toEqual({});
    expect(cryptoFailures(bo)).toEqual({});
  }, 60_000);
});
