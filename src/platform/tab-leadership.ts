/**
 * Browser adapters for the core's one-active-tab rule (`src/core/leadership.ts`):
 * Web Locks for the exclusive lock and BroadcastChannel for following the leader.
 *
 * The lock is requested with a callback that returns a promise we resolve only on
 * `release()`: the lock is held for the tab's life, and the browser releases it when
 * the tab closes or crashes, which grants it to the next waiting tab.
 */
import { TabLeadership, type HeldLock, type LeadershipMessage, type TabChannel, type TabLocks } from '../core/leadership.ts';
import type { Logger } from '../core/log.ts';

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

/** The leadership of this tab for a profile (lock `petrel:<profile>:core`, channel `petrel:<profile>:tabs`). */
export function createTabLeadership<S>(opts: { readonly profile: string; readonly logger: Logger; readonly tabId?: string; readonly locks?: LockManager }): TabLeadership<S> {
  return new TabLeadership<S>({
    lockName: `petrel:${opts.profile}:core`,
    tabId: opts.tabId ?? crypto.randomUUID(),
    locks: webLocks(opts.locks),
    channel: broadcastChannel<LeadershipMessage<S>>(`petrel:${opts.profile}:tabs`),
    logger: opts.logger,
  });
}
