// @vitest-environment happy-dom
/**
 * Contacts people manage (issue 20) in the UI, over the fake messenger: the Message
 * requests section (Accept, Block; not in the conversations; not read until accepted),
 * the Contact info view (Rename, Delete conversation, Block/Unblock), the dialogs
 * (Escape closes and gives focus back; a failure says so and changes nothing), and
 * names that tell two contacts apart.
 */
import { fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { FakeMessenger, contact, message, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';
import { stubSight } from './fake-sight.ts';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
const DAN = contact({ id: 'dd'.repeat(32), displayName: 'Dan', request: true, unread: 1, lastMessage: { text: 'hi, Dan here', at: 1, direction: 'in' } });

const conversations = () => screen.getByRole('heading', { name: 'Conversations' }).parentElement!;
const requests = () => screen.queryByRole('region', { name: 'Message requests' });

function chatWith(c = BOB, others = [DAN]) {
  return new FakeMessenger(readyState({ contacts: [c, ...others], chat: { contactId: c.id, messages: [message({ id: '01'.repeat(16), contactId: c.id, direction: 'in', status: 'delivered' })], hasOlder: false } }));
}

describe('message requests', () => {
  it('are listed apart with Accept and Block, never among the conversations', async () => {
    const fake = new FakeMessenger(readyState({ contacts: [BOB, DAN] }));
    renderShell(fake);
    const group = within(requests()!).getByRole('group', { name: 'Request from Dan' });
    expect(group.textContent).toContain('hi, Dan here');
    expect(within(conversations()).queryByRole('button', { name: /^Dan/ })).toBeNull();
    expect(within(conversations()).getByRole('button', { name: /^Bob/ })).toBeTruthy();
    fireEvent.click(within(group).getByRole('button', { name: 'Accept' }));
    expect(fake.callsOf('acceptRequest')).toEqual([[DAN.id]]);
    await waitFor(() => expect(requests()).toBeNull());
    expect(within(conversations()).getByRole('button', { name: /^Dan/ })).toBeTruthy();
  });

  it('Block decides a request: setBlocked(true), and a failure is said', async () => {
    const fake = new FakeMessenger(readyState({ contacts: [BOB, DAN] }));
    fake.failing.add('setBlocked');
    renderShell(fake);
    fireEvent.click(within(requests()!).getByRole('button', { name: 'Block' }));
    expect(fake.callsOf('setBlocked')).toEqual([[DAN.id, true]]);
    expect((await within(requests()!).findByRole('alert')).textContent).toMatch(/did not work/);
  });

  it('an open request is not marked read until accepted, and cannot be replied to', async () => {
    const sight = stubSight();
    const fake = chatWith(DAN, [BOB]);
    renderShell(fake);
    // In its chat: no composer, but the same decision as in the list.
    expect(screen.queryByRole('textbox', { name: 'Message' })).toBeNull();
    expect(within(screen.getByRole('region', { name: 'Dan' })).getByRole('group', { name: 'Request from Dan' })).toBeTruthy();
    sight.show();
    expect(fake.callsOf('markRead')).toEqual([]);
    fireEvent.click(within(requests()!).getByRole('button', { name: 'Accept' }));
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[DAN.id, '01'.repeat(16)]]));
  });
});

