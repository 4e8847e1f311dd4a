// @vitest-environment happy-dom
import { act, createEvent, fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { describe, expect, it, vi } from 'vitest';
import type { MessageStatus, MessageView } from '../../../src/core/messenger/messenger-api.ts';
import { FakeMessenger, contact, message, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';
import { render } from '@testing-library/preact';
import { Shell } from '../../../src/app/Shell.tsx';
import { DraftStore } from '../../../src/platform/keypress/draft-store.ts';
import { JournaledMessenger, type JournalTimers } from '../../../src/platform/keypress/journaled-messenger.ts';
import { SendJournal } from '../../../src/platform/keypress/send-journal.ts';
import { MemorySyncStorage } from '../../../src/platform/keypress/sync-storage.ts';
import { stubSight } from './fake-sight.ts';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
const CAROL = contact({ id: 'cc'.repeat(32), displayName: 'Carol' });

function chatWith(messages: readonly MessageView[], extra: Partial<Parameters<typeof readyState>[0]> = {}) {
  return new FakeMessenger(readyState({ contacts: [BOB, CAROL], chat: { contactId: BOB.id, messages, hasOlder: false }, ...extra }));
}

const messageField = () => screen.getByLabelText('Message') as HTMLTextAreaElement;
const sendButton = () => screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
const rows = () => within(screen.getByRole('log', { name: 'Messages' })).queryAllByRole('listitem');

describe('composer', () => {
  it('Enter sends the text and clears the field; the message is shown as queued at once', async () => {
    const fake = chatWith([]);
    renderShell(fake);
    fireEvent.change(messageField(), { target: { value: 'hi Bob' } });
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    expect(fake.callsOf('send')).toEqual([[BOB.id, 'hi Bob']]);
    expect(messageField().value).toBe('');
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]!.getAttribute('data-status')).toBe('queued');
    expect(rows()[0]!.textContent).toContain('hi Bob');
  });

  it('Shift+Enter does not send (the textarea keeps the newline)', () => {
    const fake = chatWith([]);
    renderShell(fake);
    fireEvent.change(messageField(), { target: { value: 'line one' } });
    const notPrevented = fireEvent.keyDown(messageField(), { key: 'Enter', shiftKey: true });
    expect(notPrevented).toBe(true);
    expect(fake.callsOf('send')).toEqual([]);
    expect(messageField().value).toBe('line one');
  });

  it('does not send empty or whitespace-only text, by Enter or by the Send button', () => {
    const fake = chatWith([]);
    renderShell(fake);
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    fireEvent.change(messageField(), { target: { value: '  \n\t  ' } });
    expect(sendButton().disabled).toBe(true);
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    fireEvent.click(sendButton());
    expect(fake.callsOf('send')).toEqual([]);
  });

  it('the Send button sends the trimmed text', () => {
    const fake = chatWith([]);
    renderShell(fake);
    fireEvent.change(messageField(), { target: { value: '  spaced out \n' } });
    fireEvent.click(sendButton());
    expect(fake.callsOf('send')).toEqual([[BOB.id, 'spaced out']]);
  });

  it('keeps a draft per contact when switching chats', async () => {
    const fake = chatWith([]);
    renderShell(fake);
    fireEvent.change(messageField(), { target: { value: 'half-written to Bob' } });
    fireEvent.click(screen.getByRole('button', { name: /^Carol/ }));
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Carol' })).toBeTruthy());
    expect(messageField().value).toBe('');
    fireEvent.change(messageField(), { target: { value: 'for Carol' } });
    fireEvent.click(screen.getByRole('button', { name: /^Bob/ }));
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Bob' })).toBeTruthy());
    expect(messageField().value).toBe('half-written to Bob');
  });

  it('a chat opens at once, before the core has switched to it: what is typed and sent there goes to it', async () => {
    const fake = chatWith([message({ id: 'b1', contactId: BOB.id, text: 'from Bob', status: 'read', direction: 'in' })]);
    const coreOpen = fake.openChat.bind(fake);
    const opening: Array<() => Promise<void>> = [];
    fake.openChat = (id) => new Promise<void>((done) => opening.push(() => coreOpen(id).then(done)));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: /^Carol/ }));
    // The core has not answered: Carol's chat is already the one shown, without Bob's messages.
    expect(fake.getState().chat?.contactId).toBe(BOB.id);
    expect(screen.getByRole('heading', { name: 'Carol' })).toBeTruthy();
    expect(rows()).toHaveLength(0);
    expect(screen.queryByText('No messages yet. Say hello!')).toBeNull();
    fireEvent.change(messageField(), { target: { value: 'hi Carol' } });
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    expect(fake.callsOf('send')).toEqual([[CAROL.id, 'hi Carol']]);
    await act(async () => opening.shift()!());
    expect(screen.getByRole('heading', { name: 'Carol' })).toBeTruthy();
    await waitFor(() => expect(rows()).toHaveLength(0)); // the fake core's fresh page for Carol
    // Back to Bob: his draft was never touched.
    fireEvent.click(screen.getByRole('button', { name: /^Bob/ }));
    expect(screen.getByRole('heading', { name: 'Bob' })).toBeTruthy();
    expect(messageField().value).toBe('');
  });

  it('a chat the core fails to open falls back to the one the core shows', async () => {
    const fake = chatWith([]);
    fake.openChat = () => Promise.reject(new Error('storage closed'));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: /^Carol/ }));
    expect(screen.getByRole('heading', { name: 'Carol' })).toBeTruthy();
    await waitFor(() => expect(screen.getByRole('heading', { name: 'Bob' })).toBeTruthy());
  });

  it('gives the text back and says so when the core cannot queue it', async () => {
    const fake = chatWith([]);
    fake.failing.add('send');
    renderShell(fake);
    fireEvent.change(messageField(), { target: { value: 'important' } });
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(messageField().value).toBe('important');
  });

  it('a refused message comes back before what was typed meanwhile: neither is lost', async () => {
    const fake = chatWith([]);
    let refuse!: (err: unknown) => void;
    fake.send = () => new Promise<void>((_, reject) => (refuse = reject));
    renderShell(fake);
    fireEvent.change(messageField(), { target: { value: 'first thought' } });
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    expect(messageField().value).toBe('');
    fireEvent.change(messageField(), { target: { value: 'second thought' } });
    await act(async () => refuse(Object.assign(new Error('no such contact'), { kind: 'unknown_contact' })));
    expect(await screen.findByRole('alert')).toBeTruthy();
    expect(messageField().value).toBe('first thought\nsecond thought');
  });

  it('a message the core cannot store yet stays on screen as not saved (not back in the field), and leaves that list once saved', async () => {
    const fake = chatWith([]);
    const storage = new MemorySyncStorage();
    const retries: Array<() => void> = [];
    const timers: JournalTimers = { setTimeout: (fn) => retries.push(fn), clearTimeout: () => {} };
    const journaled = new JournaledMessenger(fake, new SendJournal({ storage, profile: 'p', newId: () => 'ab'.repeat(16), now: () => 1 }), new DraftStore(storage, 'p'), undefined, timers);
    fake.failing.add('send');
    render(<Shell messenger={journaled} />);
    fireEvent.change(messageField(), { target: { value: 'do not lose me' } });
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    const unsaved = await screen.findByRole('region', { name: 'Not saved yet' });
    expect(within(unsaved).getByRole('listitem').textContent).toBe('do not lose me');
    expect(within(unsaved).getByRole('status').textContent).toContain('tries again by itself');
    expect(messageField().value).toBe('');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(rows()).toHaveLength(0);
    await act(async () => retries.shift()!());
    await waitFor(() => expect(screen.queryByRole('region', { name: 'Not saved yet' })).toBeNull());
    expect(rows()).toHaveLength(1);
    expect(rows()[0]!.textContent).toContain('do not lose me');
    expect(fake.callsOf('send').map((c) => c[1])).toEqual(['do not lose me', 'do not lose me']);
  });
});

