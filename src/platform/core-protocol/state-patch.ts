/**
 * The core's state as patches: what changed since the last state the other side has,
 * instead of the whole state (with the open chat's every message) on every change. The
 * core's projection keeps the view object of every row a write did not touch, so what
 * changed is told by identity: a field whose value is a new object, a message whose view
 * is a new object. Applying a patch keeps every other object, so the UI re-renders only
 * the rows that changed.
 *
 * A patch says which state it applies to (`base`, a count both sides keep); a patch for
 * another base is refused (`StatePatchMismatch`) and the receiver asks for a snapshot.
 */
import type { ChatDevice, ChatWindow, MessageView, MessengerState } from '../../core/messenger/messenger-api.ts';

type Field = Exclude<keyof MessengerState, 'chat'>;

/** The open chat: a whole window (another chat, or none before), or its changed rows. */
export type ChatPatch =
  | { readonly k: 'none' }
  | { readonly k: 'window'; readonly window: ChatWindow }
  | {
      readonly k: 'rows';
      readonly hasOlder: boolean;
      /** Every shown message's id, oldest first: the window's order after the patch. */
      readonly ids: readonly string[];
      /** The messages that are new or changed. */
      readonly rows: readonly MessageView[];
      /** The contact's devices as the window names them now (absent: none). */
      readonly devices?: readonly ChatDevice[];
    };

export interface StatePatch {
  /** The version of the state this patch applies to; the result is `base + 1`. */
  readonly base: number;
  /** Fields with a new value (a field absent from the state now is listed in `unset`). */
  readonly set: Partial<Pick<MessengerState, Field>>;
  readonly unset: readonly Field[];
  /** Absent: the chat is unchanged. */
  readonly chat?: ChatPatch;
}

export class StatePatchMismatch extends Error {
  override readonly name = 'StatePatchMismatch';
}

/** What turns `prev` (version `base`) into `next`; undefined when nothing changed. */
export function diffState(prev: MessengerState, next: MessengerState, base: number): StatePatch | undefined {
  const set: Partial<Record<Field, unknown>> = {};
  const unset: Field[] = [];
  const fields = new Set([...Object.keys(prev), ...Object.keys(next)] as (keyof MessengerState)[]);
  for (const f of fields) {
    if (f === 'chat' || prev[f] === next[f]) continue;
    if (next[f] === undefined) unset.push(f);
    else set[f] = next[f];
  }
  const chat = diffChat(prev.chat, next.chat);
  if (!chat && unset.length === 0 && Object.keys(set).length === 0) return undefined;
  return { base, set: set as StatePatch['set'], unset, ...(chat ? { chat } : {}) };
}

function diffChat(prev: ChatWindow | undefined, next: ChatWindow | undefined): ChatPatch | undefined {
  if (prev === next) return undefined;
  if (!next) return { k: 'none' };
  if (!prev || prev.contactId !== next.contactId) return { k: 'window', window: next };
  const before = new Map(prev.messages.map((m) => [m.id, m]));
  const rows = next.messages.filter((m) => before.get(m.id) !== m);
  const sameOrder = prev.messages.length === next.messages.length && prev.messages.every((m, i) => next.messages[i]!.id === m.id);
  const sameDevices = JSON.stringify(prev.devices ?? []) === JSON.stringify(next.devices ?? []);
  if (rows.length === 0 && sameOrder && prev.hasOlder === next.hasOlder && sameDevices) return undefined;
  return { k: 'rows', hasOlder: next.hasOlder, ids: next.messages.map((m) => m.id), rows, ...(next.devices ? { devices: next.devices } : {}) };
}

/** `state` (version `version`) with `patch` applied; throws StatePatchMismatch when it is for another version. */
export function applyStatePatch(state: MessengerState, version: number, patch: StatePatch): MessengerState {
  if (patch.base !== version) throw new StatePatchMismatch(`patch for state ${patch.base}, have ${version}`);
  const next: Record<string, unknown> = { ...state, ...patch.set };
  for (const f of patch.unset) delete next[f];
  const chat = patch.chat;
  if (chat?.k === 'none') delete next.chat;
  else if (chat?.k === 'window') next.chat = chat.window;
  else if (chat?.k === 'rows') {
    const prev = state.chat;
    if (!prev) throw new StatePatchMismatch('rows for no open chat');
    const known = new Map(prev.messages.map((m) => [m.id, m]));
    for (const m of chat.rows) known.set(m.id, m);
    const messages = chat.ids.map((id) => {
      const m = known.get(id);
      if (!m) throw new StatePatchMismatch(`message ${id} neither shown nor sent`);
      return m;
    });
    next.chat = { contactId: prev.contactId, ...(prev.group ? { group: true as const } : {}), messages, hasOlder: chat.hasOlder, ...(chat.devices ? { devices: chat.devices } : {}) };
  }
  return next as unknown as MessengerState;
}
