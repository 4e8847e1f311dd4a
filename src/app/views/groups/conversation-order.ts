import type { ContactView, GroupView } from '../../../core/messenger/messenger-api.ts';

/** One entry of the conversation list: a contact's chat or a group's. */
export type Conversation = { readonly kind: 'contact'; readonly contact: ContactView } | { readonly kind: 'group'; readonly group: GroupView };

const lastAt = (c: Conversation): number => (c.kind === 'contact' ? c.contact.lastMessage?.at : c.group.lastMessage?.at) ?? -Infinity;

/**
 * Contacts and groups in one list, most recent first. Each list comes sorted from the
 * core; they are merged (not re-sorted), so the core's order within each is kept, and at
 * equal times a contact comes before a group.
 */
export function mergeConversations(contacts: readonly ContactView[], groups: readonly GroupView[]): Conversation[] {
  const out: Conversation[] = [];
  let i = 0;
  let j = 0;
  while (i < contacts.length || j < groups.length) {
    const c: Conversation | undefined = i < contacts.length ? { kind: 'contact', contact: contacts[i]! } : undefined;
    const g: Conversation | undefined = j < groups.length ? { kind: 'group', group: groups[j]! } : undefined;
    if (c && (!g || lastAt(c) >= lastAt(g))) {
      out.push(c);
      i++;
    } else {
      out.push(g!);
      j++;
    }
  }
  return out;
}
