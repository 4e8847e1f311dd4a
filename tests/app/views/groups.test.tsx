// @vitest-environment happy-dom
/**
 * Groups in the app (issue 18), over the fake messenger: **New group** (name, a checkbox
 * per contact that can be in a group, **Create group**, refusals in words), groups in the
 * conversation list among contacts, the group chat (sender names per run, system lines,
 * per-member status details, read-only once left or removed, a member's key change), and
 * **Group info** (members, **Add members**, **Remove** and **Leave group** with their
 * confirmations, rename for admins).
 */
import { act, fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import type { MessageView } from '../../../src/core/messenger/messenger-api.ts';
import { mergeConversations } from '../../../src/app/views/groups/conversation-order.ts';
import { contact, message, readyState } from './fake-messenger.ts';
import { FakeGroupMessenger, group, member, systemLine } from './fake-groups.ts';
import { renderShell } from './render-shell.tsx';
import { stubSight } from './fake-sight.ts';

const ME = member({ id: 'aa'.repeat(32), name: 'Alice', admin: true, me: true });
const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob', lastMessage: { text: 'hey', at: 3_000, direction: 'in' } });
const CY = contact({ id: 'cc'.repeat(32), displayName: 'Cy', lastMessage: { text: 'yo', at: 1_000, direction: 'out' } });
const DAN = contact({ id: 'dd'.repeat(32), displayName: 'Dan', request: true });
const EVE = contact({ id: 'ee'.repeat(32), displayName: 'Eve', blocked: true });
const FAY = contact({ id: 'ff'.repeat(32), displayName: 'Fay', ended: true });
const GUS = contact({ id: '99'.repeat(32), displayName: 'Gus' });
const CONTACTS = [BOB, CY, DAN, EVE, FAY, GUS];

const TRIP_ID = '71'.repeat(16);
const TRIP = group({
  id: TRIP_ID,
  name: 'Trip',
  members: [ME, member({ id: BOB.id, name: 'Bob' }), member({ id: CY.id, name: 'Cy' })],
  lastMessage: { text: 'see you there', at: 2_000, direction: 'in' },
  unread: 2,
});

const conversations = () => screen.getByRole('heading', { name: 'Conversations' }).parentElement!;
const rows = () => within(screen.getByRole('log', { name: 'Messages' })).queryAllByRole('listitem');

function inGroup(messages: readonly MessageView[], g = TRIP) {
  return new FakeGroupMessenger(readyState({ contacts: CONTACTS, groups: [g], chat: { contactId: g.id, group: true, messages, hasOlder: false } }));
}

describe('New group', () => {
  it('offers a checkbox per contact that can be in a group, and creates it with the chosen ones; its chat opens', async () => {
    const fake = new FakeGroupMessenger(readyState({ contacts: CONTACTS }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'New group' }));
    const dialog = screen.getByRole('dialog', { name: 'New group' });
    const boxes = within(dialog).getAllByRole('checkbox');
    // Not a message request, not blocked, not an ended conversation.
    expect(boxes.map((b) => b.closest('label')!.textContent)).toEqual(['Bob', 'Cy', 'Gus']);
    fireEvent.change(within(dialog).getByLabelText('Group name'), { target: { value: '  Trip  ' } });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'Bob' }));
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'Gus' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create group' }));
    expect(fake.callsOf('createGroup')).toEqual([['Trip', [BOB.id, GUS.id]]]);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const chat = await screen.findByRole('region', { name: 'Trip' });
    expect(within(chat).getByText('3 members')).toBeTruthy();
    expect(within(conversations()).getByRole('button', { name: /^Trip, group/ }).getAttribute('aria-current')).toBe('true');
  });

  it('says what is missing (a name, a member) and creates nothing', async () => {
    const fake = new FakeGroupMessenger(readyState({ contacts: CONTACTS }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'New group' }));
    const dialog = screen.getByRole('dialog', { name: 'New group' });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'Bob' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create group' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Give the group a name.');
    fireEvent.change(within(dialog).getByLabelText('Group name'), { target: { value: 'Trip' } });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'Bob' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create group' }));
    expect(within(dialog).getByRole('alert').textContent).toMatch(/at least one contact/);
    expect(fake.callsOf('createGroup')).toEqual([]);
  });

  it("says the core's refusal in words and keeps the dialog as it was", async () => {
    const fake = new FakeGroupMessenger(readyState({ contacts: CONTACTS }));
    fake.refuseWith = 'group_too_large';
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'New group' }));
    const dialog = screen.getByRole('dialog', { name: 'New group' });
    fireEvent.change(within(dialog).getByLabelText('Group name'), { target: { value: 'Everyone' } });
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'Cy' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create group' }));
    expect((await within(dialog).findByRole('alert')).textContent).toMatch(/at most 1,000 members/);
    expect((within(dialog).getByRole('checkbox', { name: 'Cy' }) as HTMLInputElement).checked).toBe(true);
    expect(fake.getState().groups ?? []).toEqual([]);
  });

  it('without contacts to choose, says how to get some', () => {
    renderShell(new FakeGroupMessenger(readyState({ contacts: [DAN, EVE] })));
    fireEvent.click(screen.getByRole('button', { name: 'New group' }));
    const dialog = screen.getByRole('dialog', { name: 'New group' });
    expect(within(dialog).queryAllByRole('checkbox')).toEqual([]);
    expect(dialog.textContent).toMatch(/add a contact first/);
    expect((within(dialog).getByRole('button', { name: 'Create group' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('groups in the conversation list', () => {
  it('are merged among contacts, most recent first, with their unread count; opening one opens its chat', async () => {
    const fake = new FakeGroupMessenger(readyState({ contacts: CONTACTS.filter((c) => !c.request), groups: [TRIP] }));
    renderShell(fake);
    const names = within(conversations())
      .getAllByRole('button')
      .filter((b) => b.classList.contains('contact'))
      .map((b) => b.getAttribute('aria-label')!.split(',')[0]);
    expect(names).toEqual(['Bob', 'Trip', 'Cy', 'Eve', 'Fay', 'Gus']);
    const trip = within(conversations()).getByRole('button', { name: /^Trip, group, 2 unread, last: see you there$/ });
    expect(trip.textContent).toContain('2');
    fireEvent.click(trip);
    expect(fake.callsOf('openChat')).toEqual([[TRIP_ID]]);
    expect(await screen.findByRole('region', { name: 'Trip' })).toBeTruthy();
  });

  it('a new message in a group is announced with the group’s name', async () => {
    const fake = new FakeGroupMessenger(readyState({ contacts: [BOB], groups: [TRIP] }));
    const { container } = renderShell(fake);
    act(() => fake.set({ groups: [{ ...TRIP, unread: 3, lastMessage: { text: 'new one', at: 9_000, direction: 'in' } }] }));
    const live = [...container.querySelectorAll('[aria-live="polite"][aria-atomic]')].find((el) => el.getAttribute('data-testid') !== 'connection-announcement')!;
    await waitFor(() => expect(live.textContent).toBe('New message in Trip'));
  });

  it('mergeConversations keeps each list’s order and puts a contact first at equal times', () => {
    const a = contact({ id: '01', displayName: 'A', lastMessage: { text: '', at: 5, direction: 'in' } });
    const b = contact({ id: '02', displayName: 'B' });
    const g = group({ id: '03', name: 'G', lastMessage: { text: '', at: 5, direction: 'in' } });
    const h = group({ id: '04', name: 'H', lastMessage: { text: '', at: 9, direction: 'in' } });
    const order = mergeConversations([a, b], [h, g]).map((c) => (c.kind === 'contact' ? c.contact.id : c.group.id));
    expect(order).toEqual(['04', '01', '03', '02']);
    expect(mergeConversations([], [])).toEqual([]);
  });
});

describe('the group chat', () => {
  const at = 1_700_000_000_000;
  const fromBob = (id: string, text: string) => message({ id, contactId: TRIP_ID, direction: 'in', status: 'read', text, senderId: BOB.id, senderName: 'Bob', at });
  const fromCy = (id: string, text: string) => message({ id, contactId: TRIP_ID, direction: 'in', status: 'read', text, senderId: CY.id, senderName: 'Cy', at });

  it('heads each run of a member’s messages with their name; a system line is no bubble', () => {
    const mine = message({ id: '05'.repeat(16), contactId: TRIP_ID, text: 'me too', status: 'delivered' });
    renderShell(inGroup([systemLine('00'.repeat(16), TRIP_ID, 'Alice created the group'), fromBob('01'.repeat(16), 'one'), fromBob('02'.repeat(16), 'two'), fromCy('03'.repeat(16), 'three'), mine, fromBob('06'.repeat(16), 'four')]));
    const all = rows();
    expect(all).toHaveLength(6);
    expect(all[0]!.classList.contains('message-system')).toBe(true);
    expect(all[0]!.textContent).toBe('Alice created the group');
    expect(within(all[0]!).queryByRole('button')).toBeNull();
    const senders = all.map((r) => r.querySelector('.message-sender')?.textContent ?? null);
    expect(senders).toEqual([null, 'Bob', null, 'Cy', null, 'Bob']);
    // Every bubble says its sender to a screen reader, grouped or not.
    expect(all[2]!.querySelector('.visually-hidden')!.textContent).toBe('Bob: ');
    expect(all[4]!.querySelector('.visually-hidden')!.textContent).toBe('You: ');
  });

  it('offers the message actions of a chat plus Details, which lists each member’s delivered/read', async () => {
    const mine = message({
      id: '05'.repeat(16),
      contactId: TRIP_ID,
      text: 'dinner at 8',
      status: 'delivered',
      canEdit: true,
      canDeleteForEveryone: true,
      memberStatus: [
        { id: BOB.id, name: 'Bob', status: 'read' },
        { id: CY.id, name: 'Cy', status: 'delivered' },
      ],
    });
    renderShell(inGroup([mine]));
    const row = rows()[0]!;
    expect(row.getAttribute('data-status')).toBe('delivered');
    expect(within(row).getByText('Delivered')).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'More actions' }));
    const menu = within(row).getByRole('menu');
    expect(within(menu).getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['Details', 'Reply', 'Edit', 'Delete for everyone', 'Delete for me', 'React']);
    fireEvent.click(within(menu).getByRole('menuitem', { name: 'Details' }));
    const dialog = await screen.findByRole('dialog', { name: 'Message details' });
    const lines = within(within(dialog).getByRole('list', { name: 'Delivery to each member' })).getAllByRole('listitem');
    expect(lines.map((l) => l.textContent)).toEqual(['Bob: Read', 'Cy: Delivered']);
  });

  it('sends to the group and has no file attachment; reading marks the group read', async () => {
    const sight = stubSight();
    const fake = inGroup([fromBob('01'.repeat(16), 'one'), { ...fromBob('02'.repeat(16), 'new'), status: 'delivered' }]);
    renderShell(fake);
    expect(screen.queryByLabelText('Attach file')).toBeNull();
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'hello all' } });
    fireEvent.keyDown(screen.getByLabelText('Message'), { key: 'Enter' });
    expect(fake.callsOf('send')).toEqual([[TRIP_ID, 'hello all']]);
    sight.show();
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[TRIP_ID, '02'.repeat(16)]]));
  });

  it('once removed: says so, keeps the history and has no composer', () => {
    const removed = { ...TRIP, left: true as const, admin: false };
    renderShell(inGroup([fromBob('01'.repeat(16), 'before'), systemLine('02'.repeat(16), TRIP_ID, 'Bob removed Gus, You')], removed));
    const chat = screen.getByRole('region', { name: 'Trip' });
    expect(within(chat).getByRole('status').textContent).toMatch(/^You were removed/);
    expect(within(chat).queryByRole('textbox', { name: 'Message' })).toBeNull();
    expect(rows()).toHaveLength(2);
    // Nothing can be sent any more: of the message actions only Delete for me is left.
    fireEvent.click(within(rows()[0]!).getByRole('button', { name: 'More actions' }));
    expect(within(within(rows()[0]!).getByRole('menu')).getAllByRole('menuitem').map((i) => i.textContent)).toEqual(['Delete for me']);
  });

  it('a reply, an edit, a deletion and reactions show in the group as in a chat, reactions by member name', () => {
    const quoted = fromBob('01'.repeat(16), 'one');
    const reply = { ...fromCy('02'.repeat(16), 'agreed'), quote: { id: '01'.repeat(16), text: 'one' }, reactions: [{ emoji: '👍', mine: true }, { emoji: '👍', mine: false, name: 'Bob' }] };
    const edited = { ...fromBob('03'.repeat(16), 'two, fixed'), versions: [{ text: 'two', at }, { text: 'two, fixed', at }] };
    const gone = { ...fromCy('04'.repeat(16), ''), deleted: true as const };
    renderShell(inGroup([quoted, reply, edited, gone]));
    // The messages, not the reaction chips (list items too).
    const [, r, e, d] = rows().filter((x) => x.hasAttribute('data-row-id'));
    expect(within(r!).getByText('In reply to:', { exact: false }).parentElement!.textContent).toBe('In reply to: one');
    expect(within(within(r!).getByRole('list', { name: 'Reactions' })).getByRole('listitem').textContent).toBe('👍 2👍 from you and Bob');
    expect(e!.textContent).toContain('two, fixed');
    expect(within(e!).getByRole('button', { name: /edited/ })).toBeTruthy();
    expect(within(d!).getByText('This message was deleted')).toBeTruthy();
  });

  it('once left: says "You left this group"', () => {
    renderShell(inGroup([systemLine('02'.repeat(16), TRIP_ID, 'You left the group')], { ...TRIP, left: true, admin: false }));
    expect(within(screen.getByRole('region', { name: 'Trip' })).getByRole('status').textContent).toMatch(/^You left this group/);
  });

  it("surfaces a member's key change in the chat and in Group info", () => {
    const changed = { ...TRIP, members: [ME, member({ id: BOB.id, name: 'Bob', keyChanged: true }), member({ id: CY.id, name: 'Cy' })] };
    renderShell(inGroup([], changed));
    const chat = screen.getByRole('region', { name: 'Trip' });
    expect(chat.querySelector('.key-change-banner')!.textContent).toMatch(/^Bob’s safety number changed\./);
    fireEvent.click(within(chat).getByRole('button', { name: 'Group info' }));
    const bob = within(screen.getByRole('dialog', { name: 'Group info' })).getAllByRole('listitem')[1]!;
    expect(bob.textContent).toContain('Safety number changed');
  });
});

