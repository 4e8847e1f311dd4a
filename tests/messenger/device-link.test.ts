/**
 * Linking a device end to end at the messenger level, over the real relay (issue 16,
 * PROTOCOL.md §13.6): Ada's existing core offers a link, a fresh core takes the account
 * (identity, name, contacts with verification, history with statuses), both are in the
 * device list, and unlinking makes the removed device say so. And every way a link is
 * refused: malformed, expired, used, no device waiting, the 11th device — each typed,
 * leaving the new browser with no identity and nothing stored.
 */
import { describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/core/crypto/identity.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import { createLinkOffer, formatLink, parseLink } from '../../src/core/devices/link-offer.ts';
import { LinkSender } from '../../src/core/devices/link-transfer.ts';
import { secureRandom } from '../../src/core/random.ts';
import { ownDeviceEntry } from '../../src/core/devices/own-device.ts';
import { decodeLinkChannelMessage, encodeLinkChannelMessage, encodeLinkRecord, type LinkRecord } from '../../src/core/wire/index.ts';
import { newIdentity } from '../relay/helpers/identity.ts';
import { TestClient } from '../relay/helpers/test-client.ts';
import { rid } from '../relay/helpers/devices.ts';
import { adaAndBoTalked, device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';
import { extraDevice, publishDeviceList, storedAccount } from './linked-device.ts';

const { relay, track } = testWorld();

async function adaWithHistory(url: string): Promise<{ ada: Device; bo: Device; aSeesB: string }> {
  const ada = track(device(url));
  const bo = track(device(url));
  const { aSeesB } = await adaAndBoTalked(ada, bo);
  await ada.messenger.setVerified(aSeesB, true);
  return { ada, bo, aSeesB };
}

async function kindOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return String((err as { kind?: unknown }).kind ?? (err as Error).name);
  }
  return 'resolved';
}