describe('messages', () => {
  const statuses: MessageStatus[] = ['queued', 'sent', 'delivered', 'read', 'failed'];
  const spoken: Record<MessageStatus, string> = { queued: 'Queued', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' };

  it('renders one listitem per message with data-status and a readable status', () => {
    const fake = chatWith(statuses.map((status, i) => message({ id: `m${i}`, contactId: BOB.id, text: `msg ${status}`, status, failure: 'the relay refused it' })));
    renderShell(fake);
    const items = rows();
    expect(items.map((r) => r.getAttribute('data-status'))).toEqual(statuses);
    items.forEach((item, i) => expect(item.textContent).toContain(spoken[statuses[i]!]));
  });

  it('a failed message shows its reason and Retry calls retry with its id', () => {
    const fake = chatWith([message({ id: 'f1', contactId: BOB.id, status: 'failed', failure: 'Bob’s device has been unreachable for 7 days' })]);
    renderShell(fake);
    const row = rows()[0]!;
    expect(row.textContent).toContain('Bob’s device has been unreachable for 7 days');
    fireEvent.click(within(row).getByRole('button', { name: 'Retry' }));
    expect(fake.callsOf('retry')).toEqual([['f1']]);
  });

  it('only failed messages offer Retry', () => {
    const fake = chatWith([message({ id: 'a', contactId: BOB.id, status: 'sent' }), message({ id: 'b', contactId: BOB.id, status: 'delivered' })]);
    renderShell(fake);
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
  });

  it('renders user text as text, never as HTML', () => {
    const evil = '<img src=x onerror=alert(1)><b>bold</b>';
    const fake = chatWith([message({ id: 'x', contactId: BOB.id, direction: 'in', text: evil })]);
    const { container } = renderShell(fake);
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(rows()[0]!.textContent).toContain(evil);
  });

  it('renders emoji and long unbroken text intact', () => {
    const long = 'a'.repeat(5000);
    const fake = chatWith([message({ id: 'e', contactId: BOB.id, text: '👋🏽 héllo 🇳🇱' }), message({ id: 'l', contactId: BOB.id, text: long })]);
    renderShell(fake);
    expect(rows()[0]!.textContent).toContain('👋🏽 héllo 🇳🇱');
    expect(rows()[1]!.textContent).toContain(long);
  });

  it('a chat of 10,000 messages puts only a small window of them in the DOM', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => message({ id: i.toString(16).padStart(32, '0'), contactId: BOB.id, text: `message ${i}` }));
    const fake = chatWith(many);
    renderShell(fake);
    const count = rows().length;
    expect(count).toBeGreaterThan(5);
    expect(count).toBeLessThan(100);
    expect(rows()[0]!.getAttribute('aria-setsize')).toBe('10000');
  });

  it('asks for older messages when scrolled to the top while there are older ones', () => {
    const fake = chatWith([message({ id: 'a', contactId: BOB.id })]);
    fake.set({ chat: { contactId: BOB.id, messages: fake.getState().chat!.messages, hasOlder: true } });
    renderShell(fake);
    fireEvent.scroll(screen.getByRole('log', { name: 'Messages' }));
    expect(fake.callsOf('loadOlder')).toHaveLength(1);
  });

  it('asks for older messages once at a time, also from the "Load older messages" button', async () => {
    const fake = chatWith([message({ id: 'a', contactId: BOB.id })]);
    fake.set({ chat: { contactId: BOB.id, messages: fake.getState().chat!.messages, hasOlder: true } });
    let finish = () => {};
    fake.loadOlder = () => {
      fake.calls.push({ command: 'loadOlder', args: [] });
      return new Promise<void>((resolve) => (finish = resolve));
    };
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Load older messages' }));
    fireEvent.scroll(screen.getByRole('log', { name: 'Messages' }));
    expect(fake.callsOf('loadOlder')).toHaveLength(1);
    await act(async () => finish());
    fireEvent.click(screen.getByRole('button', { name: 'Load older messages' }));
    expect(fake.callsOf('loadOlder')).toHaveLength(2);
  });

  it('marks the chat read up to the newest unread message on screen', async () => {
    const sight = stubSight();
    const fake = chatWith([message({ id: 'i', contactId: BOB.id, direction: 'in' })], { contacts: [{ ...BOB, unread: 1 }, CAROL] });
    renderShell(fake);
    expect(fake.callsOf('markRead')).toEqual([]);
    sight.show();
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[BOB.id, 'i']]));
  });

  it('marks read again when a new message arrives while the unread count looks unchanged', async () => {
    const sight = stubSight();
    const first = message({ id: 'i1', contactId: BOB.id, direction: 'in' });
    const fake = chatWith([first], { contacts: [{ ...BOB, unread: 1 }, CAROL] });
    // The core's read commits, but the update the UI sees next already holds another message.
    fake.markRead = async (contactId: string, upTo?: string) => void fake.calls.push({ command: 'markRead', args: [contactId, upTo] });
    renderShell(fake);
    sight.show();
    await waitFor(() => expect(fake.callsOf('markRead')).toHaveLength(1));
    // The read committed and the next message arrived in one coalesced update: still 1 unread.
    const second = message({ id: 'i2', contactId: BOB.id, direction: 'in' });
    act(() => fake.set({ contacts: [{ ...BOB, unread: 1 }, CAROL], chat: { contactId: BOB.id, messages: [{ ...first, status: 'read' }, second], hasOlder: false } }));
    sight.show();
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[BOB.id, 'i1'], [BOB.id, 'i2']]));
  });

  it('announces an incoming message in a polite live region, apart from the log', async () => {
    const fake = chatWith([]);
    const { container } = renderShell(fake);
    act(() => fake.set({ contacts: [{ ...CAROL, unread: 1, lastMessage: { text: 'psst', at: 2, direction: 'in' } }, BOB] }));
    // The incoming-message region (the connection status has its own, for changes of state).
    const live = [...container.querySelectorAll('[aria-live="polite"][aria-atomic]')].find((el) => el.getAttribute('data-testid') !== 'connection-announcement')!;
    await waitFor(() => expect(live.textContent).toBe('New message from Carol'));
    expect(live.closest('[role="log"]')).toBeNull();
  });
});

