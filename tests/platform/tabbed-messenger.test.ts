/**
 * TabbedMessenger with fake tabs: fake Web Locks and BroadcastChannel (the leadership
 * fakes), fake cores (the app's FakeMessenger). What is checked is what a person would
 * see in each tab, which tab runs a core, and who holds the lock.
 */
import { describe, expect, it } from 'vitest';
import { TabLeadership, type LeadershipMessage } from '../../src/core/leadership.ts';
import { silentLogger } from '../../src/core/log.ts';
import { NotLeaderError } from '../../src/core/messenger/errors.ts';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { StorageBlockedError, StorageFailureError } from '../../src/core/store/errors.ts';
import { TabbedMessenger, type BootContext, type LeaderCore } from '../../src/platform/tabbed-messenger.ts';
import { FakeMessenger, readyState } from '../app/views/fake-messenger.ts';
import { FakeBus, FakeLocks, settle } from '../store/leadership-fakes.ts';

class FakeCore implements LeaderCore {
  stops = 0;
  constructor(readonly api: FakeMessenger) {}
  async stop(): Promise<void> {
    this.stops++;
  }
}

type Boot = (ctx: BootContext) => Promise<LeaderCore>;

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Tabs of one profile sharing fake Web Locks and one fake channel. */
function browserWithLocks() {
  const locks = new FakeLocks();
  const bus = new FakeBus<LeadershipMessage<MessengerState>>();
  const open = (tab: string, boot: Boot) => {
    const leadership = new TabLeadership<MessengerState>({ lockName: 'petrel:p:core', tabId: tab, locks: locks.forTab(tab), channel: bus.channel(tab), logger: silentLogger });
    const tabbed = new TabbedMessenger(leadership, boot);
    void tabbed.start();
    return tabbed;
  };
  return { locks, open };
}

const coreOf = (state: Partial<MessengerState> = {}) => new FakeCore(new FakeMessenger(readyState(state)));

describe('a tab whose storage fails while opening', () => {
  it('shows failed with the storage state, rejects nothing unhandled, and hands the lock to the next tab', async () => {
    const w = browserWithLocks();
    const a = w.open('a', async ({ health }) => {
      health.set('quota_exceeded');
      throw new StorageFailureError('no space');
    });
    const bCore = coreOf();
    const b = w.open('b', async () => bCore);
    await settle();
    expect(a.getState()).toMatchObject({ phase: 'failed', storage: { state: 'quota_exceeded' } });
    // a gave the lock up: b leads and runs its core.
    expect(w.locks.heldBy()).toBe('b');
    expect(b.getState().phase).toBe('ready');
    await expect(a.send('x', 'hi')).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('IndexedDB missing altogether (the open throws before any storage state): failed, storage ok', async () => {
    const w = browserWithLocks();
    const a = w.open('a', async () => {
      throw new ReferenceError('indexedDB is not defined');
    });
    await settle();
    expect(a.getState()).toMatchObject({ phase: 'failed', storage: { state: 'ok' } });
    expect(w.locks.heldBy()).toBeUndefined();
  });

  it('a blocked open shows `blocked` while it waits, then the core once the other tab lets go', async () => {
    const w = browserWithLocks();
    const open = deferred<LeaderCore>();
    let health: BootContext['health'] | undefined;
    const a = w.open('a', async (ctx) => {
      health = ctx.health;
      ctx.health.set('blocked');
      return open.promise;
    });
    const seen: string[] = [];
    a.subscribe(() => seen.push(`${a.getState().phase}/${a.getState().storage.state}`));
    await settle();
    expect(a.getState()).toMatchObject({ phase: 'loading', storage: { state: 'blocked' } });
    health!.recordSuccess();
    open.resolve(coreOf());
    await settle();
    expect(a.getState()).toMatchObject({ phase: 'ready', storage: { state: 'ok' } });
    expect(seen).toContain('loading/blocked');
  });

  it('a blocked open that gives up: failed with `blocked` (the screen says to close the other tabs)', async () => {
    const w = browserWithLocks();
    const a = w.open('a', async ({ health }) => {
      health.set('blocked');
      throw new StorageBlockedError();
    });
    await settle();
    expect(a.getState()).toMatchObject({ phase: 'failed', storage: { state: 'blocked' } });
    expect(w.locks.heldBy()).toBeUndefined();
  });

  it('a core that starts in phase failed (its first read failed) is stopped and gives up the lock', async () => {
    const w = browserWithLocks();
    const core = coreOf({ phase: 'failed', me: undefined });
    const a = w.open('a', async () => core);
    await settle();
    expect(a.getState().phase).toBe('failed');
    expect(core.stops).toBe(1);
    expect(w.locks.heldBy()).toBeUndefined();
  });
});

describe('a running core whose storage goes away', () => {
  for (const gone of ['version_changed', 'closed'] as const) {
    it(`${gone}: stops the core, releases the lock, keeps the conversations on screen with the storage state`, async () => {
      const w = browserWithLocks();
      const aCore = coreOf();
      const a = w.open('a', async () => aCore);
      const bCore = coreOf();
      const b = w.open('b', async () => bCore);
      await settle();
      expect(w.locks.heldBy()).toBe('a');
      expect(b.getState().phase).toBe('follower');

      aCore.api.set({ storage: { state: gone } });
      await settle();
      expect(aCore.stops).toBe(1);
      expect(a.getState()).toMatchObject({ phase: 'ready', storage: { state: gone }, me: { displayName: 'Alice' } });
      await expect(a.send('x', 'hi')).rejects.toBeInstanceOf(NotLeaderError);
      // The other tab takes over with its own core.
      expect(w.locks.heldBy()).toBe('b');
      expect(b.getState().phase).toBe('ready');
    });
  }

  it('quota_exceeded keeps the core running (the next successful write clears it)', async () => {
    const w = browserWithLocks();
    const core = coreOf();
    const a = w.open('a', async () => core);
    await settle();
    core.api.set({ storage: { state: 'quota_exceeded' } });
    await settle();
    expect(core.stops).toBe(0);
    expect(a.getState()).toMatchObject({ phase: 'ready', storage: { state: 'quota_exceeded' } });
    expect(w.locks.heldBy()).toBe('a');
  });
});
