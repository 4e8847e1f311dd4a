// @vitest-environment happy-dom
/**
 * Reading means read (issue 20): a message is marked read only once it is on screen
 * while the page is visible; a chat opened with unread messages shows them under an
 * "Unread messages" divider; away from the bottom, Jump to latest says how many wait.
 */
import { act, fireEvent, screen, waitFor, within } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageView } from '../../../src/core/messenger/messenger-api.ts';
import { FakeMessenger, contact, message, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';
import { stubSight } from './fake-sight.ts';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
const incoming = (id: string, status: MessageView['status'] = 'delivered') => message({ id, contactId: BOB.id, direction: 'in', status, text: `text ${id}` });

function chatWith(messages: readonly MessageView[]) {
  const unread = messages.filter((m) => m.direction === 'in' && m.status !== 'read').length;
  return new FakeMessenger(readyState({ contacts: [{ ...BOB, unread }], chat: { contactId: BOB.id, messages, hasOlder: false } }));
}
const log = () => screen.getByRole('log', { name: 'Messages' });
const row = (id: string) => log().querySelector<HTMLElement>(`[data-row-id="${id}"]`)!;

let visibility: DocumentVisibilityState = 'visible';
function setVisibility(state: DocumentVisibilityState) {
  visibility = state;
  act(() => void document.dispatchEvent(new Event('visibilitychange')));
}
/** Pretends the log is scrolled `fromBottom` px above its end (happy-dom has no layout). */
function scrollLog(fromBottom: number) {
  const el = log();
  Object.defineProperty(el, 'scrollHeight', { configurable: true, value: 2000 });
  Object.defineProperty(el, 'clientHeight', { configurable: true, value: 500 });
  el.scrollTop = 1500 - fromBottom;
  fireEvent.scroll(el);
}

afterEach(() => {
  vi.restoreAllMocks();
  visibility = 'visible';
});
describe('reading means read', () => {
  it('nothing is read until it is on screen; then up to the newest one in view', async () => {
    vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);
    const sight = stubSight();
    const fake = chatWith([incoming('01'.repeat(16)), incoming('02'.repeat(16)), incoming('03'.repeat(16))]);
    renderShell(fake);
    await waitFor(() => expect(sight.observed()).toHaveLength(3));
    expect(fake.callsOf('markRead')).toEqual([]);
    sight.show(`[data-row-id="${'02'.repeat(16)}"]`);
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[BOB.id, '02'.repeat(16)]]));
    expect(row('03'.repeat(16)).getAttribute('data-status')).toBe('delivered');
    expect(row('03'.repeat(16)).hasAttribute('data-unread')).toBe(true);
    expect(row('02'.repeat(16)).hasAttribute('data-unread')).toBe(false);
  });

  it('a message on screen while the page is hidden is read only when the page shows again', async () => {
    vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);
    const sight = stubSight();
    const fake = chatWith([incoming('01'.repeat(16), 'read')]);
    renderShell(fake);
    setVisibility('hidden');
    act(() => fake.set({ chat: { contactId: BOB.id, messages: [incoming('01'.repeat(16), 'read'), incoming('02'.repeat(16))], hasOlder: false } }));
    sight.show();
    expect(fake.callsOf('markRead')).toEqual([]);
    setVisibility('visible');
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[BOB.id, '02'.repeat(16)]]));
  });

  it('a message arriving while scrolled up is not read; Jump to latest counts it and brings it into view', async () => {
    vi.spyOn(document, 'visibilityState', 'get').mockImplementation(() => visibility);
    const sight = stubSight();
    const fake = chatWith([incoming('01'.repeat(16), 'read')]);
    renderShell(fake);
    scrollLog(600);
    const jump = await screen.findByRole('button', { name: /^Jump to latest/ });
    expect(jump.textContent).toBe('Jump to latest');
    act(() => fake.set({ chat: { contactId: BOB.id, messages: [incoming('01'.repeat(16), 'read'), incoming('02'.repeat(16)), incoming('03'.repeat(16))], hasOlder: false } }));
    // The older message is still in view; the new ones are below it, out of sight.
    sight.show(`[data-row-id="${'01'.repeat(16)}"]`);
    expect(fake.callsOf('markRead')).toEqual([]);
    expect(screen.getByRole('button', { name: 'Jump to latest, 2 new messages' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /^Jump to latest/ }));
    expect(screen.queryByRole('button', { name: /^Jump to latest/ })).toBeNull();
    sight.show();
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[BOB.id, '03'.repeat(16)]]));
  });

  it('Jump to latest is not drawn over the log', () => {
    const fake = chatWith([incoming('01'.repeat(16), 'read')]);
    renderShell(fake);
    scrollLog(600);
    const jump = screen.getByRole('button', { name: /^Jump to latest/ });
    expect(log().contains(jump)).toBe(false);
    expect(jump.parentElement!.previousElementSibling).toBe(log());
  });

  it('opens with an "Unread messages" divider above the first unread message, kept while reading', async () => {
    const sight = stubSight();
    const fake = chatWith([incoming('01'.repeat(16), 'read'), incoming('02'.repeat(16)), incoming('03'.repeat(16))]);
    renderShell(fake);
    sight.show();
    const divider = within(log()).getByText('Unread messages');
    expect(divider.closest('[data-row-id]')!.getAttribute('data-row-id')).toBe('02'.repeat(16));
    await waitFor(() => expect(fake.callsOf('markRead')).toEqual([[BOB.id, '03'.repeat(16)]]));
    expect(within(log()).getAllByText('Unread messages')).toHaveLength(1);
  });

  it('no divider when nothing was unread at opening, not even for a message arriving later', () => {
    const fake = chatWith([incoming('01'.repeat(16), 'read')]);
    renderShell(fake);
    act(() => fake.set({ chat: { contactId: BOB.id, messages: [incoming('01'.repeat(16), 'read'), incoming('02'.repeat(16))], hasOlder: false } }));
    expect(within(log()).queryByText('Unread messages')).toBeNull();
  });

  it('a failed read is tried again at the next chance', async () => {
    const sight = stubSight();
    const fake = chatWith([incoming('01'.repeat(16))]);
    fake.failing.add('markRead');
    renderShell(fake);
    sight.show();
    await waitFor(() => expect(fake.callsOf('markRead')).toHaveLength(1));
    fake.failing.delete('markRead');
    sight.show();
    await waitFor(() => expect(fake.callsOf('markRead')).toHaveLength(2));
    await waitFor(() => expect(row('01'.repeat(16)).getAttribute('data-status')).toBe('read'));
  });
});