describe('inside a request or an ended conversation', () => {
  const chatGroup = () => within(screen.getByRole('region', { name: 'Dan' })).getByRole('group', { name: 'Request from Dan' });

  it("a request's own chat offers Accept and Block", async () => {
    const fake = chatWith(DAN, [BOB]);
    renderShell(fake);
    fireEvent.click(within(chatGroup()).getByRole('button', { name: 'Accept' }));
    expect(fake.callsOf('acceptRequest')).toEqual([[DAN.id]]);
    // Accepted: the composer takes its place.
    expect(await screen.findByRole('textbox', { name: 'Message' })).toBeTruthy();
  });

  it("Block in a request's chat blocks it; a failure is said there", async () => {
    const fake = chatWith(DAN, [BOB]);
    fake.failing.add('setBlocked');
    renderShell(fake);
    fireEvent.click(within(chatGroup()).getByRole('button', { name: 'Block' }));
    expect(fake.callsOf('setBlocked')).toEqual([[DAN.id, true]]);
    expect((await within(chatGroup()).findByRole('alert')).textContent).toMatch(/did not work/);
  });

  it('an ended conversation cannot be written to: a plain explanation replaces the composer', () => {
    const ended = contact({ id: 'ee'.repeat(32), displayName: 'Eve', ended: true, nameDetail: 'ended' });
    renderShell(chatWith(ended, [BOB]));
    expect(screen.queryByRole('textbox', { name: 'Message' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Send' })).toBeNull();
    expect(screen.getByText(/This conversation has ended/).textContent).toMatch(/write to them there/);
  });
});

describe('contact info', () => {
  const openInfo = () => fireEvent.click(screen.getByRole('button', { name: 'Contact info' }));

  it('Rename: the dialog saves a local name; Escape closes it and gives focus back to Rename', async () => {
    const fake = chatWith();
    renderShell(fake);
    openInfo();
    const rename = screen.getByRole('button', { name: 'Rename' });
    rename.focus();
    fireEvent.click(rename);
    const dialog = screen.getByRole('dialog');
    fireEvent.keyDown(dialog, { key: 'Escape' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Rename' }));

    fireEvent.click(screen.getByRole('button', { name: 'Rename' }));
    fireEvent.change(within(screen.getByRole('dialog')).getByLabelText('Name for this contact'), { target: { value: 'Bobby' } });
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Save name' }));
    expect(fake.callsOf('renameContact')).toEqual([[BOB.id, 'Bobby']]);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(screen.getByRole('heading', { name: 'Bobby' })).toBeTruthy();
    expect(screen.getByText('Their own name').nextElementSibling!.textContent).toBe('Bob');
  });

  it('Rename that fails keeps the dialog open with an alert', async () => {
    const fake = chatWith();
    fake.failing.add('renameContact');
    renderShell(fake);
    openInfo();
    fireEvent.click(screen.getByRole('button', { name: 'Rename' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Save name' }));
    expect((await within(screen.getByRole('dialog')).findByRole('alert')).textContent).toMatch(/could not be saved/);
  });

  it('Delete conversation asks first: Cancel deletes nothing, the confirmation deletes and closes the chat', async () => {
    const fake = chatWith();
    renderShell(fake);
    openInfo();
    fireEvent.click(screen.getByRole('button', { name: 'Delete conversation' }));
    expect(screen.getByRole('dialog').textContent).toContain('Delete your conversation with Bob?');
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }));
    expect(fake.callsOf('deleteConversation')).toEqual([]);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    fireEvent.click(screen.getByRole('button', { name: 'Delete conversation' }));
    fireEvent.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Delete conversation' }));
    expect(fake.callsOf('deleteConversation')).toEqual([[BOB.id]]);
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(within(conversations()).queryByRole('button', { name: /^Bob/ })).toBeNull();
    expect(fake.callsOf('openChat').at(-1)).toEqual([undefined]);
    // Focus lands on the list, not lost with the deleted chat.
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Conversations' })));
  });

  it('Block and Unblock toggle; while blocked the composer says why it cannot send', async () => {
    const fake = chatWith(BOB, []);
    renderShell(fake);
    openInfo();
    fireEvent.click(screen.getByRole('button', { name: 'Block' }));
    expect(fake.callsOf('setBlocked')).toEqual([[BOB.id, true]]);
    await screen.findByRole('button', { name: 'Unblock' });
    expect(screen.getByText('You blocked Bob. Unblock them in Contact info to send again.')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Unblock' }));
    expect(fake.callsOf('setBlocked')).toEqual([
      [BOB.id, true],
      [BOB.id, false],
    ]);
    await screen.findByRole('button', { name: 'Block' });
  });
});

describe('names that tell contacts apart', () => {
  it('shows the distinguishing detail with the name, and an ended conversation says so', () => {
    const oldBob = contact({ id: 'b1'.repeat(32), displayName: 'Bob', ended: true, nameDetail: 'ended' });
    const newBob = contact({ id: 'b2'.repeat(32), displayName: 'Bob', nameDetail: 'new' });
    renderShell(new FakeMessenger(readyState({ contacts: [newBob, oldBob] })));
    const list = within(conversations());
    expect(list.getByRole('button', { name: /^Bob \(ended\), conversation ended/ })).toBeTruthy();
    expect(list.getByRole('button', { name: /^Bob \(new\)/ })).toBeTruthy();
  });
});