describe('key change', () => {
  it('warns, blocks Send until acknowledged, then sends again', async () => {
    const fake = chatWith([], { contacts: [{ ...BOB, keyChanged: true }, CAROL] });
    renderShell(fake);
    expect(screen.getByRole('alert').textContent).toContain("Bob's safety number has changed");
    fireEvent.change(messageField(), { target: { value: 'are you there?' } });
    expect(sendButton().disabled).toBe(true);
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    expect(fake.callsOf('send')).toEqual([]);

    fireEvent.click(screen.getByRole('button', { name: /acknowledge/i }));
    expect(fake.callsOf('acknowledgeKeyChange')).toEqual([[BOB.id]]);
    await waitFor(() => expect(sendButton().disabled).toBe(false));
    expect(screen.queryByText(/safety number has changed/)).toBeNull();
    fireEvent.click(sendButton());
    expect(fake.callsOf('send')).toEqual([[BOB.id, 'are you there?']]);
  });

  it('a newcomer claiming a contact\'s name with another key: says it is not that contact, blocks replies until acknowledged', async () => {
    const newcomer = contact({ id: 'ee'.repeat(32), displayName: 'Bob', keyChanged: true, possibleKeyChangeOf: BOB.id, unread: 1 });
    const fake = new FakeMessenger(
      readyState({
        contacts: [newcomer, BOB, CAROL],
        chat: { contactId: newcomer.id, messages: [message({ id: '1'.repeat(32), contactId: newcomer.id, direction: 'in', text: 'new phone, send me the code' })], hasOlder: false },
      }),
    );
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: /^Bob, not your known contact, different key/ }));

    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('This is not the Bob in your contacts.');
    expect(alert.textContent).toMatch(/different identity key from your contact Bob/);
    expect(alert.textContent).toMatch(/someone pretending to be them/);
    // The two Bobs are told apart in the list.
    expect(screen.getByRole('button', { name: /^Bob, not your known contact/ }).textContent).toContain('Different key: not your contact');
    expect(screen.getByRole('button', { name: /^Bob, you|^Bob$/ }).textContent).not.toContain('Different key');

    fireEvent.change(messageField(), { target: { value: 'here is the code' } });
    expect(sendButton().disabled).toBe(true);
    expect(messageField().getAttribute('aria-describedby')).toBeTruthy();
    expect(document.getElementById(messageField().getAttribute('aria-describedby')!)!.textContent).toMatch(/not the Bob in your contacts/);
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    fireEvent.submit(messageField().form!);
    expect(fake.callsOf('send')).toEqual([]);

    fireEvent.click(within(alert).getByRole('button', { name: 'Compare safety numbers' }));
    expect(await screen.findByRole('dialog', { name: /Verify Bob/ })).toBeTruthy();
    await waitFor(() => expect(fake.callsOf('safetyNumber')).toContainEqual([newcomer.id]));
    fireEvent.keyDown(screen.getByRole('dialog'), { key: 'Escape' });

    fireEvent.click(screen.getByRole('button', { name: 'I understand, let me reply' }));
    expect(fake.callsOf('acknowledgeKeyChange')).toEqual([[newcomer.id]]);
    await waitFor(() => expect(sendButton().disabled).toBe(false));
    expect(screen.queryByText(/not the Bob in your contacts/)).toBeNull();
    fireEvent.click(sendButton());
    expect(fake.callsOf('send')).toEqual([[newcomer.id, 'here is the code']]);
  });
});

