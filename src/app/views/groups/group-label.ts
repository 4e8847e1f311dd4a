import type { GroupView } from '../../../core/messenger/messenger-api.ts';
import { preview } from '../sidebar/contact-label.ts';

/** "Trip, group, 2 unread, last: see you there" — always beginning with the group's name. */
export function groupAccessibleName(g: GroupView): string {
  const parts = [g.name, 'group'];
  if (g.left) parts.push('not a member any more');
  if (g.members.some((m) => m.keyChanged)) parts.push('a member’s safety number changed');
  if (g.unread > 0) parts.push(`${g.unread} unread`);
  if (g.lastMessage) parts.push(`${g.lastMessage.direction === 'out' ? 'you' : 'last'}: ${preview(g.lastMessage.text)}`);
  return parts.join(', ');
}
