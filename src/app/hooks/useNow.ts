/**
 * The wall clock as React state, ticking while a component needs it (countdowns).
 * One shared ticker per interval; it runs only while something is subscribed.
 */
import { useSyncExternalStore } from 'react';

export const SECOND_MS = 1000;

interface Ticker {
  subscribe(listener: () => void): () => void;
  now(): number;
}

function createTicker(intervalMs: number): Ticker {
  const listeners = new Set<() => void>();
  let current = Date.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    current = Date.now();
    for (const l of listeners) l();
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      current = Date.now();
      if (!timer) timer = setInterval(tick, intervalMs);
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0 && timer) {
          clearInterval(timer);
          timer = undefined;
        }
      };
    },
    // While nothing subscribes the ticker is stopped and `current` goes stale; a first render
    // happens before its subscription, so it reads a fresh time then. The value still holds
    // for a whole interval, so reading it twice in one render gives the same answer.
    now: () => {
      if (!timer && Date.now() - current >= intervalMs) current = Date.now();
      return current;
    },
  };
}

const tickers = new Map<number, Ticker>();

function tickerFor(intervalMs: number): Ticker {
  let t = tickers.get(intervalMs);
  if (!t) tickers.set(intervalMs, (t = createTicker(intervalMs)));
  return t;
}

const noSubscription = () => () => {};

/** Milliseconds since the epoch, refreshed every `intervalMs` while `enabled`. */
export function useNow(enabled: boolean, intervalMs = SECOND_MS): number {
  const ticker = tickerFor(intervalMs);
  return useSyncExternalStore(enabled ? ticker.subscribe : noSubscription, ticker.now);
}
