/**
 * TabbedMessenger with fake tabs: fake Web Locks and BroadcastChannel (the leadership
 * fakes), fake cores (the app's FakeMessenger). What is checked is what a person would
 * see in each tab, which tab runs a core, and who holds the lock.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TabLeadership, type LeadershipMessage, type TabChannel } from '../../src/core/leadership.ts';
import { silentLogger } from '../../src/core/log.ts';
import { NotLeaderError } from '../../src/core/messenger/errors.ts';
import type { MessengerState } from '../../src/core/messenger/messenger-api.ts';
import { StorageBlockedError, StorageFailureError } from '../../src/core/store/errors.ts';
import { LOCK_ANSWER_WINDOW_MS, LOCK_RETRY_MS } from '../../src/platform/channel-locks.ts';
import { createTabLeadership } from '../../src/platform/tab-leadership.ts';
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

describe('without Web Locks', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Tabs of a browser with BroadcastChannel (one fake bus per channel name) but no Web Locks. */
  function browserWithoutLocks() {
    const buses = new Map<string, FakeBus<unknown>>();
    const bus = (name: string) => {
      let b = buses.get(name);
      if (!b) buses.set(name, (b = new FakeBus<unknown>()));
      return b;
    };
    const cores = new Map<string, FakeCore>();
    const tabs = new Map<string, TabbedMessenger>();
    const open = (tab: string) => {
      const channel = <M,>(name: string) => bus(name).channel(tab) as TabChannel<M>;
      const leadership = createTabLeadership<MessengerState>({ profile: 'p', tabId: tab, logger: silentLogger, locks: null, channel });
      const tabbed = new TabbedMessenger(leadership, async () => {
        const core = coreOf({ me: { displayName: `core of ${tab}`, id: 'aa'.repeat(32), inviteUrl: 'https://petrel.test/#invite=x' } });
        cores.set(tab, core);
        return core;
      });
      tabs.set(tab, tabbed);
      void tabbed.start();
      return tabbed;
    };
    const running = () => [...cores].filter(([, c]) => c.stops === 0).map(([t]) => t);
    /** The tab dies without a word (nothing released, nothing posted). */
    const crash = (tab: string) => {
      for (const b of buses.values()) b.kill(tab);
      cores.delete(tab);
      tabs.delete(tab);
    };
    return { open, running, crash, tabs };
  }

  const pass = async (ms: number) => {
    await vi.advanceTimersByTimeAsync(ms);
    await settle();
  };

  it('a second tab sees "open in another tab" and mirrors the first instead of running a core', async () => {
    const w = browserWithoutLocks();
    const a = w.open('a');
    await pass(1_000);
    expect(w.running()).toEqual(['a']);
    expect(a.getState().phase).toBe('ready');

    const b = w.open('b');
    await pass(10_000);
    expect(w.running()).toEqual(['a']);
    expect(b.getState()).toMatchObject({ phase: 'follower', me: { displayName: 'core of a' } });
    await expect(b.send('x', 'hi')).rejects.toBeInstanceOf(NotLeaderError);
  });

  it('tabs opened in the same moment agree on one core', async () => {
    const w = browserWithoutLocks();
    const tabs = ['t3', 't1', 't2'].map((t) => w.open(t));
    await pass(10_000);
    expect(w.running()).toEqual(['t1']);
    expect(tabs.map((t) => t.getState().phase).sort()).toEqual(['follower', 'follower', 'ready']);
  });

  it('when the leading tab closes, a waiting tab takes over', async () => {
    const w = browserWithoutLocks();
    const a = w.open('a');
    await pass(1_000);
    const b = w.open('b');
    await pass(1_000);
    await a.stop();
    await pass(1_000);
    expect(w.running()).toEqual(['b']);
    expect(b.getState().phase).toBe('ready');
  });

  it('when the leading tab crashes (no goodbye), a waiting tab takes over on its next ask', async () => {
    const w = browserWithoutLocks();
    w.open('a');
    await pass(1_000);
    const b = w.open('b');
    await pass(1_000);
    w.crash('a');
    expect(b.getState().phase).toBe('follower');
    await pass(LOCK_RETRY_MS + LOCK_ANSWER_WINDOW_MS);
    expect(w.running()).toEqual(['b']);
    expect(b.getState().phase).toBe('ready');
  });

  it('without BroadcastChannel either, no core runs and the tab says it failed', async () => {
    const leadership = createTabLeadership<MessengerState>({ profile: 'p', logger: silentLogger, locks: null, channel: null });
    const boot = vi.fn(async () => coreOf());
    const tabbed = new TabbedMessenger(leadership, boot);
    await tabbed.start();
    await settle();
    expect(boot).not.toHaveBeenCalled();
    expect(tabbed.getState().phase).toBe('failed');
  });
});
