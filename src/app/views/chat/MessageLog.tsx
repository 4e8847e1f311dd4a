import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { MessageView } from '../../../core/messenger/messenger-api.ts';
import { RowVirtualizer } from '../../components/row-virtualizer.ts';
import { useNow } from '../../hooks/useNow.ts';
import { isUnreadIncoming, useReadOnSight } from '../../hooks/useReadOnSight.ts';
import { MessageRow } from './MessageRow.tsx';

/** Within this distance of the bottom the log follows new messages. */
export const STICK_TO_BOTTOM_SLACK_PX = 48;
/** Older messages are requested once the user scrolls this close to the top. */
export const LOAD_OLDER_EDGE_PX = 240;
const MINUTE_MS = 60_000;

export interface MessageLogProps {
  readonly messages: readonly MessageView[];
  readonly hasOlder: boolean;
  readonly peerName: string;
  readonly onLoadOlder: () => Promise<void>;
  /** Seen messages may be marked read (the chat is shown, not a message request, not a follower tab). */
  readonly canRead: boolean;
  /** The reader saw this incoming message: mark it and the older ones read. */
  readonly onSeen: (messageId: string) => Promise<void>;
  /** A group's chat: incoming messages carry their sender's name. */
  readonly group?: boolean;
  /** Nothing can be sent in this chat (a group we left): message actions are limited to Delete for me and Details. */
  readonly readOnly?: boolean;
  /** The chat was just opened and the core has not loaded its messages yet (none is not "no messages yet"). */
  readonly loading?: boolean;
}

/** In a group, the sender's name heads an incoming message unless the one before came from the same sender. */
export function startsSenderRun(messages: readonly MessageView[], index: number): boolean {
  const m = messages[index];
  if (!m || m.direction !== 'in' || m.system) return false;
  const prev = messages[index - 1];
  return !prev || prev.system === true || prev.direction !== 'in' || prev.senderId !== m.senderId;
}

/** Space kept above the first unread message when the chat opens there. */
const DIVIDER_MARGIN_PX = 8;

/**
 * The conversation, virtualised: only the rows in view (plus overscan) are in the
 * DOM. It follows new messages while the user is at the bottom, keeps the reading
 * position when older ones are prepended, and asks for older ones near the top.
 * Opened with unread messages, it shows the first of them under an "Unread messages"
 * divider; messages are read only once seen (useReadOnSight); away from the bottom,
 * "Jump to latest" says how many unread messages wait.
 */
