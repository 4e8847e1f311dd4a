import { useCallback, useEffect, useLayoutEffect, useRef, type RefObject } from 'react';
import type { MessageView } from '../../core/messenger/messenger-api.ts';
import { useDocumentVisible } from './useDocumentVisible.ts';

/** A row counts as seen once this share of it (or, for a tall one, of the viewport) is in view. */
export const SEEN_SHARE = 0.5;
const THRESHOLDS = [0, 0.25, 0.5, 0.75, 1];

/** An incoming message the user has not read yet. */
export const isUnreadIncoming = (m: MessageView): boolean => m.direction === 'in' && m.status !== 'read';

function inView(e: IntersectionObserverEntry): boolean {
  if (!e.isIntersecting) return false;
  if (e.intersectionRatio >= SEEN_SHARE) return true;
  return e.rootBounds !== null && e.intersectionRect.height >= e.rootBounds.height * SEEN_SHARE;
}

const pageVisible = () => document.visibilityState === 'visible';

/**
 * Reading means read: reports the newest unread incoming message that is on screen while
 * the page is visible (`onSeen`, which marks it and the older ones read). A message that
 * arrives while the reader is scrolled up, or while the tab is hidden, is not reported
 * until it is scrolled into view with the page visible. Rows are found by the
 * `data-unread` attribute (and named by `data-row-id`) inside `scroller`, the viewport.
 * Without IntersectionObserver nothing is reported: never read without being seen.
 */
export function useReadOnSight(
  scroller: RefObject<HTMLElement | null>,
  messages: readonly MessageView[],
  enabled: boolean,
  onSeen: (messageId: string) => Promise<void>,
): void {
  const visible = useDocumentVisible();
  const inSight = useRef(new Set<string>());
  const requested = useRef<string | undefined>(undefined);
  const observer = useRef<IntersectionObserver | undefined>(undefined);
  const latest = useRef({ messages, enabled, onSeen });
  useLayoutEffect(() => {
    latest.current = { messages, enabled, onSeen };
  });

  const flush = useCallback(() => {
    const { messages, enabled, onSeen } = latest.current;
    if (!enabled || !pageVisible() || inSight.current.size === 0) return;
    let newest: string | undefined;
    for (let i = messages.length - 1; i >= 0 && newest === undefined; i--) {
      const m = messages[i]!;
      if (isUnreadIncoming(m) && inSight.current.has(m.id)) newest = m.id;
    }
    if (newest === undefined || newest === requested.current) return;
    requested.current = newest;
    // A failure leaves it unread; the next change of sight, visibility or messages retries it.
    onSeen(newest).catch(() => {
      if (requested.current === newest) requested.current = undefined;
    });
  }, []);

  // Layout effects, in this order: the observer exists before the rows are handed to it.
  useLayoutEffect(() => {
    const root = scroller.current;
    if (!root || typeof IntersectionObserver === 'undefined') return;
    const seen = inSight.current;
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const id = (e.target as HTMLElement).dataset.rowId;
          if (id === undefined) continue;
          if (inView(e) && e.target.isConnected) seen.add(id);
          else seen.delete(id);
        }
        flush();
      },
      { root, threshold: THRESHOLDS },
    );
    observer.current = io;
    return () => {
      io.disconnect();
      observer.current = undefined;
      seen.clear();
    };
  }, [scroller, flush]);

  // After every render: the unread rows now in the DOM (observing one twice is a no-op).
  useLayoutEffect(() => {
    const io = observer.current;
    const root = scroller.current;
    if (!io || !root) return;
    for (const node of root.querySelectorAll<HTMLElement>('[data-unread]')) io.observe(node);
  });

  // New messages, the chat becoming readable (e.g. a request accepted) or the page visible again.
  useEffect(flush, [flush, messages, enabled, visible]);
}
