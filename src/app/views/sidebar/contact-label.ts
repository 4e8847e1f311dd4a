import type { ContactView } from '../../../core/messenger/messenger-api.ts';
import { contactName } from '../contact-name.ts';

/** Longest last-message preview put into a contact's accessible name. */
export const PREVIEW_CHARS = 80;

export function preview(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > PREVIEW_CHARS ? `${oneLine.slice(0, PREVIEW_CHARS - 1)}…` : oneLine;
}

/** "Bob, verified, 2 unread, last: hi" — always beginning with the display name. */
export function contactAccessibleName(c: ContactView): string {
  const parts = [contactName(c)];
  if (c.keyChanged) parts.push(c.possibleKeyChangeOf !== undefined ? 'not your known contact, different key' : 'identity key changed');
  if (c.blocked) parts.push('blocked');
  if (c.ended) parts.push('conversation ended');
  if (c.verified) parts.push('verified');
  if (c.unread > 0) parts.push(`${c.unread} unread`);
  if (c.lastMessage) parts.push(`${c.lastMessage.direction === 'out' ? 'you' : 'last'}: ${preview(c.lastMessage.text)}`);
  return parts.join(', ');
}
