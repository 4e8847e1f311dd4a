// @vitest-environment happy-dom
/**
 * Drafts shared between tabs of one profile (Web Storage, draft-store.ts): another tab's
 * change shows here only over the draft it replaced. Its `storage` events can reach this
 * page after what was typed here since (a busy page dispatches them late); applied then,
 * they emptied the field just before Enter, and the message typed here was never sent
 * (chaos scenario 7 lost one of Alice's messages this way on a loaded machine).
 */
import { act, cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it } from 'vitest';
import { Shell } from '../../../src/app/Shell.tsx';
import { DraftStore } from '../../../src/platform/keypress/draft-store.ts';
import { MemorySyncStorage } from '../../../src/platform/keypress/sync-storage.ts';
import { FakeMessenger, contact, readyState } from './fake-messenger.ts';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });
const KEY = `petrel:p:draft:${BOB.id}`;
const messageField = () => screen.getByLabelText('Message') as HTMLTextAreaElement;

afterEach(() => {
  cleanup();
  window.history.replaceState(null, '', '/');
});

/** This tab, its chat with Bob open, over storage it shares with another tab. */
function thisTab() {
  const storage = new MemorySyncStorage();
  const drafts = new DraftStore(storage, 'p');
  const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
  render(<Shell messenger={fake} drafts={drafts} />);
  /** The other tab writes the shared storage; its event reaches this page when `deliver` is called. */
  const otherTab = (value: string) => {
    const old = storage.getItem(KEY);
    if (value === '') storage.removeItem(KEY);
    else storage.setItem(KEY, value);
    return () => act(() => drafts.storageChanged(KEY, old, value === '' ? null : value));
  };
  return { fake, otherTab };
}

describe('drafts shared with another tab', () => {
  it('another tab typing and sending shows here as it happens', () => {
    const { otherTab } = thisTab();
    otherTab('typed there')();
    expect(messageField().value).toBe('typed there');
    otherTab('')();
    expect(messageField().value).toBe('');
  });

  it('a late event of the other tab (typed, sent) neither replaces nor empties what was typed here since; Enter sends it', () => {
    const { fake, otherTab } = thisTab();
    // The other tab typed and sent its message; its two events have not reached this page yet.
    const typedThere = otherTab('sent from the other tab');
    const sentThere = otherTab('');
    fireEvent.change(messageField(), { target: { value: 'typed here' } });
    typedThere();
    sentThere();
    expect(messageField().value).toBe('typed here');
    fireEvent.keyDown(messageField(), { key: 'Enter' });
    expect(fake.callsOf('send')).toEqual([[BOB.id, 'typed here']]);
  });
});