describe('a received file', () => {
  it('shows its name, size and type as text (never markup), and a caption when there is one', async () => {
    const withFile = { ...message({ id: 'dd'.repeat(16), contactId: BOB.id, direction: 'in', text: '' }), attachment: { name: '<b>plan</b>.pdf', mime: 'application/pdf', size: 2_500_000 } };
    const captioned = { ...message({ id: 'ee'.repeat(16), contactId: BOB.id, direction: 'in', text: 'the plan' }), attachment: { name: 'photo.jpg', mime: 'image/jpeg', size: 1_024 } };
    renderShell(chatWith([withFile, captioned]));
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(rows()[0]!.textContent).toContain('File: <b>plan</b>.pdf');
    expect(rows()[0]!.textContent).toContain('application/pdf');
    expect(rows()[0]!.querySelector('b')).toBeNull();
    expect(rows()[0]!.querySelector('.message-text')).toBeNull();
    expect(rows()[1]!.textContent).toContain('File: photo.jpg');
    expect(rows()[1]!.querySelector('.message-text')?.textContent).toBe('the plan');
  });

  it('a picture shows the tiny preview its message carried, as a JPEG data: URL; other files show none', async () => {
    const preview = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    const picture = { ...message({ id: 'dd'.repeat(16), contactId: BOB.id, direction: 'in', text: '' }), attachment: { name: 'cat.png', mime: 'image/png', size: 5_000, preview } };
    const doc = { ...message({ id: 'ee'.repeat(16), contactId: BOB.id, direction: 'in', text: '' }), attachment: { name: 'x.html', mime: 'text/html', size: 10, preview } };
    renderShell(chatWith([picture, doc]));
    await waitFor(() => expect(rows()).toHaveLength(2));
    const img = within(rows()[0]!).getByRole('img', { name: 'Preview of cat.png' }) as HTMLImageElement;
    expect(img.getAttribute('src')).toBe(`data:image/jpeg;base64,${btoa(String.fromCharCode(...preview))}`);
    expect(within(rows()[1]!).queryByRole('img')).toBeNull();
  });

  it('Download saves the file through an object URL and <a download>, typed as bytes so the app origin never renders it', async () => {
    const id = 'dd'.repeat(16);
    const fake = chatWith([{ ...message({ id, contactId: BOB.id, direction: 'in', text: '' }), attachment: { name: 'page.svg', mime: 'image/svg+xml', size: 11 } }]);
    fake.files.set(id, new Blob(['<svg></svg>'], { type: 'image/svg+xml' }));
    const made: Blob[] = [];
    const created = vi.spyOn(URL, 'createObjectURL').mockImplementation((b) => {
      made.push(b as Blob);
      return 'blob:petrel.test/1';
    });
    const clicked: Array<{ href: string; download: string; inDocument: boolean }> = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push({ href: this.href, download: this.download, inDocument: this.isConnected });
    });
    try {
      renderShell(fake);
      await waitFor(() => expect(rows()).toHaveLength(1));
      fireEvent.click(within(rows()[0]!).getByRole('button', { name: 'Download' }));
      await waitFor(() => expect(clicked).toHaveLength(1));
      expect(fake.callsOf('downloadAttachment')).toEqual([[id]]);
      expect(clicked[0]).toEqual({ href: 'blob:petrel.test/1', download: 'page.svg', inDocument: true });
      expect(made[0]!.type).toBe('application/octet-stream');
      expect(await made[0]!.text()).toBe('<svg></svg>');
      expect(document.querySelector('a[download]')).toBeNull();
      // Nothing in the page shows the file's bytes.
      expect(document.querySelector('[src^="blob:"], [data^="blob:"]')).toBeNull();
    } finally {
      created.mockRestore();
      click.mockRestore();
    }
  });

  it('while it downloads the row shows a progressbar named after the file (Cancel stops it); a failure is said in the row and Download comes back', async () => {
    const id = 'dd'.repeat(16);
    const fake = chatWith([{ ...message({ id, contactId: BOB.id, direction: 'in', text: '' }), attachment: { name: 'movie.mp4', mime: 'video/mp4', size: 1000 } }]);
    renderShell(fake);
    await waitFor(() => expect(rows()).toHaveLength(1));
    act(() => fake.set({ transfers: [{ messageId: id, contactId: BOB.id, name: 'movie.mp4', direction: 'down', done: 250, total: 1000 }] }));
    const bar = within(rows()[0]!).getByRole('progressbar', { name: 'movie.mp4' }) as HTMLProgressElement;
    expect(bar.value).toBe(250);
    expect(bar.max).toBe(1000);
    expect(within(rows()[0]!).queryByRole('button', { name: 'Download' })).toBeNull();
    fireEvent.click(within(rows()[0]!).getByRole('button', { name: 'Cancel' }));
    expect(fake.callsOf('cancelTransfer')).toEqual([[id]]);

    act(() => fake.set({ transfers: [{ messageId: id, contactId: BOB.id, name: 'movie.mp4', direction: 'down', done: 250, total: 1000, failure: 'The file on the relay was altered or damaged; it was not saved.' }] }));
    expect(within(rows()[0]!).queryByRole('progressbar')).toBeNull();
    expect(within(rows()[0]!).getByRole('alert').textContent).toContain('altered or damaged');
    expect(within(rows()[0]!).getByRole('button', { name: 'Download' })).toBeTruthy();
  });

  it('a download that can continue offers Retry (in place of Download), which downloads again', async () => {
    const id = 'dc'.repeat(16);
    const fake = chatWith([{ ...message({ id, contactId: BOB.id, direction: 'in', text: '' }), attachment: { name: 'movie.mp4', mime: 'video/mp4', size: 1000 } }]);
    renderShell(fake);
    await waitFor(() => expect(rows()).toHaveLength(1));
    act(() => fake.set({ transfers: [{ messageId: id, contactId: BOB.id, name: 'movie.mp4', direction: 'down', done: 400, total: 1000, failure: 'Interrupted.', retryable: true }] }));
    expect(within(rows()[0]!).queryByRole('button', { name: 'Download' })).toBeNull();
    fireEvent.click(within(rows()[0]!).getByRole('button', { name: 'Retry' }));
    expect(fake.callsOf('downloadAttachment')).toEqual([[id]]);
  });
});