describe('linking a device', () => {
  it('the new device gets the account, contacts with verification and history; both are listed; unlinking it makes it say so', async () => {
    const r = await relay();
    const { ada, aSeesB } = await adaWithHistory(r.url);
    const link = await ada.messenger.createDeviceLink();
    expect(link.startsWith('petrel-link:')).toBe(true);
    expect(ada.messenger.getState().deviceLink).toMatchObject({ status: 'waiting', link });

    const ada2 = track(device(r.url));
    await ada2.messenger.start();
    await until(ada2, (s) => s.phase === 'onboarding');
    await ada2.messenger.linkThisDevice(link);
    const s = await until(ada2, (st) => st.phase === 'ready' && st.contacts.length === 1);
    expect(s.me?.displayName).toBe('Ada');
    expect(s.me?.id).toBe(ada.messenger.getState().me?.id);
    expect(s.contacts[0]).toMatchObject({ id: aSeesB, displayName: 'Bo', verified: true, unread: 0 });
    expect(await texts(ada2, aSeesB)).toEqual(await texts(ada, aSeesB));
    const statuses = async (d: Device) => (await d.store.pageMessages(aSeesB, { limit: 10 })).messages.map((m) => m.status);
    expect(await statuses(ada2)).toEqual(await statuses(ada));
    await until(ada, (st) => st.deviceLink?.status === 'done');

    const onFirst = await ada.messenger.listDevices();
    expect(onFirst).toHaveLength(2);
    expect(onFirst.filter((d) => d.thisDevice)).toHaveLength(1);
    const onSecond = await ada2.messenger.listDevices();
    expect(onSecond.map((d) => d.id).sort()).toEqual(onFirst.map((d) => d.id).sort());
    const second = onSecond.find((d) => d.thisDevice)!;
    expect(onFirst.find((d) => d.id === second.id)?.thisDevice).toBe(false);

    // A used link stays used: another device trying it is refused, nothing kept.
    const late = track(device(r.url));
    await late.messenger.start();
    expect(await kindOf(late.messenger.linkThisDevice(link))).toMatch(/link_used|link_unavailable/);
    expect(await late.store.loadIdentity()).toBeUndefined();

    await ada.messenger.unlinkDevice(second.id);
    expect(await ada.messenger.listDevices()).toHaveLength(1);
    await until(ada2, (st) => st.unlinked === true);
    expect(ada2.messenger.getState().connection.kind).toBe('offline');
  });

  it("the new device gets the account's settings with the link (and a refused link writes none)", async () => {
    const r = await relay();
    const onFirst = memorySettings({ theme: 'dark', notificationContent: 'name_only' });
    const ada = track(device(r.url, undefined, { accountSettings: onFirst }));
    const bo = track(device(r.url));
    await onboard(ada, 'Ada');
    await onboard(bo, 'Bo');
    const { aSeesB } = await introduce(ada, bo);
    await ada.messenger.send(aSeesB, 'hello Bo');
    const link = await ada.messenger.createDeviceLink();

    const onSecond = memorySettings({});
    const ada2 = track(device(r.url, undefined, { accountSettings: onSecond }));
    await ada2.messenger.start();
    await until(ada2, (s) => s.phase === 'onboarding');
    await ada2.messenger.linkThisDevice(link);
    await until(ada2, (s) => s.phase === 'ready' && s.contacts.length === 1);
    expect(onSecond.written).toEqual([{ theme: 'dark', notificationContent: 'name_only' }]);
    expect(await onSecond.read()).toEqual({ theme: 'dark', notificationContent: 'name_only' });
    expect(await texts(ada2, aSeesB)).toEqual(['out:hello Bo']);
    expect(ada2.metrics.counter('devices.link_settings_taken')).toBe(1);

    // The used link again, from a third browser: refused, and its settings stay untouched.
    const onLate = memorySettings({ theme: 'light' });
    const late = track(device(r.url, undefined, { accountSettings: onLate }));
    await late.messenger.start();
    expect(await kindOf(late.messenger.linkThisDevice(link))).toMatch(/link_used|link_unavailable/);
    expect(onLate.written).toEqual([]);
    expect(await onLate.read()).toEqual({ theme: 'light' });
  });

  it('a settings store that fails does not fail the link; a device without settings links as before', async () => {
    const r = await relay();
    const ada = track(device(r.url, undefined, { accountSettings: memorySettings({ theme: 'dark' }) }));
    await onboard(ada, 'Ada');
    const broken = { read: async () => ({}), write: async () => Promise.reject(new Error('quota')) };
    const ada2 = track(device(r.url, undefined, { accountSettings: broken }));
    await ada2.messenger.start();
    await until(ada2, (s) => s.phase === 'onboarding');
    await ada2.messenger.linkThisDevice(await ada.messenger.createDeviceLink());
    await until(ada2, (s) => s.phase === 'ready');
    expect(ada2.metrics.counter('devices.link_settings_failed')).toBe(1);
    // No settings on the offering side: the link carries none, and the new device's are left alone.
    await until(ada, (s) => s.deviceLink?.status === 'done');
    const bare = track(device(r.url));
    await onboard(bare, 'Cy');
    const onCy2 = memorySettings({ theme: 'light' });
    const cy2 = track(device(r.url, undefined, { accountSettings: onCy2 }));
    await cy2.messenger.start();
    await until(cy2, (s) => s.phase === 'onboarding');
    await cy2.messenger.linkThisDevice(await bare.messenger.createDeviceLink());
    await until(cy2, (s) => s.phase === 'ready');
    expect(onCy2.written).toEqual([]);
  });

  it('refuses a malformed, an expired and an unserved link, keeping nothing', async () => {
    const r = await relay();
    const { ada } = await adaWithHistory(r.url);
    const fresh = track(device(r.url));
    await fresh.messenger.start();
    expect(await kindOf(fresh.messenger.linkThisDevice('petrel-link:not-a-link'))).toBe('malformed_link');
    expect(await kindOf(fresh.messenger.linkThisDevice('https://example.org/'))).toBe('malformed_link');
    // A link nobody serves (its device went away): a real link text whose channel is closed.
    const link = await ada.messenger.createDeviceLink();
    await ada.stop();
    expect(await kindOf(fresh.messenger.linkThisDevice(link))).toBe('link_unavailable');
    // An expired link (its expiry is inside the text): this device refuses it before the relay.
    const payload = Buffer.from(link.slice('petrel-link:'.length), 'base64url');
    payload.writeBigUInt64BE(BigInt(Date.now() - 1000), 33);
    expect(await kindOf(fresh.messenger.linkThisDevice('petrel-link:' + payload.toString('base64url')))).toBe('link_expired');
    expect(await fresh.store.loadIdentity()).toBeUndefined();
    expect(await fresh.store.listContacts()).toEqual([]);
    expect(fresh.messenger.getState().phase).toBe('onboarding');
  });

  it('refuses a link whose secret was changed (tampered): the other device refuses the request, nothing changes there', async () => {
    const r = await relay();
    const { ada } = await adaWithHistory(r.url);
    const link = await ada.messenger.createDeviceLink();
    const payload = Buffer.from(link.slice('petrel-link:'.length), 'base64url');
    // Same channel cannot be kept with another secret; flipping a secret bit is another channel: nobody waits there.
    payload[5]! ^= 1;
    const fresh = track(device(r.url));
    await fresh.messenger.start();
    expect(await kindOf(fresh.messenger.linkThisDevice('petrel-link:' + payload.toString('base64url')))).toBe('link_unavailable');
    expect(await ada.messenger.listDevices()).toHaveLength(1);
    expect(ada.messenger.getState().deviceLink?.status).toBe('waiting');
  });

  it('a request whose MAC does not verify is refused as tampered; the link stays offered and nothing is published', async () => {
    const r = await relay();
    const { ada } = await adaWithHistory(r.url);
    const link = await ada.messenger.createDeviceLink();
    const { keys } = parseLink(link, Date.now());
    const forger = await TestClient.authenticated(r.url, newIdentity());
    const id = rid();
    forger.send({ t: 'link.join', rid: id, ch: keys.channel });
    expect((await forger.reply(id)).t).toBe('link.joined');
    const key = extraDevice((await storedAccount(ada.store)).identity).key.publicKey;
    forger.send({ t: 'link.data', ch: keys.channel, data: encodeLinkChannelMessage({ t: 'link.request', dev: { id: new Uint8Array(16).fill(7), key }, mac: new Uint8Array(32) }) });
    const answer = decodeLinkChannelMessage((await forger.next('link.data')).data);
    expect(answer).toEqual({ t: 'link.refused', why: 'link_tampered' });
    expect(ada.metrics.counter('devices.link_refused', { kind: 'link_tampered' })).toBe(1);
    expect(await ada.messenger.listDevices()).toHaveLength(1);
    expect(ada.messenger.getState().deviceLink?.status).toBe('waiting');
    forger.close();
  });

  it('the 11th device is refused with a clear message, on the new device and on the one offering', async () => {
    const r = await relay();
    const { ada } = await adaWithHistory(r.url);
    const { identity, device: own } = await storedAccount(ada.store);
    const extras = Array.from({ length: 9 }, () => ownDeviceEntry(extraDevice(identity)));
    await publishDeviceList(r.url, identity, 1, [ownDeviceEntry(own), ...extras.slice(0, 8)]);
    await until(ada, (s) => s.devices?.length === 9);
    const link = await ada.messenger.createDeviceLink();
    // Meanwhile another device of Ada's filled the list.
    await publishDeviceList(r.url, identity, 2, [ownDeviceEntry(own), ...extras]);
    await until(ada, (s) => s.devices?.length === 10);
    const fresh = track(device(r.url));
    await fresh.messenger.start();
    let refusal: unknown;
    await fresh.messenger.linkThisDevice(link).catch((err: unknown) => (refusal = err));
    expect(refusal).toMatchObject({ kind: 'too_many_devices', message: expect.stringMatching(/already has 10 devices; unlink one/) });
    expect(await fresh.store.loadIdentity()).toBeUndefined();
    expect(ada.messenger.getState().deviceLink).toMatchObject({ status: 'failed', kind: 'too_many_devices' });
    expect(await kindOf(ada.messenger.createDeviceLink())).toBe('too_many_devices');
    expect(await ada.messenger.listDevices()).toHaveLength(10);
  });

  it('a transfer cut short (the other device goes away after the account and a contact) leaves no identity and nothing stored', async () => {
    const r = await relay();
    const account = generateIdentity(secureRandom);
    const offer = createLinkOffer(secureRandom, Date.now());
    const holder = await TestClient.authenticated(r.url, newIdentity());
    const id = rid();
    holder.send({ t: 'link.open', rid: id, ch: offer.channel });
    expect((await holder.reply(id)).t).toBe('link.opened');
    const fresh = track(device(r.url));
    await fresh.messenger.start();
    const linking = fresh.messenger.linkThisDevice(formatLink(offer)).catch((err: unknown) => err);
    const request = decodeLinkChannelMessage((await holder.next('link.data')).data);
    if (request.t !== 'link.request') throw new Error('expected the request');
    const sender = LinkSender.open(offer.secret, offer.channel, request.dev, secureRandom);
    const send = async (record: LinkRecord) => {
      const c = await sender.seal(encodeLinkRecord(record), false);
      holder.send({ t: 'link.data', ch: offer.channel, data: encodeLinkChannelMessage({ t: 'link.chunk', seq: c.seq, last: c.last, box: c.box }) });
    };
    holder.send({ t: 'link.data', ch: offer.channel, data: encodeLinkChannelMessage({ t: 'link.start', eph: sender.start.ephemeral }) });
    const list = signDeviceList(account, { version: 1, issuedAt: Date.now(), devices: [request.dev] });
    await send({ t: 'link.account', seed: account.exportSeed(), name: 'Ada', list });
    await send({ t: 'link.contacts', contacts: [{ ik: generateIdentity(secureRandom).publicKey, name: 'Bo', verified: true, addedAt: 1 }] });
    await until(fresh, (s) => s.linking?.contacts === 1);
    holder.close();
    expect(await linking).toMatchObject({ kind: 'link_interrupted' });
    expect(await fresh.store.loadIdentity()).toBeUndefined();
    expect(await fresh.store.listContacts()).toEqual([]);
    expect(fresh.messenger.getState()).toMatchObject({ phase: 'onboarding', linking: undefined });
  });

  it('a link survives a reload of the device that offered it; once used it is never served again, also after a reload', async () => {
    const r = await relay();
    let { ada } = await adaWithHistory(r.url);
    const link = await ada.messenger.createDeviceLink();
    expect(await ada.messenger.createDeviceLink()).toBe(link);
    ada = track(await ada.reload());
    await until(ada, (s) => s.deviceLink?.status === 'waiting');
    const second = track(device(r.url));
    await second.messenger.start();
    await second.messenger.linkThisDevice(link);
    await until(second, (s) => s.phase === 'ready' && s.contacts.length === 1);
    ada = track(await ada.reload());
    await until(ada, (s) => s.connection.kind === 'online');
    const third = track(device(r.url));
    await third.messenger.start();
    expect(await kindOf(third.messenger.linkThisDevice(link))).toBe('link_unavailable');
    expect(await ada.messenger.listDevices()).toHaveLength(2);
  });
});

/** An account-settings port over memory, recording each write. */
function memorySettings(initial: Record<string, string>) {
  let current = { ...initial };
  const written: Record<string, string>[] = [];
  return {
    written,
    read: async () => ({ ...current }),
    write: async (s: Readonly<Record<string, string>>) => {
      written.push({ ...s });
      current = { ...current, ...s };
    },
  };
}