export function MessageLog({ messages, hasOlder, peerName, onLoadOlder, canRead, onSeen, group = false, readOnly = false, loading = false }: MessageLogProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [virtualizer] = useState(() => new RowVirtualizer());
  const win = useSyncExternalStore(virtualizer.subscribe, virtualizer.getWindow);
  const stick = useRef(true);
  const loadingOlder = useRef(false);
  const [awayFromBottom, setAwayFromBottom] = useState(false);
  const now = useNow(true, MINUTE_MS);
  const ids = useMemo(() => messages.map((m) => m.id), [messages]);
  const waiting = useMemo(() => messages.filter(isUnreadIncoming).length, [messages]);
  useReadOnSight(scroller, messages, canRead, onSeen);

  // The first unread message when the chat's messages first showed (null: none), kept
  // while the chat is open; the log opens there instead of at the bottom.
  const [divider, setDivider] = useState<string | null | undefined>(undefined);
  if (divider === undefined && messages.length > 0) setDivider(messages.find(isUnreadIncoming)?.id ?? null);
  /** The log has been brought to the divider (once, when the chat opened). */
  const atDivider = useRef(false);

  const syncViewport = useCallback(() => {
    const el = scroller.current;
    if (el) virtualizer.setViewport(el.scrollTop, el.clientHeight);
  }, [virtualizer]);

  /** Follows the bottom when sticking, otherwise shifts by `delta` to stay anchored. */
  const keepPosition = useCallback(
    (delta: number) => {
      const el = scroller.current;
      if (!el) return;
      if (stick.current) el.scrollTop = el.scrollHeight;
      else if (delta !== 0) el.scrollTop += delta;
      syncViewport();
    },
    [syncViewport],
  );

  const measureRows = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    const rows: Array<[string, number]> = [];
    for (const node of el.querySelectorAll<HTMLElement>('[data-row-id]')) rows.push([node.dataset.rowId ?? '', node.offsetHeight]);
    const { changed, aboveDelta } = virtualizer.measure(rows);
    // Rows just rendered (e.g. a new message at the end) can grow the content without a
    // measurement change: a log following the bottom must follow that too.
    const belowBottom = el.scrollHeight - el.scrollTop - el.clientHeight > 1;
    if (changed || (stick.current && belowBottom)) keepPosition(aboveDelta);
  }, [virtualizer, keepPosition]);

  // A message the user just wrote brings the log to the bottom, wherever they were.
  const newest = messages[messages.length - 1];
  const justSent = newest?.direction === 'out' && newest.status === 'queued' ? newest.id : undefined;
  useLayoutEffect(() => {
    if (justSent) stick.current = true;
  }, [justSent]);

  useLayoutEffect(() => {
    keepPosition(virtualizer.setRows(ids));
  }, [ids, virtualizer, keepPosition]);

  // After every render: measure the rows just put in the DOM (cheap, only the window).
  useLayoutEffect(measureRows);

  // Opening at the divider: bring its row into the window (estimated offset), then align it.
  useLayoutEffect(() => {
    const el = scroller.current;
    const id = divider;
    if (atDivider.current || !el || !id) return;
    const node = el.querySelector<HTMLElement>(`[data-row-id="${CSS.escape(id)}"]`);
    if (node) {
      atDivider.current = true;
      el.scrollTop += node.getBoundingClientRect().top - el.getBoundingClientRect().top - DIVIDER_MARGIN_PX;
    } else {
      el.scrollTop = virtualizer.offsetOf(ids.indexOf(id));
    }
    // Everything after the divider may fit: then the log is at the bottom and follows it.
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight <= STICK_TO_BOTTOM_SLACK_PX;
    setAwayFromBottom(!stick.current);
    syncViewport();
  }, [divider, win, ids, virtualizer, syncViewport]);

  useEffect(() => {
    const el = scroller.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      syncViewport();
      measureRows();
      if (stick.current) keepPosition(0);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [syncViewport, measureRows, keepPosition]);

  const requestOlder = useCallback(() => {
    if (!hasOlder || loadingOlder.current) return;
    loadingOlder.current = true;
    onLoadOlder()
      .catch(() => undefined)
      .finally(() => {
        loadingOlder.current = false;
      });
  }, [hasOlder, onLoadOlder]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight <= STICK_TO_BOTTOM_SLACK_PX;
    setAwayFromBottom(!stick.current);
    syncViewport();
    if (el.scrollTop <= LOAD_OLDER_EDGE_PX) requestOlder();
  };

  const jumpToLatest = () => {
    stick.current = true;
    setAwayFromBottom(false);
    keepPosition(0);
  };

  const shown = messages.slice(win.start, win.end);
  return (
    <div className="message-log-frame">
      {hasOlder && (
        <button type="button" className="message-log-older" onClick={requestOlder}>
          Load older messages
        </button>
      )}
      {messages.length === 0 && !loading && <p className="message-log-empty">No messages yet. Say hello!</p>}
      <div ref={scroller} className="message-log" role="log" aria-label="Messages" aria-live="off" tabIndex={0} onScroll={onScroll}>
        <div role="list" className="message-list" style={{ paddingTop: win.padTop, paddingBottom: win.padBottom }}>
          {shown.map((m, i) => (
            <MessageRow
              key={m.id}
              message={m}
              peerName={peerName}
              position={win.start + i + 1}
              count={hasOlder ? -1 : messages.length}
              now={now}
              unreadDivider={m.id === divider}
              group={group}
              readOnly={readOnly}
              showSender={group && startsSenderRun(messages, win.start + i)}
            />
          ))}
        </div>
      </div>
      {/* In the flow below the log, not over it: it never covers the last message. */}
      {awayFromBottom && (
        <div className="message-log-latest">
          <button type="button" onClick={jumpToLatest} aria-label={waiting > 0 ? `Jump to latest, ${waiting} new ${waiting === 1 ? 'message' : 'messages'}` : undefined}>
            Jump to latest
            {waiting > 0 && <span className="message-log-waiting">{waiting} new</span>}
          </button>
        </div>
      )}
    </div>
  );
}