describe('user text', () => {
  it('message text, contact names and previews lay out by their own script; links in messages are safe', () => {
    const HEB = contact({ id: 'dd'.repeat(32), displayName: 'דנה', lastMessage: { text: 'مرحبا https://example.org', at: 1_700_000_000_000, direction: 'in' } });
    const fake = new FakeMessenger(
      readyState({
        contacts: [HEB],
        chat: { contactId: HEB.id, messages: [message({ id: '01'.repeat(16), contactId: HEB.id, text: 'שלום https://example.org/x javascript:alert(1)' })], hasOlder: false },
      }),
    );
    renderShell(fake);
    const text = rows()[0]!.querySelector('.message-text')!;
    expect(text.getAttribute('dir')).toBe('auto');
    expect(text.textContent).toBe('שלום https://example.org/x javascript:alert(1)');
    const links = [...text.querySelectorAll('a')];
    expect(links.map((a) => [a.getAttribute('href'), a.getAttribute('rel'), a.getAttribute('target')])).toEqual([['https://example.org/x', 'noopener noreferrer', '_blank']]);
    expect(screen.getByRole('heading', { name: 'דנה' }).getAttribute('dir')).toBe('auto');
    const row = screen.getByRole('button', { name: /^דנה/u });
    expect(row.querySelector('.contact-name')!.getAttribute('dir')).toBe('auto');
    expect(row.querySelector('.contact-preview [dir="auto"]')!.textContent).toBe('مرحبا https://example.org');
    // The preview in the list is not a link (no previews, nothing to click inside a button).
    expect(row.querySelector('a')).toBeNull();
  });
});

