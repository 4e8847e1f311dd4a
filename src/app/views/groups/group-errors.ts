/** Words for the group commands' refusals (the core's typed error kinds). */
const WORDS: Readonly<Record<string, string>> = {
  group_too_large: 'A group can have at most 1,000 members, you included.',
  unknown_contact: 'One of the people you chose is no longer among your contacts.',
  not_group_admin: 'Only the group’s admins can do that.',
  invalid_text: 'A group name needs 1 to 64 characters.',
  contact_blocked: 'One of the people you chose is blocked.',
  not_leader: 'Petrel is open in another tab: do this there.',
  unknown_group: 'You are no longer in this group.',
  not_in_groups: 'That cannot be done in a group yet.',
};

export function groupErrorText(err: unknown, fallback: string): string {
  const kind = (err as { kind?: unknown } | null)?.kind;
  return (typeof kind === 'string' && WORDS[kind]) || fallback;
}
