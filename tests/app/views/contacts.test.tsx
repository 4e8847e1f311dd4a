// @vitest-environment happy-dom
import { act, fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeMessenger, contact, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const contacts = [
  contact({ id: 'bb'.repeat(32), displayName: 'Bob', unread: 2, lastMessage: { text: 'hi', at: 3, direction: 'in' } }),
  contact({ id: 'cc'.repeat(32), displayName: 'Carol', verified: true, lastMessage: { text: 'see you\nat 5', at: 2, direction: 'out' } }),
  contact({ id: 'dd'.repeat(32), displayName: 'Dave', keyChanged: true }),
];

const contactButtons = () => within(screen.getByRole('heading', { name: 'Conversations' }).parentElement!).getAllByRole('button');

describe('contact list', () => {
  it('lists contacts in the core’s order (most recent first), each named beginning with the display name', () => {
    renderShell(new FakeMessenger(readyState({ contacts })));
    const names = contactButtons().map((b) => b.getAttribute('aria-label'));
    expect(names).toEqual(['Bob, 2 unread, last: hi', 'Carol, verified, you: see you at 5', 'Dave, identity key changed']);
    for (const [i, c] of contacts.entries()) expect(names[i]!.startsWith(c.displayName)).toBe(true);
  });

  it('shows preview, unread count, verified and key-changed badges', () => {
    renderShell(new FakeMessenger(readyState({ contacts })));
    const [bob, carol, dave] = contactButtons();
    expect(bob!.textContent).toContain('hi');
    expect(bob!.querySelector('.contact-unread')!.textContent).toBe('2');
    expect(carol!.textContent).toContain('You: see you at 5');
    expect(carol!.querySelector('[title="Verified"]')).not.toBeNull();
    expect(dave!.textContent).toContain('Safety number changed');
  });

  it('opens a chat on click and marks it as the current one', () => {
    const fake = new FakeMessenger(readyState({ contacts }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: /^Carol/ }));
    expect(fake.callsOf('openChat')).toEqual([['cc'.repeat(32)]]);
    expect(screen.getByRole('button', { name: /^Carol/ }).getAttribute('aria-current')).toBe('true');
  });

  it('moves focus into the opened chat (the composer on wide screens)', async () => {
    const fake = new FakeMessenger(readyState({ contacts }));
    renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: /^Carol/ }));
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('textbox', { name: 'Message' })));
  });

  it('re-orders when the core does', () => {
    const fake = new FakeMessenger(readyState({ contacts }));
    renderShell(fake);
    act(() => fake.set({ contacts: [contacts[2]!, contacts[0]!, contacts[1]!] }));
    expect(contactButtons().map((b) => b.getAttribute('aria-label')!.split(',')[0])).toEqual(['Dave', 'Bob', 'Carol']);
  });

  it('names a contact that has not told us its name in the app’s own words', () => {
    const unnamed = contact({ id: 'ee'.repeat(32), displayName: '', unnamed: true, unread: 1, lastMessage: { text: 'hello', at: 4, direction: 'in' } });
    renderShell(new FakeMessenger(readyState({ contacts: [unnamed] })));
    const [button] = contactButtons();
    expect(button!.getAttribute('aria-label')).toBe('Unknown contact, 1 unread, last: hello');
    expect(button!.querySelector('.contact-name')!.textContent).toBe('Unknown contact');
  });

  it('says what to do when there are no contacts', () => {
    renderShell(new FakeMessenger());
    expect(screen.getByText(/No contacts yet/)).toBeTruthy();
  });
});

describe('phone layout (narrower than 720 px)', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows one pane at a time: opening a chat shows it with a Back button, Back returns to the list', () => {
    vi.stubGlobal('matchMedia', (query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {} }));
    const fake = new FakeMessenger(readyState({ contacts }));
    const { container } = renderShell(fake);
    const body = () => container.querySelector('.shell-body')!;
    expect(body().getAttribute('data-pane')).toBe('list');
    fireEvent.click(screen.getByRole('button', { name: /^Bob/ }));
    expect(body().getAttribute('data-pane')).toBe('chat');
    expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Bob' }));
    fireEvent.click(screen.getByRole('button', { name: 'Back to contacts' }));
    expect(body().getAttribute('data-pane')).toBe('list');
    expect(document.activeElement).toBe(screen.getByRole('button', { name: /^Bob/ }));
    expect(fake.callsOf('openChat')).toEqual([['bb'.repeat(32)], [undefined]]);
  });

  it('does not mark a chat read while the contact list covers it', () => {
    vi.stubGlobal('matchMedia', (query: string) => ({ matches: false, media: query, addEventListener() {}, removeEventListener() {} }));
    const bob = contacts[0]!;
    const fake = new FakeMessenger(readyState({ contacts, chat: { contactId: bob.id, messages: [], hasOlder: false } }));
    renderShell(fake);
    expect(fake.callsOf('markRead')).toEqual([]);
  });
});