describe('message size limit', () => {
  const LIMIT = 16 * 1024;
  const alert = () => screen.queryByRole('alert');

  it('refuses a message over the limit before it is queued, says the limit in words and keeps the draft', () => {
    const fake = chatWith([]);
    renderShell(fake);
    const long = 'a'.repeat(LIMIT + 1);
    fireEvent.change(messageField(), { target: { value: long } });
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    fireEvent.click(sendButton());
    expect(fake.callsOf('send')).toEqual([]);
    expect(messageField().value).toBe(long);
    expect(alert()!.textContent).toContain('too long to send');
    expect(alert()!.textContent).toContain('16,384 bytes');
    expect(alert()!.textContent).toContain('this one has 16,385');
    expect(messageField().getAttribute('aria-invalid')).toBe('true');
    expect(messageField().getAttribute('aria-describedby')).toBe(alert()!.id);
  });

  it('measures UTF-8 bytes, as the wire does: 4,097 four-byte emoji are over, 16,384 ASCII letters are not', () => {
    const fake = chatWith([]);
    renderShell(fake);
    fireEvent.change(messageField(), { target: { value: '😀'.repeat(4097) } });
    fireEvent.click(sendButton());
    expect(fake.callsOf('send')).toEqual([]);
    expect(alert()!.textContent).toContain('this one has 16,388');
    fireEvent.change(messageField(), { target: { value: 'é'.repeat(LIMIT / 2) } });
    expect(alert()).toBeNull();
    fireEvent.click(sendButton());
    fireEvent.change(messageField(), { target: { value: `${'b'.repeat(LIMIT)}  \n` } });
    fireEvent.click(sendButton());
    expect(fake.callsOf('send')).toEqual([
      [BOB.id, 'é'.repeat(LIMIT / 2)],
      [BOB.id, 'b'.repeat(LIMIT)],
    ]);
  });

  it('the composer limit is the one send enforces', async () => {
    const { MAX_MESSAGE_TEXT_BYTES } = await import('../../../src/core/messenger/message-text-limit.ts');
    const { MAX_TEXT_BYTES } = await import('../../../src/core/wire/limits.ts');
    expect(MAX_MESSAGE_TEXT_BYTES).toBe(MAX_TEXT_BYTES);
    expect(MAX_MESSAGE_TEXT_BYTES).toBe(LIMIT);
  });
});

