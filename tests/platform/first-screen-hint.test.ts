/**
 * The first screen before the core answers (first-screen-hint.ts): what the core said
 * last time is shown at once — onboarding, or the conversation list — and the core's
 * first state replaces it whatever it says (a stale hint: identity gone, storage
 * cleared). A damaged hint is ignored; with none, an origin without a database shows
 * onboarding, one with a database waits for the core.
 */
import { describe, expect, it } from 'vitest';
import { TabLeadership, type LeadershipMessage } from '../../src/core/leadership.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { ContactView, MessengerApi, MessengerState } from '../../src/core/messenger/messenger-api.ts';
import {
  HINT_WRITE_GAP_MS,
  keepFirstScreenHint,
  NOBODY_HERE,
  noDatabaseYet,
  readFirstScreenHint,
} from '../../src/platform/first-screen-hint.ts';
import { MemorySyncStorage } from '../../src/platform/keypress/sync-storage.ts';
import { TabbedMessenger, type LeaderCore } from '../../src/platform/tabbed-messenger.ts';
import { FakeBus, FakeLocks, settle } from '../store/leadership-fakes.ts';

/** One tab's leadership over fake Web Locks and a fake channel. */
function leadership() {
  return new TabLeadership<MessengerState>({ lockName: 'petrel:p:core', tabId: 't1', locks: new FakeLocks().forTab('t1'), channel: new FakeBus<LeadershipMessage<MessengerState>>().channel('t1'), logger: silentLogger });
}

const ME = { displayName: 'Ann', id: 'a'.repeat(64), inviteUrl: 'https://petrel.test/#invite=x' };
const BOB: ContactView = { id: 'b'.repeat(64), displayName: 'Bob', verified: false, keyChanged: false, unread: 2, direct: true, lastMessage: { text: 'hi', at: 5, direction: 'in' } };
const READY: MessengerState = { phase: 'ready', me: ME, connection: { kind: 'online', direct: 1 }, storage: { state: 'ok' }, contacts: [BOB], queueDepth: 0 };
const ONBOARDING: MessengerState = { phase: 'onboarding', connection: { kind: 'connecting' }, storage: { state: 'ok' }, contacts: [], queueDepth: 0 };

/** A state source the test drives. */
function source(initial: MessengerState) {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    subscribe: (l: () => void) => (listeners.add(l), () => listeners.delete(l)),
    set(next: MessengerState) {
      state = next;
      for (const l of listeners) l();
    },
  };
}

/** Timers run when the test says. */
function manualTimers() {
  const due: (() => void)[] = [];
  return { setTimeout: (f: () => void, ms: number) => (expect(ms).toBe(HINT_WRITE_GAP_MS), due.push(f)), run: () => due.splice(0).forEach((f) => f()) };
}

describe('first-screen hint', () => {
  it('remembers the conversation list (without presence) and shows it on the next load', () => {
    const storage = new MemorySyncStorage();
    const s = source(ONBOARDING);
    const timers = manualTimers();
    keepFirstScreenHint(s, storage, 'p', timers);
    s.set(READY); // a phase change is written at once
    const shown = readFirstScreenHint(storage, 'p');
    expect(shown).toMatchObject({ phase: 'ready', me: ME, contacts: [{ ...BOB, direct: false }], connection: { kind: 'connecting' } });
    // Later changes are written at most once per gap, the last one winning.
    s.set({ ...READY, contacts: [{ ...BOB, unread: 3 }] });
    s.set({ ...READY, contacts: [{ ...BOB, unread: 4 }] });
    expect(readFirstScreenHint(storage, 'p')!.contacts[0]!.unread).toBe(2);
    timers.run();
    expect(readFirstScreenHint(storage, 'p')!.contacts[0]!.unread).toBe(4);
    // A contact added changes the list's shape: written at once.
    const cy = { ...BOB, id: 'c'.repeat(64), displayName: 'Cy' };
    s.set({ ...READY, contacts: [cy, { ...BOB, unread: 4 }] });
    expect(readFirstScreenHint(storage, 'p')!.contacts.map((c) => c.displayName)).toEqual(['Cy', 'Bob']);
    expect(readFirstScreenHint(storage, 'other profile')).toBeUndefined();
  });

  it('remembers onboarding, and loading or failed states change nothing', () => {
    const storage = new MemorySyncStorage();
    const s = source({ ...ONBOARDING, phase: 'loading' });
    keepFirstScreenHint(s, storage, 'p', manualTimers());
    s.set({ ...ONBOARDING, phase: 'failed' });
    expect(readFirstScreenHint(storage, 'p')).toBeUndefined();
    s.set(ONBOARDING);
    expect(readFirstScreenHint(storage, 'p')).toMatchObject({ phase: 'onboarding', contacts: [] });
  });

  it('ignores a damaged hint', () => {
    const storage = new MemorySyncStorage();
    for (const bad of ['{', '7', '{"v":2}', JSON.stringify({ v: 1, me: { displayName: 3 } }), JSON.stringify({ v: 1, me: ME, contacts: [{ id: 1 }] }), JSON.stringify({ v: 1, me: ME })]) {
      storage.setItem('petrel:p:first-screen', bad);
      expect(readFirstScreenHint(storage, 'p')).toBeUndefined();
    }
  });

  it('a stale hint shows until the core answers, then the core’s state wins (identity gone: onboarding)', async () => {
    const storage = new MemorySyncStorage();
    storage.setItem('petrel:p:first-screen', JSON.stringify({ v: 1, me: ME, contacts: [BOB] }));
    const hint = readFirstScreenHint(storage, 'p')!;
    let boot!: (core: LeaderCore) => void;
    const tabbed = new TabbedMessenger(leadership(), () => new Promise<LeaderCore>((r) => (boot = r)), { initialState: hint });
    keepFirstScreenHint(tabbed, storage, 'p', manualTimers());
    expect(tabbed.getState()).toMatchObject({ phase: 'ready', contacts: [{ displayName: 'Bob' }] });
    void tabbed.start();
    await settle();
    // Still booting: the hint stays (a later "no database" answer does not override it).
    tabbed.showBeforeCore(NOBODY_HERE);
    expect(tabbed.getState().phase).toBe('ready');
    const core = source(ONBOARDING);
    boot({ api: core as unknown as MessengerApi, stop: async () => undefined });
    await settle();
    expect(tabbed.getState()).toBe(ONBOARDING);
    expect(readFirstScreenHint(storage, 'p')).toMatchObject({ phase: 'onboarding' });
    await tabbed.stop();
  });

  it('without a hint: onboarding when the origin has no database, the core’s answer otherwise', async () => {
    expect(await noDatabaseYet({ databases: async () => [] })).toBe(true);
    expect(await noDatabaseYet({ databases: async () => [{ name: 'petrel', version: 9 }] })).toBe(false);
    expect(await noDatabaseYet({ databases: async () => Promise.reject(new Error('denied')) })).toBe(false);
    expect(await noDatabaseYet(undefined)).toBe(false);
    let boot!: (core: LeaderCore) => void;
    const tabbed = new TabbedMessenger(leadership(), () => new Promise<LeaderCore>((r) => (boot = r)));
    expect(tabbed.getState().phase).toBe('loading');
    tabbed.showBeforeCore(NOBODY_HERE);
    expect(tabbed.getState().phase).toBe('onboarding');
    void tabbed.start();
    await settle();
    // The database existed after all (created meanwhile): the core's "ready" replaces it.
    boot({ api: source(READY) as unknown as MessengerApi, stop: async () => undefined });
    await settle();
    expect(tabbed.getState()).toBe(READY);
    await tabbed.stop();
  });
});
