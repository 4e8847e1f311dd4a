import type { ContactView, GroupView } from '../../../core/messenger/messenger-api.ts';

/**
 * The contacts that may be put in a group: accepted ones (not a message request), not
 * blocked, not in an ended conversation, with a name — and not already in `group`.
 */
export function groupCandidates(contacts: readonly ContactView[], group?: GroupView): ContactView[] {
  const inGroup = new Set(group?.members.map((m) => m.id));
  return contacts.filter((c) => !c.request && !c.blocked && !c.ended && !c.unnamed && !inGroup.has(c.id));
}

/** Why we are no longer in the group, from its system lines (the newest that says): removed, or left. */
export function departure(lines: readonly { readonly system?: true; readonly text: string }[]): 'removed' | 'left' {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.system) continue;
    // The core names us "You" among the removed ("Ada removed Bo, You").
    const removed = /\bremoved (.+)$/u.exec(line.text)?.[1];
    if (removed?.split(', ').some((name) => name.toLowerCase() === 'you')) return 'removed';
    if (/^you left\b/i.test(line.text)) return 'left';
  }
  return 'left';
}

/** "3 members" — the group's size, for its header. */
export function memberSummary(group: GroupView): string {
  const n = group.members.length;
  return `${n} ${n === 1 ? 'member' : 'members'}`;
}
