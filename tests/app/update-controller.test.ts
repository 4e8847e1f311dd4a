import { describe, expect, it } from 'vitest';
import { createUpdateController, type WaitingWorkerHost } from '../../src/app/pwa/update-controller.ts';

/** A stand-in for workbox-window: the test fires its lifecycle events by hand. */
function fakeHost() {
  const waiting: Array<() => void> = [];
  const controlling: Array<() => void> = [];
  let skipWaitingMessages = 0;
  const host: WaitingWorkerHost = {
    onWaiting: (l) => void waiting.push(l),
    onControlling: (l) => void controlling.push(l),
    messageSkipWaiting: () => void skipWaitingMessages++,
  };
  return {
    host,
    fireWaiting: () => waiting.forEach((l) => l()),
    fireControlling: () => controlling.forEach((l) => l()),
    skipWaitingMessages: () => skipWaitingMessages,
  };
}

function setup() {
  const sw = fakeHost();
  let reloads = 0;
  const updates = createUpdateController(sw.host, () => void reloads++);
  const seen: string[] = [];
  updates.subscribe(() => seen.push(updates.getState()));
  return { sw, updates, seen, reloads: () => reloads };
}

describe('update controller', () => {
  it('starts idle and offers nothing to apply', () => {
    const { sw, updates, seen, reloads } = setup();
    expect(updates.getState()).toBe('idle');
    updates.applyUpdate();
    expect(sw.skipWaitingMessages()).toBe(0);
    expect(reloads()).toBe(0);
    expect(seen).toEqual([]);
  });

  it('a waiting worker is offered; applying sends SKIP_WAITING once and reloads only when the new worker controls', () => {
    const { sw, updates, seen, reloads } = setup();
    sw.fireWaiting();
    expect(updates.getState()).toBe('waiting');

    updates.applyUpdate();
    updates.applyUpdate(); // a double click sends nothing more
    expect(updates.getState()).toBe('applying');
    expect(sw.skipWaitingMessages()).toBe(1);
    expect(reloads()).toBe(0);

    sw.fireControlling();
    expect(reloads()).toBe(1);
    expect(seen).toEqual(['waiting', 'applying']);
  });

  it('a new worker taking control without being asked (another tab) does not reload this page', () => {
    const { sw, updates, reloads } = setup();
    sw.fireWaiting();
    sw.fireControlling();
    expect(reloads()).toBe(0);
    expect(updates.getState()).toBe('waiting');
    // The new worker already controls: Reload needs no SKIP_WAITING, just the reload.
    updates.applyUpdate();
    expect(sw.skipWaitingMessages()).toBe(0);
    expect(reloads()).toBe(1);
  });

  it('dismissing hides the offer until a newer version waits', () => {
    const { sw, updates, seen } = setup();
    sw.fireWaiting();
    updates.dismiss();
    expect(updates.getState()).toBe('idle');
    updates.applyUpdate();
    expect(sw.skipWaitingMessages()).toBe(0);
    sw.fireWaiting();
    expect(updates.getState()).toBe('waiting');
    expect(seen).toEqual(['waiting', 'idle', 'waiting']);
  });

  it('a repeated waiting event while applying keeps applying', () => {
    const { sw, updates } = setup();
    sw.fireWaiting();
    updates.applyUpdate();
    sw.fireWaiting();
    expect(updates.getState()).toBe('applying');
  });

  it('unsubscribed listeners hear nothing more', () => {
    const { sw, updates } = setup();
    let calls = 0;
    const unsubscribe = updates.subscribe(() => void calls++);
    sw.fireWaiting();
    unsubscribe();
    updates.dismiss();
    expect(calls).toBe(1);
  });
});
