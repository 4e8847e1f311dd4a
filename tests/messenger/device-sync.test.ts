/**
 * DeviceSync over a scripted relay (the relay's own answers are covered against the real
 * relay in tests/messenger/devices.test.ts): the connect sweep, refusals that change
 * nothing, added devices reported only for a contact's known list, and a sweep that stops
 * at the first failed fetch instead of spending the relay's fetch budget.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { FakeClock, systemClock, type Clock } from '../../src/core/clock.ts';
import { signDeviceList } from '../../src/core/devices/device-list.ts';
import { silentLogger } from '../../src/core/log.ts';
import { InMemoryMetrics } from '../../src/core/metrics.ts';
import { ContactDirectory } from '../../src/core/messenger/contact-directory.ts';
import { DeviceListBook } from '../../src/core/messenger/device-list-book.ts';
import { DEVICE_SWEEP_GAP_MS, DeviceSync } from '../../src/core/messenger/device-sync.ts';
import { createMemoryStore } from '../../src/core/store/index.ts';
import type { SignedDeviceList } from '../../src/core/wire/index.ts';
import { device, identity } from '../devices/fixtures.ts';

function world(clock: Clock = systemClock, sweepGapMs = 0) {
  const me = identity(1);
  const [ada, cy] = [identity(2), identity(3)];
  const contacts = new ContactDirectory();
  for (const [who, name] of [[ada, 'Ada'], [cy, 'Cy']] as const) {
    contacts.remember({ id: toHex(who.publicKey), displayName: name, identityKey: who.publicKey, verification: 'unverified', addedAt: 0 });
  }
  const lists = new Map<string, SignedDeviceList>();
  const failing = new Set<string>();
  const fetched: string[] = [];
  const watched: string[][] = [];
  const metrics = new InMemoryMetrics();
  const book = new DeviceListBook(createMemoryStore({ now: () => 0 }), metrics, silentLogger);
  const added: Array<[string, number]> = [];
  const relay = {
    isOnline: () => true,
    fetchDeviceList: async (ik: Uint8Array) => {
      fetched.push(toHex(ik));
      if (failing.has(toHex(ik))) throw Object.assign(new Error('too many fetches'), { code: 'rate_limited' });
      return lists.get(toHex(ik));
    },
    watchDevices: async (iks: readonly Uint8Array[]) => watched.push(iks.map(toHex)),
  };
  const sync = new DeviceSync({ account: me.publicKey, contacts, book, relay, clock, sweepGapMs, metrics, log: silentLogger }, { deviceAdded: (id, n) => added.push([id, n]) });
  return { me, ada, cy, lists, failing, fetched, watched, metrics, book, added, sync };
}

describe('DeviceSync', () => {
  it('on connect watches every contact and fetches ours and theirs; a device added later is reported, the first list is not', async () => {
    const w = world();
    w.lists.set(toHex(w.ada.publicKey), signDeviceList(w.ada, { version: 1, issuedAt: 1, devices: [device(1)] }));
    await w.sync.online();
    expect(w.watched).toEqual([[toHex(w.ada.publicKey), toHex(w.cy.publicKey)]]);
    expect(w.fetched).toEqual([w.me, w.ada, w.cy].map((i) => toHex(i.publicKey)));
    expect((await w.book.get(w.ada.publicKey))?.version).toBe(1);
    expect(w.added).toEqual([]);
    w.lists.set(toHex(w.ada.publicKey), signDeviceList(w.ada, { version: 2, issuedAt: 2, devices: [device(1), device(2)] }));
    expect(await w.sync.refresh(w.ada.publicKey)).toMatchObject({ kind: 'changed', added: [device(2)] });
    expect(w.added).toEqual([[toHex(w.ada.publicKey), 1]]);
    expect(w.metrics.counter('devices.contact_device_added')).toBe(1);
  });

  it('a list the relay serves under a contact but signed by another identity is refused, counted, and the held one stays', async () => {
    const w = world();
    w.lists.set(toHex(w.ada.publicKey), signDeviceList(w.ada, { version: 1, issuedAt: 1, devices: [device(1)] }));
    await w.sync.online();
    w.lists.set(toHex(w.ada.publicKey), signDeviceList(w.cy, { version: 5, issuedAt: 5, devices: [device(9)] }));
    expect(await w.sync.refresh(w.ada.publicKey)).toBeUndefined();
    expect(w.metrics.counter('devices.refused', { kind: 'foreign_account' })).toBe(1);
    expect((await w.book.get(w.ada.publicKey))?.devices).toEqual([device(1)]);
    expect(w.added).toEqual([]);
  });

  it('the connect sweep stops at the first failed fetch', async () => {
    const w = world();
    w.failing.add(toHex(w.ada.publicKey));
    await w.sync.online();
    expect(w.fetched).toEqual([w.me, w.ada].map((i) => toHex(i.publicKey)));
    expect(w.metrics.counter('devices.fetch_failed')).toBe(1);
  });

  it('the sweep fetches one account per DEVICE_SWEEP_GAP_MS, and a stop ends it', async () => {
    const clock = new FakeClock();
    const w = world(clock, DEVICE_SWEEP_GAP_MS);
    const done = w.sync.online();
    await expect.poll(() => w.fetched.length).toBe(1);
    clock.advance(DEVICE_SWEEP_GAP_MS - 1);
    await Promise.resolve();
    expect(w.fetched).toHaveLength(1);
    clock.advance(1);
    await expect.poll(() => w.fetched.length).toBe(2);
    w.sync.stop();
    await done;
    clock.advance(10 * DEVICE_SWEEP_GAP_MS);
    expect(w.fetched).toHaveLength(2);
    expect(clock.pending()).toBe(0);
  });
});
