// @vitest-environment happy-dom
/**
 * Persistent storage (issue 17): asked for once a conversation holds a message (not at
 * first sight), and, while the browser has not granted it, said plainly outside
 * Diagnostics with what to do; nothing shows once it is granted or where it cannot be known.
 */
import { act, cleanup, render, screen, waitFor } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { MessengerProvider } from '../../../src/app/messenger-context.tsx';
import type { PersistableStorage } from '../../../src/app/pwa/persistent-storage.ts';
import { PersistenceNotice } from '../../../src/app/views/status/PersistenceNotice.tsx';
import { FakeMessenger, contact, readyState } from './fake-messenger.ts';

afterEach(cleanup);

function browserStorage(grant: boolean) {
  let persisted = false;
  let asks = 0;
  const storage: PersistableStorage = {
    persisted: async () => persisted,
    persist: async () => {
      asks++;
      persisted = grant;
      return grant;
    },
  };
  return { storage, asks: () => asks };
}

const bo = contact({ id: 'bb'.repeat(32), displayName: 'Bo' });

describe('persistence notice', () => {
  it('waits for the first conversation to ask, then says what to do when the browser refuses, until dismissed', async () => {
    const messenger = new FakeMessenger(readyState({ contacts: [bo] }));
    const { storage, asks } = browserStorage(false);
    render(
      <MessengerProvider messenger={messenger}>
        <PersistenceNotice storage={storage} />
      </MessengerProvider>,
    );
    const notice = await screen.findByRole('status');
    expect(notice.textContent).toMatch(/may delete Petrel’s messages and keys.*install Petrel.*link another device.*backup/);
    expect(asks()).toBe(0);
    act(() => messenger.set({ contacts: [{ ...bo, lastMessage: { text: 'hi', at: 1, direction: 'in' } }] }));
    await waitFor(() => expect(asks()).toBe(1));
    expect(screen.getByRole('status')).toBeTruthy();
    act(() => screen.getByRole('button', { name: 'Not now' }).click());
    expect(screen.queryByRole('status')).toBeNull();
    expect(asks()).toBe(1);
  });

  it('disappears once the browser grants persistence, and never shows where it cannot be known', async () => {
    const messenger = new FakeMessenger(readyState({ contacts: [{ ...bo, lastMessage: { text: 'hi', at: 1, direction: 'in' } }] }));
    const { storage, asks } = browserStorage(true);
    render(
      <MessengerProvider messenger={messenger}>
        <PersistenceNotice storage={storage} />
      </MessengerProvider>,
    );
    await waitFor(() => expect(asks()).toBe(1));
    await waitFor(() => expect(screen.queryByRole('status')).toBeNull());
    cleanup();
    render(
      <MessengerProvider messenger={messenger}>
        <PersistenceNotice storage={null} />
      </MessengerProvider>,
    );
    await act(async () => {});
    expect(screen.queryByRole('status')).toBeNull();
  });
});