describe('names inside sentences', () => {
  it('are isolated (<bdi>) so a right-to-left name does not reorder the sentence around it', () => {
    const HEB = contact({ id: 'dd'.repeat(32), displayName: 'דנה', keyChanged: true });
    renderShell(new FakeMessenger(readyState({ contacts: [HEB], chat: { contactId: HEB.id, messages: [], hasOlder: false } })));
    const banner = screen.getByRole('alert');
    expect([...banner.querySelectorAll('bdi')].map((b) => b.textContent)).toEqual(['דנה']);
    expect(banner.textContent).toContain("דנה's safety number has changed");
  });
});

describe('attaching a file', () => {
  const attachInput = () => screen.getByLabelText('Attach file') as HTMLInputElement;
  // A file input fires `change` (what the app listens to). @testing-library/preact's
  // fireEvent.change fires `input` instead under preact/compat, so the event is made here.
  const chooseFiles = (input: HTMLInputElement, files: File[]) => fireEvent(input, createEvent.change(input, { target: { files } }));

  it('the composer has a file input labelled Attach file; a chosen file is sent to the open contact and shows in the log', async () => {
    const fake = chatWith([]);
    renderShell(fake);
    const file = new File(['hello'], 'hello.txt', { type: 'text/plain' });
    chooseFiles(attachInput(), [file]);
    await waitFor(() => expect(fake.callsOf('sendFile')).toEqual([[BOB.id, file, { name: 'hello.txt' }]]));
    await waitFor(() => expect(rows()).toHaveLength(1));
    expect(rows()[0]!.textContent).toContain('File: hello.txt');
    // Our own file has no Download button.
    expect(within(rows()[0]!).queryByRole('button', { name: 'Download' })).toBeNull();
  });

  it('a file over the limit is refused with the limit in words', async () => {
    const fake = chatWith([]);
    fake.sendFile = () => Promise.reject(Object.assign(new Error('Files can be at most 100 MiB; this one is 120.0 MiB.'), { kind: 'file_too_large' }));
    renderShell(fake);
    chooseFiles(attachInput(), [new File(['x'], 'huge.iso')]);
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Files can be at most 100 MiB; this one is 120.0 MiB.'));
    expect(rows()).toHaveLength(0);
  });

  it('an upload in progress shows a progressbar named after the file until its message is queued; Cancel stops it', () => {
    const id = 'ff'.repeat(16);
    const fake = chatWith([]);
    renderShell(fake);
    act(() =>
      fake.set({
        transfers: [
          { messageId: id, contactId: BOB.id, name: 'big.zip', direction: 'up', done: 4, total: 10 },
          { messageId: 'ee'.repeat(16), contactId: CAROL.id, name: 'carol.zip', direction: 'up', done: 1, total: 10 },
        ],
      }),
    );
    const bar = screen.getByRole('progressbar', { name: 'big.zip' }) as HTMLProgressElement;
    expect(bar.value).toBe(4);
    expect(screen.queryByRole('progressbar', { name: 'carol.zip' })).toBeNull();
    fireEvent.click(within(screen.getByRole('list', { name: 'Files being sent' })).getByRole('button', { name: 'Cancel' }));
    expect(fake.callsOf('cancelTransfer')).toEqual([[id]]);
    act(() => fake.set({ transfers: undefined }));
    expect(screen.queryByRole('progressbar')).toBeNull();
  });

  it('a failed upload says why; Retry continues it, Dismiss forgets it; one that cannot continue has no Retry', () => {
    const id = 'fa'.repeat(16);
    const fake = chatWith([]);
    renderShell(fake);
    const quota = "The relay's storage for your account is full.";
    act(() => fake.set({ transfers: [{ messageId: id, contactId: BOB.id, name: 'big.zip', direction: 'up', done: 4, total: 10, failure: quota, retryable: true }] }));
    const sending = screen.getByRole('list', { name: 'Files being sent' });
    expect(within(sending).getByRole('alert').textContent).toBe(`Not sent: big.zip. ${quota}`);
    fireEvent.click(within(sending).getByRole('button', { name: 'Retry' }));
    expect(fake.callsOf('retry')).toEqual([[id]]);
    fireEvent.click(within(sending).getByRole('button', { name: 'Dismiss' }));
    expect(fake.callsOf('cancelTransfer')).toEqual([[id]]);
    act(() => fake.set({ transfers: [{ messageId: id, contactId: BOB.id, name: 'big.zip', direction: 'up', done: 4, total: 10, failure: 'Attach the same file again.', retryable: false }] }));
    expect(within(screen.getByRole('list', { name: 'Files being sent' })).queryByRole('button', { name: 'Retry' })).toBeNull();
  });

  it('a file dropped on the composer is sent too', async () => {
    const fake = chatWith([]);
    renderShell(fake);
    const file = new File(['x'], 'dropped.txt', { type: 'text/plain' });
    const composer = messageField().closest('form')!;
    // happy-dom has no `ondrop`, for which the library's fireEvent.drop fires an event named "Drop".
    fireEvent(composer, createEvent.drop(composer, { dataTransfer: { files: [file], types: ['Files'] } }));
    await waitFor(() => expect(fake.callsOf('sendFile')).toEqual([[BOB.id, file, { name: 'dropped.txt' }]]));
  });

  it('an unlinked device cannot send: the composer says why and Send stays off', () => {
    const fake = chatWith([], { unlinked: true });
    renderShell(fake);
    fireEvent.input(messageField(), { target: { value: 'still here?' } });
    expect(sendButton().disabled).toBe(true);
    expect(attachInput().disabled).toBe(true);
    expect(screen.getByText(/This device was unlinked from your account: it can no longer send/)).toBeTruthy();
  });

  it('the file input is disabled while sending is blocked', () => {
    const fake = chatWith([], { phase: 'follower' });
    renderShell(fake);
    expect(attachInput().disabled).toBe(true);
  });
});

