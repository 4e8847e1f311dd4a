// @vitest-environment happy-dom
/**
 * Focus lands somewhere sensible (issue 20): after the identity is created, on "Your
 * invite" (the next step), or on the invite under review when one was opened first; after
 * any dialog closes (Escape or its Close button), back on what opened it.
 */
import { act, fireEvent, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { FakeMessenger, contact, fakeInviteUrl, message, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });

async function createIdentity(fake: FakeMessenger) {
  fireEvent.input(screen.getByLabelText('Display name'), { target: { value: 'Alice' } });
  await act(async () => void fireEvent.click(screen.getByRole('button', { name: 'Create identity' })));
  expect(fake.callsOf('createIdentity')).toEqual([['Alice']]);
}

describe('focus after creating an identity', () => {
  it('goes to "Your invite"', async () => {
    const fake = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined }));
    renderShell(fake);
    await createIdentity(fake);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Your invite' })));
  });

  it('goes to the invite under review when one was opened before', async () => {
    window.history.replaceState(null, '', `/${new URL(fakeInviteUrl('Carol')).hash}`);
    const fake = new FakeMessenger(readyState({ phase: 'onboarding', me: undefined }));
    // This page's address is not the fake's: read Carol's invite from the fragment.
    const parse = fake.parseInvite.bind(fake);
    fake.parseInvite = (url: string) => parse(`https://petrel.test/${new URL(url).hash}`);
    renderShell(fake);
    await createIdentity(fake);
    await waitFor(() => expect(document.activeElement).toBe(screen.getByRole('heading', { name: 'Add Carol?' })));
  });
});

describe('focus after closing a dialog; Escape closes every dialog', () => {
  const chat = () =>
    new FakeMessenger(
      readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [message({ id: '01'.repeat(16), contactId: BOB.id, canDeleteForEveryone: true })], hasOlder: false } }),
    );
  const cases: Array<[string, string, () => void]> = [
    ['Settings', 'Settings', () => undefined],
    ['Scan QR code', 'Scan an invite QR code', () => undefined],
    ['Verify safety number', 'Verify Bob’s identity', () => undefined],
  ];
  for (const [opener, title] of cases) {
    it(`${title}: Escape closes it and focus returns to ${opener}`, async () => {
      renderShell(chat());
      const button = screen.getByRole('button', { name: opener });
      button.focus();
      fireEvent.click(button);
      const dialog = screen.getByRole('dialog', { name: title });
      expect(dialog.contains(document.activeElement)).toBe(true);
      fireEvent.keyDown(document.activeElement!, { key: 'Escape' });
      expect(screen.queryByRole('dialog')).toBeNull();
      await waitFor(() => expect(document.activeElement).toBe(button));
    });
  }
});
