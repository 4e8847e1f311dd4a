/**
 * Linking a device end to end at the messenger level, over the real relay (issue 16,
 * PROTOCOL.md §13.6): Ada's existing core offers a link, a fresh core takes the account
 * (identity, name, contacts with verification, history with statuses), both are in the
 * device list, and unlinking makes the removed device say so. And every way a link is
 * refused: malformed, expired, used, no device waiting, the 11th device — each typed,
 * leaving the new browser with no identity and nothing stored.
 */
import { describe, expect, it } from 'vitest';
import { device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';

const { relay, track } = testWorld();

async function adaWithHistory(url: string): Promise<{ ada: Device; bo: Device; aSeesB: string }> {
  const ada = track(device(url));
  const bo = track(device(url));
  await onboard(ada, 'Ada');
  await onboard(bo, 'Bo');
  const { aSeesB, bSeesA } = await introduce(ada, bo);
  await ada.messenger.send(aSeesB, 'hello Bo');
  await until(bo, (s) => s.contacts[0]?.unread === 1);
  await bo.messenger.send(bSeesA, 'hi Ada');
  await until(ada, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
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
});
