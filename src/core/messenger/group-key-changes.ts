/**
 * A member's identity key change, surfaced in the group as in 1:1 (key-change.ts). Members
 * who are our contacts and members who are not (their contact row is listed nowhere,
 * group-wiring.ts) are judged by the same rule: a key change or a claim to another
 * contact's name waits for the user's acknowledgement (`acknowledgeKeyChange`), and
 * meanwhile nothing is encrypted for that member (no sender key, no change, no receipt).
 *
 * In each group the member belongs to, the change gets ONE system line ("Cy's safety number
 * changed"), committed with the group's `keyChangeLines` mark so it is said once per
 * detection; the member view says `keyChanged` until it is acknowledged (group-views.ts).
 */
import { toHex } from '../bytes.ts';
import type { GroupRecord, MessageRecord } from '../store/index.ts';
import { isMember, memberIds, membershipOf, nameOf } from './group-membership.ts';
import { meOf, type GroupContext } from './group-ports.ts';

export const keyChangeLineText = (name: string): string => `${name}'s safety number changed`;

/** Writes the line for every member key change not yet said in a group we are in; returns how many. */
export async function noteKeyChanges(ctx: GroupContext): Promise<number> {
  const changes = ctx.ports.keyChanges();
  if (!changes.size) return 0;
  const me = meOf(ctx);
  const now = ctx.clock.now();
  const groups: GroupRecord[] = [];
  const lines: MessageRecord[] = [];
  for (const g of await ctx.store.listGroups()) {
    const state = membershipOf(g).state;
    if (!isMember(state, me)) continue;
    const said = new Set(g.keyChangeLines ?? []);
    let order = g.nextOrder;
    const added: string[] = [];
    for (const account of memberIds(state)) {
      if (account === me) continue;
      const at = changes.get(account);
      if (at === undefined || said.has(`${account}:${at}`)) continue;
      added.push(`${account}:${at}`);
      lines.push({ id: toHex(ctx.random.bytes(16)), contactId: g.id, direction: 'in', body: keyChangeLineText(nameOf(ctx, g, account)), sentAt: at, receivedAt: now, order: order++, status: 'read', updatedAt: now, system: true });
    }
    if (added.length) groups.push({ ...g, nextOrder: order, lastActivityAt: now, keyChangeLines: [...(g.keyChangeLines ?? []), ...added] });
  }
  if (!groups.length) return 0;
  await ctx.store.commit({ groups, messages: lines });
  ctx.metrics.inc('groups.key_change_line', {}, lines.length);
  return lines.length;
}
