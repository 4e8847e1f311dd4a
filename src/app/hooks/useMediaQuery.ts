import { useCallback, useSyncExternalStore } from 'react';

/** Whether a CSS media query matches now; `fallback` where `matchMedia` is missing. */
export function useMediaQuery(query: string, fallback = true): boolean {
  const subscribe = useCallback(
    (listener: () => void) => {
      if (typeof window.matchMedia !== 'function') return () => {};
      const list = window.matchMedia(query);
      list.addEventListener('change', listener);
      return () => list.removeEventListener('change', listener);
    },
    [query],
  );
  const getSnapshot = useCallback(() => (typeof window.matchMedia === 'function' ? window.matchMedia(query).matches : fallback), [query, fallback]);
  return useSyncExternalStore(subscribe, getSnapshot);
}

/** Sidebar and chat side by side from this width; one pane at a time below it. */
export const WIDE_LAYOUT_QUERY = '(min-width: 720px)';
