/**
 * Browser adapters for the core's one-active-tab rule (`src/core/leadership.ts`):
 * Web Locks for the exclusive lock and BroadcastChannel for following the leader.
 *
 * The lock is requested with a callback that returns a promise we resolve only on
 * `release()`: the lock is held for the tab's life, and the browser releases it when
 * the tab closes or crashes, which grants it to the next waiting tab. Browsers without
 * Web Locks fall back to `channelLocks` (see there for what that guarantees).
 */
import { TabLeadership, type HeldLock, type LeadershipMessage, type TabChannel, type TabLocks } from '../core/leadership.ts';
import type { Logger } from '../core/log.ts';
import { channelLocks, type ChannelLockMessage } from './channel-locks.ts';

export class LocksUnavailableError extends Error {
  constructor() {
    super('Web Locks are not available in this browser');
    this.name = 'LocksUnavailableError';
  }
}

export function webLocks(locks: LockManager | undefined = typeof navigator !== 'undefined' ? navigator.locks : undefined): TabLocks {
  return {
    acquire(name, signal) {
      if (!locks) return Promise.reject(new LocksUnavailableError());
      return new Promise<HeldLock>((resolve, reject) => {
        locks
          .request(name, { mode: 'exclusive', signal }, () => new Promise<void>((release) => resolve({ release: () => release() })))
          .catch(reject);
      });
    },
  };
}

export function broadcastChannel<M>(name: string): TabChannel<M> {
  const channel = new BroadcastChannel(name);
  const listeners = new Set<(m: M) => void>();
  channel.onmessage = (event: MessageEvent<M>) => {
    for (const l of listeners) l(event.data);
  };
  return {
    post: (m) => channel.postMessage(m),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () => channel.close(),
  };
}

/** A channel that reaches nobody (no BroadcastChannel here). */
function deafChannel<M>(): TabChannel<M> {
  return { post: () => undefined, subscribe: () => () => undefined, close: () => undefined };
}

export interface TabLeadershipOptions {
  readonly profile: string;
  readonly logger: Logger;
  readonly tabId?: string;
  /** Defaults to `navigator.locks`; `null` means none (as in a browser without Web Locks). */
  readonly locks?: LockManager | null;
  /** Defaults to `BroadcastChannel` when the browser has it; `null` means none. */
  readonly channel?: (<M>(name: string) => TabChannel<M>) | null;
}

/** The Web Lock whose holder runs a profile's messaging core (a tab, or the service worker woken by a push). */
export function coreLockName(profile: string): string {
  return `petrel:${profile}:core`;
}

/**
 * The leadership of this tab for a profile (lock `petrel:<profile>:core`, channel
 * `petrel:<profile>:tabs`). Without Web Locks the lock is agreed over the channel
 * `petrel:<profile>:lock` (`channelLocks`); without BroadcastChannel as well no tab can
 * tell whether another runs a core, so acquiring fails and the role is `failed`.
 */
export function createTabLeadership<S>(opts: TabLeadershipOptions): TabLeadership<S> {
  const tabId = opts.tabId ?? crypto.randomUUID();
  const locks = opts.locks === undefined ? (typeof navigator !== 'undefined' ? navigator.locks : undefined) : (opts.locks ?? undefined);
  const channel = opts.channel === undefined ? (typeof BroadcastChannel !== 'undefined' ? broadcastChannel : undefined) : (opts.channel ?? undefined);
  let tabLocks: TabLocks;
  if (locks) tabLocks = webLocks(locks);
  else if (channel) {
    opts.logger.child('leadership').warn('no Web Locks: agreeing on the leader over BroadcastChannel');
    tabLocks = channelLocks({ tabId, channel: channel<ChannelLockMessage>(`petrel:${opts.profile}:lock`) });
  } else tabLocks = { acquire: () => Promise.reject(new LocksUnavailableError()) };
  return new TabLeadership<S>({
    lockName: coreLockName(opts.profile),
    tabId,
    locks: tabLocks,
    channel: channel ? channel<LeadershipMessage<S>>(`petrel:${opts.profile}:tabs`) : deafChannel(),
    logger: opts.logger,
  });
}
