/**
 * The one bridge between React and the messaging core: the provider hands the
 * `MessengerApi` down, `useMessengerState` subscribes to a slice of its state and
 * `useMessenger` gives access to the commands. No messaging logic lives here.
 */
import { createContext, useCallback, useContext, useMemo, useSyncExternalStore, type ReactNode } from 'react';
import type { MessengerApi, MessengerState } from '../core/messenger/messenger-api.ts';

const MessengerContext = createContext<MessengerApi | null>(null);

/** A messenger hook was used outside `<MessengerProvider>`. */
export class MissingMessengerProvider extends Error {
  override readonly name = 'MissingMessengerProvider';
  constructor() {
    super('useMessenger/useMessengerState need a <MessengerProvider messenger={…}> above them');
  }
}

export interface MessengerProviderProps {
  readonly messenger: MessengerApi;
  readonly children?: ReactNode;
}

export function MessengerProvider({ messenger, children }: MessengerProviderProps) {
  return <MessengerContext.Provider value={messenger}>{children}</MessengerContext.Provider>;
}

/** The messenger's commands (and `getState`/`subscribe` for the rare direct use). */
export function useMessenger(): MessengerApi {
  const messenger = useContext(MessengerContext);
  if (!messenger) throw new MissingMessengerProvider();
  return messenger;
}

export type Equality<T> = (a: T, b: T) => boolean;

/**
 * Memoises a selector over the messenger's state: the same state object yields the
 * same result, and a new result equal (by `isEqual`) to the previous one keeps the
 * previous identity, so components re-render only when their slice really changed.
 */
function memoSelector<T>(selector: (s: MessengerState) => T, isEqual: Equality<T>) {
  let last: { state: MessengerState; value: T } | undefined;
  return (state: MessengerState): T => {
    if (last && last.state === state) return last.value;
    const next = selector(state);
    const value = last && isEqual(last.value, next) ? last.value : next;
    last = { state, value };
    return value;
  };
}

/**
 * A slice of the messenger's state that re-renders the caller when it changes.
 * Pass a module-level (or memoised) selector; for selectors that build new arrays or
 * objects pass `shallow` (from `zustand/shallow`) as `isEqual`.
 */
export function useMessengerState<T>(selector: (s: MessengerState) => T, isEqual: Equality<T> = Object.is): T {
  const messenger = useMessenger();
  const select = useMemo(() => memoSelector(selector, isEqual), [selector, isEqual]);
  const subscribe = useCallback((listener: () => void) => messenger.subscribe(listener), [messenger]);
  const getSnapshot = useCallback(() => select(messenger.getState()), [messenger, select]);
  return useSyncExternalStore(subscribe, getSnapshot);
}
