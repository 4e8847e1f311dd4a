// @vitest-environment happy-dom
import { act, fireEvent, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chatRoute, chatRouteOf } from '../../../src/app/chat-route.ts';
import { FakeMessenger, contact, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
const CAROL = contact({ id: 'cc'.repeat(32), displayName: 'Carol' });

function layout(wide: boolean) {
  vi.stubGlobal('matchMedia', (query: string) => ({ matches: wide, media: query, addEventListener() {}, removeEventListener() {} }));
}

const pane = (container: Element) => container.querySelector('.shell-body')!.getAttribute('data-pane');

/** The browser's Back button: one history step, then its popstate. */
async function browserBack(): Promise<void> {
  const popped = new Promise((resolve) => window.addEventListener('popstate', resolve, { once: true }));
  window.history.back();
  await act(async () => {
    await popped;
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

describe('chat addresses', () => {
  it('are #/chat/<hex contact id>; anything else names no chat', () => {
    expect(chatRoute(BOB.id)).toBe(`#/chat/${BOB.id}`);
    expect(chatRouteOf(`#/chat/${BOB.id}`)).toBe(BOB.id);
    expect(chatRouteOf(`#/chat/${BOB.id.toUpperCase()}`)).toBe(BOB.id);
    for (const hash of ['', '#', '#/chat/', '#/chat/xyz', '#/chat/abc', `#/chat/${BOB.id}/x`, '#/chat/<script>', `#invite=${BOB.id}`, `#/chats/${BOB.id}`]) {
      expect(chatRouteOf(hash)).toBeUndefined();
    }
  });
});

describe('phone Back (narrower than 720 px)', () => {
  it('opening a chat pushes an entry; the browser Back returns to the list and focuses that contact', async () => {
    layout(false);
    const fake = new FakeMessenger(readyState({ contacts: [BOB, CAROL] }));
    const { container } = renderShell(fake);
    const before = window.history.length;
    fireEvent.click(screen.getByRole('button', { name: /^Bob/u }));
    expect(pane(container)).toBe('chat');
    expect(window.history.length).toBe(before + 1);
    expect(window.location.hash).toBe(`#/chat/${BOB.id}`);
    await browserBack();
    expect(pane(container)).toBe('list');
    expect(window.location.hash).toBe('');
    expect(fake.callsOf('openChat')).toEqual([[BOB.id], [undefined]]);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('button', { name: /^Bob/u })));
  });

  it('the in-app Back leaves the chat entry too, so a second chat and Back never stack up entries', async () => {
    layout(false);
    const fake = new FakeMessenger(readyState({ contacts: [BOB, CAROL] }));
    const { container } = renderShell(fake);
    const before = window.history.length;
    fireEvent.click(screen.getByRole('button', { name: /^Bob/u }));
    const popped = new Promise((resolve) => window.addEventListener('popstate', resolve, { once: true }));
    fireEvent.click(screen.getByRole('button', { name: 'Back to contacts' }));
    expect(pane(container)).toBe('list');
    await act(async () => {
      await popped;
    });
    expect(window.location.hash).toBe('');
    fireEvent.click(screen.getByRole('button', { name: /^Carol/u }));
    expect(window.location.hash).toBe(`#/chat/${CAROL.id}`);
    // The entry above the list was reused: one Back from Carol's chat is the list again.
    expect(window.history.length).toBe(before + 1);
    await browserBack();
    expect(pane(container)).toBe('list');
    expect(fake.callsOf('openChat')).toEqual([[BOB.id], [undefined], [CAROL.id], [undefined]]);
  });

  it('a deep link opens the chat, and Back from it goes to the list, not out of Petrel', async () => {
    layout(false);
    window.history.replaceState(null, '', `/${chatRoute(BOB.id)}`);
    const fake = new FakeMessenger(readyState({ contacts: [BOB, CAROL] }));
    const { container } = renderShell(fake);
    await waitFor(() => expect(pane(container)).toBe('chat'));
    expect(screen.getByRole('heading', { name: 'Bob' })).toBeTruthy();
    expect(fake.callsOf('openChat')).toEqual([[BOB.id]]);
    await browserBack();
    expect(pane(container)).toBe('list');
    expect(window.location.hash).toBe('');
    expect(screen.getByRole('heading', { name: 'Conversations' })).toBeTruthy();
  });
});

describe('deep links to a conversation', () => {
  it('wait for the contact list: a link opened while Petrel loads opens the chat once the contact is known', async () => {
    layout(true);
    window.history.replaceState(null, '', `/${chatRoute(CAROL.id)}`);
    const fake = new FakeMessenger(readyState({ phase: 'loading', contacts: [] }));
    renderShell(fake);
    act(() => fake.set({ phase: 'ready' }));
    expect(fake.callsOf('openChat')).toEqual([]);
    act(() => fake.set({ contacts: [BOB, CAROL] }));
    await waitFor(() => expect(fake.callsOf('openChat')).toEqual([[CAROL.id]]));
    expect(screen.getByRole('heading', { name: 'Carol' })).toBeTruthy();
  });

  it('follow a link navigated to while Petrel is open', async () => {
    layout(true);
    const fake = new FakeMessenger(readyState({ contacts: [BOB, CAROL] }));
    renderShell(fake);
    act(() => {
      window.location.hash = chatRoute(BOB.id);
    });
    await waitFor(() => expect(fake.callsOf('openChat')).toEqual([[BOB.id]]));
  });

  it('naming no contact of ours open nothing', async () => {
    layout(true);
    window.history.replaceState(null, '', `/${chatRoute('dd'.repeat(32))}`);
    const fake = new FakeMessenger(readyState({ contacts: [BOB, CAROL] }));
    renderShell(fake);
    await act(async () => {});
    expect(fake.callsOf('openChat')).toEqual([]);
    expect(screen.getByText('Choose a conversation.')).toBeTruthy();
  });

  it('on a wide layout the address names the open chat without adding history entries', () => {
    layout(true);
    const fake = new FakeMessenger(readyState({ contacts: [BOB, CAROL] }));
    renderShell(fake);
    const before = window.history.length;
    fireEvent.click(screen.getByRole('button', { name: /^Bob/u }));
    fireEvent.click(screen.getByRole('button', { name: /^Carol/u }));
    expect(window.location.hash).toBe(`#/chat/${CAROL.id}`);
    expect(window.history.length).toBe(before);
    // Not an entry Petrel pushed: a later in-app Back (after the window narrows) must not go back through it.
    expect(window.history.state).toBeNull();
  });

  it('the in-app Back after the window narrowed does not go back through an entry Petrel did not push', () => {
    let wide = true;
    const listeners = new Set<() => void>();
    vi.stubGlobal('matchMedia', (query: string) => ({
      get matches() {
        return wide;
      },
      media: query,
      addEventListener: (_: string, l: () => void) => listeners.add(l),
      removeEventListener: (_: string, l: () => void) => listeners.delete(l),
    }));
    const fake = new FakeMessenger(readyState({ contacts: [BOB, CAROL] }));
    const { container } = renderShell(fake);
    fireEvent.click(screen.getByRole('button', { name: /^Bob/u }));
    act(() => {
      wide = false;
      for (const l of listeners) l();
    });
    expect(pane(container)).toBe('chat');
    const back = vi.spyOn(window.history, 'back');
    fireEvent.click(screen.getByRole('button', { name: 'Back to contacts' }));
    expect(back).not.toHaveBeenCalled();
    back.mockRestore();
    expect(pane(container)).toBe('list');
    expect(window.location.hash).toBe('');
  });
});
