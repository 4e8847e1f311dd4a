/**
 * The device that SERVED a link writes, and the device it linked shows it (issue 16): Ada
 * links a second core over a real one-time link (not the test stand-in), then writes to Bo
 * on her first device; Bo gets it once, and her second device gets the sent transcript,
 * once, as hers. The other direction is covered by fan-out.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { device, introduce, onboard, testWorld, texts, until, type Device } from './harness.ts';
import { storedAccount } from './linked-device.ts';

const { relay, track } = testWorld();

async function eventually(check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every crypto.failure counter of a device (by reason). */
function cryptoFailures(d: Device): Record<string, number> {
  return Object.fromEntries(Object.entries(d.metrics.snapshot().counters).filter(([k, v]) => k.startsWith('crypto.failure') && v > 0));
}

async function twoUsers(url: string): Promise<{ ada: Device; bo: Device; aSeesB: string; bSeesA: string }> {
  const ada = track(device(url));
  const bo = track(device(url));
  await onboard(ada, 'Ada');
  await onboard(bo, 'Bo');
  const { aSeesB, bSeesA } = await introduce(ada, bo);
  await ada.messenger.send(aSeesB, 'before the link');
  await until(bo, (s) => s.contacts[0]?.unread === 1);
  return { ada, bo, aSeesB, bSeesA };
}

/** Ada's second core takes the link; resolves once it runs with the account. */
async function takeLink(url: string, link: string): Promise<Device> {
  const ada2 = track(device(url));
  await ada2.messenger.start();
  await until(ada2, (s) => s.phase === 'onboarding');
  await ada2.messenger.linkThisDevice(link);
  await until(ada2, (s) => s.phase === 'ready' && s.contacts.length === 1 && s.connection.kind === 'online');
  return ada2;
}

describe('a link served by a device, then that device writes', () => {
  it('written once the link is done: Bo gets it once and the linked device shows it as ours, once', async () => {
    const r = await relay();
    const { ada, bo, aSeesB, bSeesA } = await twoUsers(r.url);
    const ada2 = await takeLink(r.url, await ada.messenger.createDeviceLink());
    await until(ada, (s) => s.deviceLink?.status === 'done');
    // Each of Ada's devices has started its session with the other (nothing else is left to refresh the views).
    const [a1, a2] = await Promise.all([storedAccount(ada.store), storedAccount(ada2.store)]);
    const own = toHex(a1.identity.publicKey);
    await eventually(async () => !!(await ada.store.getSession(own + toHex(a2.device.id))) && !!(await ada2.store.getSession(own + toHex(a1.device.id))));
    // The second device has Bo's chat open (what the person looks at).
    await ada2.messenger.openChat(aSeesB);
    await until(ada2, (s) => s.chat?.contactId === aSeesB);
    await ada.messenger.send(aSeesB, 'written on my first device');
    await eventually(async () => (await texts(bo, bSeesA)).includes('in:written on my first device'));
    // Shown in the open chat as soon as the transcript is stored (before any receipt touches the row).
    await until(ada2, (s) => !!s.chat?.messages.some((m) => m.text === 'written on my first device'));
    expect(ada2.metrics.counter('devices.transcript_received')).toBe(1);
    expect((await texts(ada2, aSeesB)).filter((t) => t === 'out:written on my first device')).toHaveLength(1);
    expect((await texts(bo, bSeesA)).filter((t) => t === 'in:written on my first device')).toHaveLength(1);
    // Her first device wrote under the session Bo kept with her account (from before her list):
    // Bo opened it with that session, which moved to the device; nothing failed, nothing was asked again.
    expect(cryptoFailures(bo)).toEqual({});
    expect(bo.metrics.counter('devices.account_session_moved')).toBeGreaterThanOrEqual(1);
  });

  it('written while the link is served (the list already names both devices): it waits for the core to run as the device, then reaches both', async () => {
    const r = await relay();
    const { ada, bo, aSeesB, bSeesA } = await twoUsers(r.url);
    const linking = takeLink(r.url, await ada.messenger.createDeviceLink());
    // The new list is published before the history streams: Ada writes from here on.
    await until(ada, (s) => s.devices?.length === 2);
    const sending = ada.messenger.send(aSeesB, 'written during the link');
    const ada2 = await linking;
    await sending;
    await eventually(async () => (await texts(bo, bSeesA)).includes('in:written during the link'));
    await eventually(async () => (await texts(ada2, aSeesB)).includes('out:written during the link'));
    expect((await texts(ada2, aSeesB)).filter((t) => t === 'out:written during the link')).toHaveLength(1);
    expect((await texts(bo, bSeesA)).filter((t) => t === 'in:written during the link')).toHaveLength(1);
  });
});
