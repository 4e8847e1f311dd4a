/**
 * Message actions in a group (edit, delete for everyone, react; docs/PROTOCOL.md §17.6),
 * inside the group commit's transaction (group-store.ts): each is judged again on its
 * target as committed (`judgeAction` with the group as the conversation, so only the
 * author edits or deletes for everyone, and only inside that group), and applied once — a
 * second copy finds it already applied and changes nothing.
 *
 * An action whose target is not stored yet (another member's message still on its way, or
 * held for its key) is HELD under its own meta key, `groupHeldActions` (kept apart from
 * the 1:1 ones, so a 1:1 message can never take a group action), and applied by the same
 * rules in the commit that stores its target. Held ones expire like the 1:1 ones
 * (held-actions.ts: 24 h + 10 min, at most 256).
 */
import type { BackendTx } from './backend.ts';
import { readHeld, writeHeld, type HeldAction } from './held-actions.ts';
import { judgeAction, type MessageAction } from './message-actions.ts';
import { blankQuotesOf } from './message-changes.ts';
import type { MessageRecord } from './records.ts';

export const GROUP_HELD_ACTIONS_KEY = 'groupHeldActions';

/** One action for the commit: what it does and the group it came in. */
export interface GroupActionCommit {
  readonly groupId: string;
  readonly action: MessageAction;
}

/**
 * Applies `actions` and the held actions whose target is among `written` (rows this commit
 * just put), at `now`. Runs after the commit's row writes, in the same transaction.
 */
export async function applyGroupActions(tx: BackendTx, actions: readonly GroupActionCommit[], written: readonly MessageRecord[], now: number): Promise<void> {
  const fresh = written.filter((m) => !m.system);
  if (!actions.length && !fresh.length) return;
  const meta = tx.table('meta');
  const record = await meta.get(GROUP_HELD_ACTIONS_KEY);
  let held: HeldAction[] = readHeld(record?.value);
  if (!actions.length && !held.length) return;
  const messages = tx.table('messages');
  let heldChanged = false;
  const deleted: MessageRecord[] = [];

  const apply = async (groupId: string, action: MessageAction): Promise<'applied' | 'hold' | 'refused'> => {
    const target = await messages.get(action.target);
    if (!target) return 'hold';
    if (target.contactId !== groupId) return 'refused';
    const verdict = judgeAction(target, action, now, groupId);
    if (!verdict.ok) return 'refused';
    if (verdict.changed) {
      await messages.put(verdict.row);
      if (verdict.row.deleted && !target.deleted) deleted.push(verdict.row);
    }
    return 'applied';
  };

  // Held actions whose target this commit stored: oldest (sender's clock) first.
  const ids = new Set(fresh.map((m) => m.id));
  const waiting = held.filter((h) => ids.has(h.action.target));
  if (waiting.length) {
    held = held.filter((h) => !ids.has(h.action.target));
    heldChanged = true;
    for (const h of waiting.sort((a, b) => a.action.at - b.action.at)) if (h.chat) await apply(h.chat, h.action);
  }
  for (const { groupId, action } of actions) {
    if ((await apply(groupId, action)) !== 'hold') continue;
    // A copy already held (the same action id) is not held twice.
    if (held.some((h) => h.action.id === action.id && h.action.by === action.by)) continue;
    held = [...held, { action, heldAt: now, chat: groupId }];
    heldChanged = true;
  }
  if (heldChanged) await meta.put({ key: GROUP_HELD_ACTIONS_KEY, value: writeHeld(held, now) });
  // Deleted for everyone: the replies quoting it lose the quoted text too.
  if (deleted.length) await blankQuotesOf(tx, deleted);
}
