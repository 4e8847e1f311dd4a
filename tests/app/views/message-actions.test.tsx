// @vitest-environment happy-dom
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import type { MessageView } from '../../../src/core/messenger/messenger-api.ts';
import { FakeMessenger, contact, message, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
const OURS = message({ id: '01'.repeat(16), contactId: BOB.id, direction: 'out', text: 'see you at 5', canEdit: true, canDeleteForEveryone: true });
const THEIRS = message({ id: '02'.repeat(16), contactId: BOB.id, direction: 'in', text: 'ok!' });

function chatWith(messages: readonly MessageView[]) {
  return new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages, hasOlder: false } }));
}
const rowOf = (id: string) => document.querySelector<HTMLElement>(`[data-row-id="${id}"]`)!;
const openMenu = (id: string) => fireEvent.click(within(rowOf(id)).getByRole('button', { name: 'More actions' }));
const menuItems = () => screen.getAllByRole('menuitem').map((m) => m.textContent);

describe('message actions in the chat', () => {
  it('More actions offers only what applies: all five for our recent message, no Edit or Delete for everyone for theirs', () => {
    renderShell(chatWith([OURS, THEIRS]));
    openMenu(OURS.id);
    expect(menuItems()).toEqual(['Reply', 'Edit', 'Delete for everyone', 'Delete for me', 'React']);
    fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    expect(screen.queryByRole('menu')).toBeNull();
    openMenu(THEIRS.id);
    expect(menuItems()).toEqual(['Reply', 'Delete for me', 'React']);
  });

  it('with a contact of several devices, our message offers Details: each device, delivered/read with its time, the status the best', async () => {
    const [d1, d2, d3] = ['a1'.repeat(16), 'b2'.repeat(16), 'c3'.repeat(16)];
    const at = new Date(2026, 11, 5, 14, 5).getTime();
    const ours = { ...OURS, status: 'read' as const, deviceReceipts: [{ device: d2, status: 'read' as const, at }, { device: d1, status: 'delivered' as const, at }] };
    renderShell(new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [ours, THEIRS], hasOlder: false, devices: [{ id: d1, name: 'Firefox on Windows' }, { id: d2, name: 'Device 2' }, { id: d3, name: 'Safari on iOS' }] } })));
    openMenu(THEIRS.id);
    expect(menuItems()).toEqual(['Reply', 'Delete for me', 'React']);
    fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
    openMenu(ours.id);
    expect(menuItems()).toEqual(['Details', 'Reply', 'Edit', 'Delete for everyone', 'Delete for me', 'React']);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Details' }));
    const dialog = await screen.findByRole('dialog', { name: 'Message details' });
    expect(within(dialog).getByText('Read', { selector: 'strong' })).toBeTruthy();
    const lines = within(within(dialog).getByRole('list', { name: 'Delivery to each device' })).getAllByRole('listitem');
    expect(lines.map((l) => l.getAttribute('data-status'))).toEqual(['delivered', 'read', 'sent']);
    expect(lines[0]!.textContent).toMatch(/^Firefox on Windows a1a1a1a1: Delivered .*05/);
    expect(lines[1]!.textContent).toMatch(/^Device 2 b2b2b2b2: Read .*05/);
    expect(lines[2]!.textContent).toBe('Safari on iOS c3c3c3c3: Not delivered yet');
  });

  it("delivered to one of a contact's devices and not sent to another: the row says so with Retry, and Details names that device", async () => {
    const [d1, d2] = ['a1'.repeat(16), 'b2'.repeat(16)];
    const at = new Date(2026, 11, 5, 14, 5).getTime();
    // A third failed device the contact no longer lists (unlinked since) is not counted.
    const ours = { ...OURS, status: 'delivered' as const, deviceReceipts: [{ device: d1, status: 'delivered' as const, at }], failedDevices: [d2, 'ff'.repeat(16)] };
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [ours, THEIRS], hasOlder: false, devices: [{ id: d1, name: 'Firefox on Windows' }, { id: d2, name: 'Safari on iOS' }] } }));
    renderShell(fake);
    const row = rowOf(ours.id);
    expect(row.getAttribute('data-status')).toBe('delivered');
    expect(within(row).getByText("Delivered · not sent to 1 of Bob's devices")).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'Retry' }));
    expect(fake.callsOf('retry')).toEqual([[ours.id]]);
    // Only that message offers Retry (theirs and one delivered everywhere do not).
    expect(screen.getAllByRole('button', { name: 'Retry' })).toHaveLength(1);
    openMenu(ours.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Details' }));
    const dialog = await screen.findByRole('dialog', { name: 'Message details' });
    const lines = within(within(dialog).getByRole('list', { name: 'Delivery to each device' })).getAllByRole('listitem');
    expect(lines.map((l) => l.getAttribute('data-status'))).toEqual(['delivered', 'failed']);
    expect(lines[1]!.textContent).toBe('Safari on iOS b2b2b2b2: Not sent (Retry sends it again)');
  });

  it("still queued for one of a contact's devices and given up on for another: the row says so with Retry", () => {
    const [d1, d2] = ['a1'.repeat(16), 'b2'.repeat(16)];
    const ours = { ...OURS, status: 'queued' as const, failedDevices: [d2] };
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [ours], hasOlder: false, devices: [{ id: d1, name: 'Firefox on Windows' }, { id: d2, name: 'Safari on iOS' }] } }));
    renderShell(fake);
    const row = rowOf(ours.id);
    expect(row.getAttribute('data-status')).toBe('queued');
    expect(within(row).getByText("Queued · not sent to 1 of Bob's devices")).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'Retry' }));
    expect(fake.callsOf('retry')).toEqual([[ours.id]]);
  });

  it("a copy to the contact's account mailbox given up on counts as a device not sent to, with Retry, and Details names it", async () => {
    const [d1, d2] = ['a1'.repeat(16), 'b2'.repeat(16)];
    const ours = { ...OURS, status: 'sent' as const, failedAccountCopy: true as const };
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [ours], hasOlder: false, devices: [{ id: d1, name: 'Firefox on Windows' }, { id: d2, name: 'Safari on iOS' }] } }));
    renderShell(fake);
    const row = rowOf(ours.id);
    expect(within(row).getByText("Sent · not sent to 1 of Bob's devices")).toBeTruthy();
    fireEvent.click(within(row).getByRole('button', { name: 'Retry' }));
    expect(fake.callsOf('retry')).toEqual([[ours.id]]);
    openMenu(ours.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Details' }));
    const dialog = await screen.findByRole('dialog', { name: 'Message details' });
    const lines = within(within(dialog).getByRole('list', { name: 'Delivery to each device' })).getAllByRole('listitem');
    expect(lines.map((l) => l.getAttribute('data-status'))).toEqual(['sent', 'sent', 'failed']);
    expect(lines[2]!.textContent).toBe('Account mailbox (before the devices were known): Not sent (Retry sends it again)');
  });

  it('a message delivered to every device offers no Retry', () => {
    const d1 = 'a1'.repeat(16);
    const ours = { ...OURS, status: 'delivered' as const, deviceReceipts: [{ device: d1, status: 'delivered' as const, at: 1 }] };
    renderShell(new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [ours], hasOlder: false, devices: [{ id: d1, name: 'Firefox on Windows' }] } })));
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
    expect(rowOf(ours.id).textContent).not.toContain('not sent');
  });

  it('Reply shows the quote above the composer (cancellable) and sends with replyTo; the reply shows its quote', async () => {
    const fake = chatWith([OURS, THEIRS]);
    renderShell(fake);
    openMenu(THEIRS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Reply' }));
    expect(screen.getByText('ok!', { selector: '.composer-target span' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel reply' }));
    expect(document.querySelector('.composer-target')).toBeNull();
    openMenu(THEIRS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Reply' }));
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'great' } });
    fireEvent.keyDown(screen.getByLabelText('Message'), { key: 'Enter' });
    expect(fake.callsOf('send')).toEqual([[BOB.id, 'great', { replyTo: THEIRS.id }]]);
    await waitFor(() => expect(document.querySelector('.message-quote')?.textContent).toContain('ok!'));
  });

  it('Edit puts the text in the composer; saving calls editMessage and the row shows "edited" with its history', async () => {
    const fake = chatWith([OURS]);
    renderShell(fake);
    openMenu(OURS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Edit' }));
    const field = screen.getByLabelText('Message') as HTMLTextAreaElement;
    expect(field.value).toBe('see you at 5');
    fireEvent.change(field, { target: { value: 'see you at 6' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save edit' }));
    expect(fake.callsOf('editMessage')).toEqual([[OURS.id, 'see you at 6']]);
    const edited = await within(rowOf(OURS.id)).findByRole('button', { name: /edited/ });
    fireEvent.click(edited);
    expect(within(rowOf(OURS.id)).getByRole('list', { name: 'Earlier versions' }).textContent).toBe('see you at 5');
  });

  it('Delete for everyone shows "This message was deleted"; Delete for me removes the row', async () => {
    const fake = chatWith([OURS, THEIRS]);
    renderShell(fake);
    // First a confirmation: Cancel (or Escape) deletes nothing and gives focus back to the menu button.
    openMenu(OURS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Delete for everyone' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete this message for everyone?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(fake.callsOf('deleteForEveryone')).toEqual([]);
    await waitFor(() => expect(document.activeElement).toBe(within(rowOf(OURS.id)).getByRole('button', { name: 'More actions' })));
    openMenu(OURS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Delete for everyone' }));
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(fake.callsOf('deleteForEveryone')).toEqual([]);
    openMenu(OURS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Delete for everyone' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete for everyone' }));
    expect(fake.callsOf('deleteForEveryone')).toEqual([[OURS.id]]);
    await waitFor(() => expect(rowOf(OURS.id).textContent).toContain('This message was deleted'));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(rowOf(OURS.id).textContent).not.toContain('see you');
    openMenu(THEIRS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Delete for me' }));
    await waitFor(() => expect(document.querySelector(`[data-row-id="${THEIRS.id}"]`)).toBeNull());
    expect(fake.callsOf('deleteForMe')).toEqual([[THEIRS.id]]);
  });

  it('React opens a picker; the chosen emoji shows as a chip, and can be removed', async () => {
    const fake = chatWith([THEIRS]);
    renderShell(fake);
    openMenu(THEIRS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'React' }));
    fireEvent.click(screen.getByRole('button', { name: 'React with 👍' }));
    expect(fake.callsOf('react')).toEqual([[THEIRS.id, '👍']]);
    await waitFor(() => expect(within(rowOf(THEIRS.id)).getByRole('list', { name: 'Reactions' }).textContent).toContain('👍 from you'));
    openMenu(THEIRS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'React' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove reaction' }));
    expect(fake.callsOf('react')[1]).toEqual([THEIRS.id, '']);
  });

  it('a refused delete for everyone is said in its confirmation, which stays open', async () => {
    const fake = chatWith([OURS]);
    fake.failing.add('deleteForEveryone');
    renderShell(fake);
    openMenu(OURS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'Delete for everyone' }));
    const confirm = screen.getByRole('dialog', { name: 'Delete this message for everyone?' });
    fireEvent.click(within(confirm).getByRole('button', { name: 'Delete for everyone' }));
    await waitFor(() => expect(within(confirm).getByRole('alert').textContent).toContain('Nothing was deleted'));
    expect(rowOf(OURS.id).textContent).toContain('see you');
  });

  it('a refused reaction is said in the row', async () => {
    const fake = chatWith([OURS]);
    fake.failing.add('react');
    renderShell(fake);
    openMenu(OURS.id);
    fireEvent.click(screen.getByRole('menuitem', { name: 'React' }));
    fireEvent.click(screen.getByRole('button', { name: 'React with 👍' }));
    await waitFor(() => expect(within(rowOf(OURS.id)).getByRole('alert').textContent).toContain('failed'));
  });
});
