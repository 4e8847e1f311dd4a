/**
 * Fan-out to linked devices in the messenger (issue 16, docs/PROTOCOL.md §13.5), on the
 * real relay: Ada's account has two devices, each its own core and store; Bo is a
 * single-device account. Bo's message reaches both of Ada's devices once (one session and
 * one encryption per device); Ada's second device writes to Bo, who reads it with the
 * session of that device and sees no key change, and her first device shows it as hers
 * (a sent transcript) with its status; after Ada unlinks her second device,
 * Bo's messages go to her first one only and none fails.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { CryptoRuntime, encrypt, initiateSession, seal, verifyFetchedBundle } from '../../src/core/crypto/index.ts';
import { encodeContent, mailboxAddress } from '../../src/core/wire/index.ts';
import { ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { secureRandom } from '../../src/core/random.ts';
import { type PetrelStore } from '../../src/core/store/index.ts';
import { expectEventually, testWorld, texts, until, type Device } from './harness.ts';
import { connectAs, publishDeviceList, storedAccount } from './linked-device.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';

const world = testWorld();
const { track } = world;

const counter = (d: Device, name: string) => d.metrics.counter(name);

async function statusOf(store: PetrelStore, contactId: string, body: string): Promise<string | undefined> {
  return (await store.pageMessages(contactId, { limit: 50 })).messages.find((m) => m.body === body)?.status;
}

describe('fan-out to linked devices', () => {
  it("Bo's message reaches both of Ada's devices once; Ada's second device answers and Bo reads it without any key-change warning", async () => {
    const { ada1, ada2, bo, aSeesB, bSeesA } = await adaOnTwoDevices(world);
    await bo.messenger.send(bSeesA, 'hello both');
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    expect(await texts(ada1, aSeesB)).toEqual(['in:hello both']);
    expect(await texts(ada2, aSeesB)).toEqual(['in:hello both']);
    // One session per device at Bo's (none with the account), and the message delivered.
    const { one, two } = await Promise.all([storedAccount(ada1.store), storedAccount(ada2.store)]).then(([a, b]) => ({ one: a.device, two: b.device }));
    expect(await bo.store.getSession(bSeesA)).toBeUndefined();
    expect(await bo.store.getSession(bSeesA + toHex(one.id))).toBeDefined();
    expect(await bo.store.getSession(bSeesA + toHex(two.id))).toBeDefined();
    await expectEventually(async () => (await statusOf(bo.store, bSeesA, 'hello both')) === 'delivered');
    // Read on her first device: her second one shows it read too (a `seen` mark, over the
    // session each listed device keeps with the account's others), and Bo gets read receipts.
    const adaId = toHex((await storedAccount(ada1.store)).identity.publicKey);
    await expectEventually(async () => !!(await ada1.store.getSession(adaId + toHex(two.id))));
    await ada1.messenger.markRead(aSeesB);
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 0);
    expect((await ada2.store.pageMessages(aSeesB, { limit: 5 })).messages[0]!.status).toBe('read');
    await expectEventually(async () => (await statusOf(bo.store, bSeesA, 'hello both')) === 'read');

    // Ada's second device writes: Bo reads it with that device's session, silently.
    await ada2.messenger.send(aSeesB, 'from my laptop');
    await until(bo, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    // Ada's second device was announced to Bo by her signed list: a line in the chat, never a warning.
    expect(await texts(bo, bSeesA)).toEqual(['in:Ada added a device', 'out:hello both', 'in:from my laptop']);
    expect(bo.messenger.getState().contacts.find((c) => c.id === bSeesA)).toMatchObject({ keyChanged: false, displayName: 'Ada' });
    expect(counter(bo, 'devices.unknown_sender_device')).toBe(0);
    await expectEventually(async () => (await statusOf(ada2.store, aSeesB, 'from my laptop')) === 'delivered');
    // Ada's first device got the sent transcript: the message is hers, outgoing, shown once, with its status.
    await expectEventually(async () => (await texts(ada1, aSeesB)).includes('out:from my laptop'));
    expect(await texts(ada1, aSeesB)).toEqual(['in:hello both', 'out:from my laptop']);
    expect(counter(ada1, 'devices.transcript_received')).toBe(1);
    // Bo's delivery receipt reaches her first device too (not only the one that wrote): delivered there as well.
    await expectEventually(async () => (await statusOf(ada1.store, aSeesB, 'from my laptop')) === 'delivered');
    expect(counter(bo, 'devices.sibling_receipts')).toBeGreaterThanOrEqual(1);
    // Bo reads it: his read receipt goes to each of Ada's devices, so both show it read.
    await bo.messenger.markRead(bSeesA);
    await expectEventually(async () => (await statusOf(ada2.store, aSeesB, 'from my laptop')) === 'read');
    await expectEventually(async () => (await statusOf(ada1.store, aSeesB, 'from my laptop')) === 'read');

    // Bo answers: both devices again (the session with the second device is the one it wrote on).
    await bo.messenger.send(bSeesA, 'nice laptop');
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    expect(await texts(ada1, aSeesB)).toEqual(['in:hello both', 'out:from my laptop', 'in:nice laptop']);

    // Bo edits it: the edit goes to each of Ada's devices too.
    const nice = (await bo.store.pageMessages(bSeesA, { limit: 10 })).messages.find((m) => m.body === 'nice laptop')!;
    await bo.messenger.editMessage(nice.id, 'very nice laptop');
    await expectEventually(async () => (await ada1.store.getMessage(nice.id))?.body === 'very nice laptop');
    await expectEventually(async () => (await ada2.store.getMessage(nice.id))?.body === 'very nice laptop');

    // And from the first device: the second gets the transcript, once.
    await ada1.messenger.send(aSeesB, 'sent from my phone');
    await until(bo, (s) => s.contacts.find((c) => c.id === bSeesA)?.unread === 1);
    await expectEventually(async () => (await texts(ada2, aSeesB)).includes('out:sent from my phone'));
    expect(await texts(ada2, aSeesB)).toEqual(['in:hello both', 'out:from my laptop', 'in:very nice laptop', 'out:sent from my phone']);
    expect(await texts(bo, bSeesA)).toEqual(['in:Ada added a device', 'out:hello both', 'in:from my laptop', 'out:very nice laptop', 'in:sent from my phone']);
  });

  it("Bo's message keeps each of Ada's devices' delivered/read state; its status is the best, and his chat names her devices", async () => {
    const { ada1, ada2, bo, aSeesB, bSeesA, one, two } = await adaOnTwoDevices(world);
    const [d1, d2] = [toHex(one.id), toHex(two.id)];
    await bo.messenger.openChat(bSeesA);
    await bo.messenger.send(bSeesA, 'to both of you');
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    const row = async () => (await bo.store.pageMessages(bSeesA, { limit: 10 })).messages.find((m) => m.body === 'to both of you')!;
    // Each device's delivery receipt is kept under its id.
    await expectEventually(async () => Object.keys((await row()).deviceReceipts ?? {}).length === 2);
    expect((await row()).status).toBe('delivered');
    expect((await row()).deviceReceipts).toMatchObject({ [d1]: { status: 'delivered' }, [d2]: { status: 'delivered' } });
    // Ada reads on her second device: the message is read (the best state of the two).
    await ada2.messenger.openChat(aSeesB);
    await ada2.messenger.markRead(aSeesB);
    await expectEventually(async () => (await row()).deviceReceipts?.[d2]?.status === 'read');
    expect((await row()).status).toBe('read');
    // The view: Bo's open chat names both of Ada's devices, and the message each one's state with its time.
    await until(bo, (s) => s.chat?.messages.find((m) => m.text === 'to both of you')?.deviceReceipts?.some((d) => d.device === d2 && d.status === 'read') === true);
    const chat = bo.messenger.getState().chat!;
    expect((chat.devices ?? []).map((d) => d.id).sort()).toEqual([d1, d2].sort());
    expect(chat.devices!.map((d) => d.name)).toEqual(['Device 1', 'Device 2']);
    const view = chat.messages.find((m) => m.text === 'to both of you')!;
    expect(view.status).toBe('read');
    const byDevice = new Map(view.deviceReceipts!.map((d) => [d.device, d]));
    expect(byDevice.get(d2)?.status).toBe('read');
    expect(byDevice.get(d1)?.status).toMatch(/delivered|read/);
    for (const d of view.deviceReceipts!) expect(d.at).toBeGreaterThan(0);
    // Ada's chat with Bo (a single-device contact) names no devices; her incoming message has no per-device state.
    await until(ada2, (s) => s.chat?.contactId === aSeesB);
    expect(ada2.messenger.getState().chat!.devices).toBeUndefined();
    expect(ada2.messenger.getState().chat!.messages.every((m) => m.deviceReceipts === undefined)).toBe(true);
  });

  it("after Ada unlinks her second device, Bo's messages go to her first one only and none fails", async () => {
    const { r, ada1, ada2, bo, aSeesB, bSeesA, identity, one } = await adaOnTwoDevices(world);
    await bo.messenger.send(bSeesA, 'before');
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    const accepted = counter(bo, 'devices.list_accepted');
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one)]);
    await until(bo, () => counter(bo, 'devices.list_accepted') > accepted);
    await bo.messenger.send(bSeesA, 'after');
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 2);
    await expectEventually(async () => (await statusOf(bo.store, bSeesA, 'after')) === 'delivered');
    expect(await texts(ada2, aSeesB)).toEqual(['in:before']);
    expect(await bo.store.queueDepth()).toBe(0);
  });

  it('a copy refused device_unlinked (Bo did not know yet) is dropped, the message stands on the other copy', async () => {
    const { r, ada1, bo, aSeesB, bSeesA, identity, one } = await adaOnTwoDevices(world);
    await bo.messenger.send(bSeesA, 'before');
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    // Bo stops following Ada's lists (as if the change had not reached him) while she unlinks her second device.
    await bo.stop();
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(one)]);
    const bo2 = track(await reloadWithoutDeviceSync(bo));
    await bo2.messenger.send(bSeesA, 'after');
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 2);
    await expectEventually(async () => (await bo2.store.queueDepth()) === 0);
    expect(await statusOf(bo2.store, bSeesA, 'after')).not.toBe('failed');
    // The copy to the unlinked device was refused by the relay and dropped, not failed (with
    // whatever else still waited for that device when Bo stopped: 'before', his profile).
    expect(counter(bo2, 'devices.copy_dropped_unlinked')).toBeGreaterThanOrEqual(1);
    // Every other relay refusal was a copy sent under Ada's old list (stale_devices), covered and sent again.
    expect(counter(bo2, 'send.failure{transport="relay"}')).toBe(counter(bo2, 'devices.copy_dropped_unlinked') + counter(bo2, 'devices.send_stale'));
  });
});

describe('a device the list does not name', () => {
  it("a message sealed by Ada's identity from a device her verified list does not name is refused, typed and counted, with no key-change warning", async () => {
    const { r, bo, bSeesA, identity } = await adaOnTwoDevices(world);
    // Someone holding Ada's identity key (a stolen, already unlinked device) writes from an unlisted device.
    const t = await connectAs(r.url, identity);
    try {
      const boKey = (await storedAccount(bo.store)).identity.publicKey;
      const rt = new CryptoRuntime(secureRandom);
      const bundle = await verifyFetchedBundle(await t.fetchPrekeys(boKey), boKey);
      const { state } = await initiateSession(identity, bundle, rt);
      const id = secureRandom.bytes(16);
      const out = await encrypt(state, encodeContent({ t: 'msg', id, ts: Date.now(), text: 'from nowhere' }), rt);
      const body = await seal(identity, boKey, out.message, rt, secureRandom.bytes(16));
      await t.send({ to: mailboxAddress(boKey), id: secureRandom.bytes(16), body });
    } finally {
      t.stop();
    }
    await until(bo, () => counter(bo, 'devices.unknown_sender_device') === 1);
    expect(counter(bo, 'crypto.failure{reason="unknown_device"}')).toBe(1);
    // Only the line about the device her list does name; nothing from the one it does not.
    expect(await texts(bo, bSeesA)).toEqual(['in:Ada added a device']);
    expect(bo.messenger.getState().contacts.find((c) => c.id === bSeesA)).toMatchObject({ keyChanged: false });
  });
});

/** Bo's core again, sending before its device sync fetched Ada's new list. */
async function reloadWithoutDeviceSync(bo: Device): Promise<Device> {
  const next = await bo.reload();
  await until(next, (s) => s.connection.kind === 'online');
  return next;
}
