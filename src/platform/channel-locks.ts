/**
 * An exclusive tab lock for browsers without Web Locks, agreed over a BroadcastChannel.
 *
 * A tab that wants the lock asks (`ping`) and listens for a short answer window: the
 * holder answers `held`, other tabs asking at the same moment answer `claim`. It takes
 * the lock only if nobody holds it and no asking tab has a smaller id (the tie-break, so
 * two tabs opened together do not both win). Otherwise it waits: the holder says `free`
 * when it releases, and a waiting tab asks again every `retryMs` anyway, since a tab that
 * crashed or was closed without releasing says nothing.
 *
 * This is weaker than Web Locks (no browser-side release on crash, and a holder that
 * stops answering for longer than the answer window could be taken over), but it keeps a
 * second core from starting in the ordinary cases: a second tab, a reload, two tabs
 * restored together.
 */
import type { HeldLock, TabChannel, TabLocks } from '../core/leadership.ts';

export type ChannelLockMessage =
  | { readonly t: 'ping'; readonly lock: string; readonly tab: string }
  | { readonly t: 'claim'; readonly lock: string; readonly tab: string }
  | { readonly t: 'held'; readonly lock: string; readonly tab: string }
  | { readonly t: 'free'; readonly lock: string; readonly tab: string };

export interface LockTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ChannelLocksOptions {
  readonly tabId: string;
  readonly channel: TabChannel<ChannelLockMessage>;
  /** How long an ask waits for the holder or a rival to answer. */
  readonly answerWindowMs?: number;
  /** How often a waiting tab asks again (the holder may have gone without a word). */
  readonly retryMs?: number;
  readonly timers?: LockTimers;
}

/** A BroadcastChannel answer between live tabs of one browser takes well under this. */
export const LOCK_ANSWER_WINDOW_MS = 300;
export const LOCK_RETRY_MS = 3_000;

const browserTimers: LockTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
};

function isLockMessage(m: unknown): m is ChannelLockMessage {
  if (typeof m !== 'object' || m === null) return false;
  const { t, lock, tab } = m as Record<string, unknown>;
  return (t === 'ping' || t === 'claim' || t === 'held' || t === 'free') && typeof lock === 'string' && typeof tab === 'string';
}

export function channelLocks(options: ChannelLocksOptions): TabLocks {
  const { tabId, channel } = options;
  const answerWindowMs = options.answerWindowMs ?? LOCK_ANSWER_WINDOW_MS;
  const retryMs = options.retryMs ?? LOCK_RETRY_MS;
  const timers = options.timers ?? browserTimers;

  return {
    acquire(name, signal) {
      return new Promise<HeldLock>((resolve, reject) => {
        if (signal.aborted) return reject(new DOMException('aborted', 'AbortError'));
        let state: 'asking' | 'waiting' | 'held' | 'done' = 'asking';
        let contested = false;
        let timer: unknown;
        const post = (t: ChannelLockMessage['t']) => channel.post({ t, lock: name, tab: tabId });
        const setTimer = (ms: number, fn: () => void) => {
          if (timer !== undefined) timers.clearTimeout(timer);
          timer = timers.setTimeout(() => {
            timer = undefined;
            fn();
          }, ms);
        };
        const ask = () => {
          state = 'asking';
          contested = false;
          post('ping');
          setTimer(answerWindowMs, () => (contested ? wait() : grant()));
        };
        const wait = () => {
          state = 'waiting';
          setTimer(retryMs, ask);
        };
        const grant = () => {
          state = 'held';
          signal.removeEventListener('abort', onAbort);
          resolve({
            release: () => {
              if (state !== 'held') return;
              state = 'done';
              unsubscribe();
              post('free');
            },
          });
        };
        const onAbort = () => {
          if (state === 'held' || state === 'done') return;
          state = 'done';
          if (timer !== undefined) timers.clearTimeout(timer);
          unsubscribe();
          reject(new DOMException('aborted', 'AbortError'));
        };
        const unsubscribe = channel.subscribe((m) => {
          if (!isLockMessage(m) || m.lock !== name || m.tab === tabId || state === 'done') return;
          switch (m.t) {
            case 'ping':
              if (state === 'held') post('held');
              else {
                post('claim');
                if (m.tab < tabId) contested = true;
              }
              return;
            case 'claim':
              if (m.tab < tabId) contested = true;
              return;
            case 'held':
              if (state === 'asking') {
                contested = true;
                wait();
              }
              return;
            case 'free':
              if (state === 'waiting') ask();
              return;
          }
        });
        signal.addEventListener('abort', onAbort);
        ask();
      });
    },
  };
}
