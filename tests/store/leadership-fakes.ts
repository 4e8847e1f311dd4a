/**
 * In-process fakes of Web Locks and BroadcastChannel with the browser's semantics that
 * matter here: an exclusive lock granted to waiters in request order, released when its
 * holder releases it or its tab dies; a channel that delivers asynchronously to every
 * other open channel of the same bus.
 */
import type { HeldLock, TabChannel, TabLocks } from '../../src/core/leadership.ts';

interface Waiter {
  readonly tab: string;
  readonly grant: (lock: HeldLock) => void;
}

export class FakeLocks {
  private holder: string | undefined;
  private readonly queue: Waiter[] = [];

  /** The tab currently holding the lock (one lock name is enough for these tests). */
  heldBy(): string | undefined {
    return this.holder;
  }

  forTab(tab: string, opts: { unavailable?: boolean } = {}): TabLocks {
    return {
      acquire: (_name, signal) =>
        new Promise<HeldLock>((resolve, reject) => {
          if (opts.unavailable) return reject(new Error('no locks'));
          const waiter: Waiter = { tab, grant: resolve };
          signal.addEventListener('abort', () => {
            const i = this.queue.indexOf(waiter);
            if (i >= 0) {
              this.queue.splice(i, 1);
              reject(new DOMException('aborted', 'AbortError'));
            }
          });
          this.queue.push(waiter);
          this.grantNext();
        }),
    };
  }

  /** The browser releases every lock of a tab that closed or crashed. */
  kill(tab: string): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.tab === tab) this.queue.splice(i, 1);
    if (this.holder === tab) {
      this.holder = undefined;
      this.grantNext();
    }
  }

  private grantNext(): void {
    if (this.holder !== undefined) return;
    const next = this.queue.shift();
    if (!next) return;
    this.holder = next.tab;
    let released = false;
    next.grant({
      release: () => {
        if (released || this.holder !== next.tab) return;
        released = true;
        this.holder = undefined;
        this.grantNext();
      },
    });
  }
}

export class FakeBus<M> {
  private readonly open = new Map<string, Set<(m: M) => void>>();

  channel(tab: string): TabChannel<M> {
    const listeners = new Set<(m: M) => void>();
    this.open.set(tab, listeners);
    return {
      post: (m) => {
        const copy = structuredClone(m);
        for (const [other, ls] of this.open) {
          if (other === tab) continue;
          queueMicrotask(() => {
            if (this.open.get(other) === ls) for (const l of ls) l(copy);
          });
        }
      },
      subscribe: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
      close: () => {
        if (this.open.get(tab) === listeners) this.open.delete(tab);
      },
    };
  }

  kill(tab: string): void {
    this.open.delete(tab);
  }
}

/** Lets queued microtasks and promise continuations run (no timers involved). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}