describe('Group info', () => {
  const openInfo = () => {
    fireEvent.click(screen.getByRole('button', { name: 'Group info' }));
    return screen.getByRole('dialog', { name: 'Group info' });
  };

  it('lists every member (admins marked); Remove asks first, then removes, and a system line says so', async () => {
    const fake = inGroup([]);
    renderShell(fake);
    const dialog = openInfo();
    const members = within(within(dialog).getByRole('list', { name: '3 members' })).getAllByRole('listitem');
    expect(members.map((m) => m.querySelector('.group-member-name')!.textContent)).toEqual(['You', 'Bob', 'Cy']);
    expect(within(members[0]!).getByText('Admin')).toBeTruthy();
    expect(within(members[0]!).queryByRole('button', { name: 'Remove' })).toBeNull();
    fireEvent.click(within(members[2]!).getByRole('button', { name: 'Remove' }));
    expect(fake.callsOf('removeGroupMember')).toEqual([]);
    expect(within(dialog).getByRole('heading', { level: 3 }).textContent).toBe('Remove Cy from Trip?');
    // The confirmation takes focus as it replaces the list (the Remove button that had it is gone).
    await waitFor(() => expect(document.activeElement).toBe(within(dialog).getByRole('heading', { level: 3 })));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    fireEvent.click(within(within(dialog).getAllByRole('listitem')[2]!).getByRole('button', { name: 'Remove' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
    expect(fake.callsOf('removeGroupMember')).toEqual([[TRIP_ID, CY.id]]);
    await waitFor(() => expect(within(dialog).getAllByRole('listitem')).toHaveLength(2));
    expect(rows().map((r) => r.textContent)).toEqual(['You removed Cy']);
  });

  it('a refused removal is said and nobody is removed', async () => {
    const fake = inGroup([]);
    fake.refuseWith = 'not_group_admin';
    renderShell(fake);
    const dialog = openInfo();
    fireEvent.click(within(within(dialog).getAllByRole('listitem')[1]!).getByRole('button', { name: 'Remove' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Remove' }));
    expect((await within(dialog).findByRole('alert')).textContent).toBe('Only the group’s admins can do that.');
    expect(fake.getState().groups![0]!.members).toHaveLength(3);
  });

  it('Add members offers only contacts not in the group, and adds the chosen ones', async () => {
    const fake = inGroup([]);
    renderShell(fake);
    const dialog = openInfo();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add members' }));
    expect(within(dialog).getAllByRole('checkbox').map((b) => b.closest('label')!.textContent)).toEqual(['Gus']);
    fireEvent.click(within(dialog).getByRole('checkbox', { name: 'Gus' }));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Add members' }));
    expect(fake.callsOf('addGroupMembers')).toEqual([[TRIP_ID, [GUS.id]]]);
    await waitFor(() => expect(within(dialog).getAllByRole('listitem')).toHaveLength(4));
  });

  it('Leave group asks first; once left, the chat is read-only', async () => {
    const fake = inGroup([]);
    renderShell(fake);
    const dialog = openInfo();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Leave group' }));
    expect(within(dialog).getByRole('heading', { level: 3 }).textContent).toBe('Leave Trip?');
    expect(fake.callsOf('leaveGroup')).toEqual([]);
    fireEvent.click(within(dialog).getByRole('button', { name: 'Leave group' }));
    expect(fake.callsOf('leaveGroup')).toEqual([[TRIP_ID]]);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    const chat = screen.getByRole('region', { name: 'Trip' });
    expect(within(chat).getByRole('status').textContent).toMatch(/^You left this group/);
    expect(within(chat).queryByRole('textbox', { name: 'Message' })).toBeNull();
  });

  it('an admin renames the group', async () => {
    const fake = inGroup([]);
    renderShell(fake);
    const dialog = openInfo();
    fireEvent.click(within(dialog).getByRole('button', { name: 'Rename group' }));
    fireEvent.change(within(dialog).getByLabelText('Group name'), { target: { value: 'Road trip' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Save name' }));
    expect(fake.callsOf('renameGroup')).toEqual([[TRIP_ID, 'Road trip']]);
    expect(await screen.findByRole('region', { name: 'Road trip' })).toBeTruthy();
  });

  it('a member who is not an admin sees the members and Leave group only', () => {
    renderShell(inGroup([], { ...TRIP, admin: false, members: [member({ id: BOB.id, name: 'Bob', admin: true }), { ...ME, admin: false }, member({ id: CY.id, name: 'Cy' })] }));
    const dialog = openInfo();
    expect(within(dialog).queryByRole('button', { name: 'Remove' })).toBeNull();
    expect(within(dialog).queryByRole('button', { name: 'Add members' })).toBeNull();
    expect(within(dialog).queryByRole('button', { name: 'Rename group' })).toBeNull();
    expect(within(dialog).getByRole('button', { name: 'Leave group' })).toBeTruthy();
    expect(within(within(dialog).getAllByRole('listitem')[0]!).getByText('Admin')).toBeTruthy();
  });
});
