/**
 * Actions (edit, delete, react) that arrived before the message they change — another path
 * or an earlier envelope overtook it. They are HELD, durably, in one meta record written in
 * the same transaction as the receive that held them, and applied (by the same rules) in the
 * transaction that stores their target. A held action whose target never comes is dropped
 * once it could no longer be applied (older than the 24 h window plus the skew tolerance),
 * and at most MAX_HELD_ACTIONS are kept (the oldest go first).
 */
import { ACTION_WINDOW_MS, CLOCK_SKEW_MS, type MessageAction } from './message-actions.ts';

export const HELD_ACTIONS_KEY = 'heldActions';
export const MAX_HELD_ACTIONS = 256;

export interface HeldAction {
  readonly action: MessageAction;
  /** The receiver's clock when it arrived. */
  readonly heldAt: number;
  /** The group it came in (group actions only, held under their own key: group-action-commit.ts). */
  readonly chat?: string;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function parseAction(v: unknown): MessageAction | undefined {
  const a = v as Record<string, unknown> | null;
  if (!a || !isStr(a.id) || !isStr(a.target) || !isStr(a.by) || !isNum(a.at)) return undefined;
  const base = { id: a.id, target: a.target, by: a.by, at: a.at };
  if (a.kind === 'edit' && isStr(a.text)) return { kind: 'edit', ...base, text: a.text };
  if (a.kind === 'delete') return { kind: 'delete', ...base };
  if (a.kind === 'react' && isStr(a.emoji)) return { kind: 'react', ...base, emoji: a.emoji };
  return undefined;
}

/** The held actions in a stored meta value (anything unreadable is left out). */
export function readHeld(value: unknown): HeldAction[] {
  if (typeof value !== 'string') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  const out: HeldAction[] = [];
  for (const h of parsed) {
    const action = parseAction((h as { action?: unknown } | null)?.action);
    const heldAt = (h as { heldAt?: unknown } | null)?.heldAt;
    const chat = (h as { chat?: unknown } | null)?.chat;
    if (action && isNum(heldAt)) out.push({ action, heldAt, ...(isStr(chat) ? { chat } : {}) });
  }
  return out;
}

/** What to store: the actions still worth holding at `now`, the newest MAX_HELD_ACTIONS. */
export function writeHeld(held: readonly HeldAction[], now: number): string {
  const alive = held.filter((h) => now - h.heldAt <= ACTION_WINDOW_MS + CLOCK_SKEW_MS);
  return JSON.stringify(alive.slice(Math.max(0, alive.length - MAX_HELD_ACTIONS)));
}
