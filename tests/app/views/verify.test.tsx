// @vitest-environment happy-dom
import { fireEvent, screen, waitFor } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { FakeMessenger, SAFETY_DIGITS, contact, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob' });

function openVerify(fake: FakeMessenger) {
  renderShell(fake);
  fireEvent.click(screen.getByRole('button', { name: 'Verify safety number' }));
  return screen.getByRole('dialog', { name: 'Verify Bob’s identity' });
}

describe('safety number', () => {
  it('shows the 60 digits in an element labelled "Safety number", grouped in 12 blocks of 5, and a QR code', async () => {
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
    openVerify(fake);
    const number = await screen.findByLabelText('Safety number');
    expect(number.textContent!.replace(/\s/g, '')).toBe(SAFETY_DIGITS);
    expect(number.textContent!.split(' ')).toHaveLength(12);
    expect(number.textContent!.split(' ').every((g) => /^\d{5}$/.test(g))).toBe(true);
    expect((await screen.findByRole('img', { name: 'QR code to scan on Bob’s device' })).querySelectorAll('rect').length).toBeGreaterThan(20);
    expect(fake.callsOf('safetyNumber')).toEqual([[BOB.id]]);
  });

  it('marks and unmarks the contact as verified', async () => {
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
    openVerify(fake);
    fireEvent.click(screen.getByRole('button', { name: 'Mark as verified' }));
    expect(fake.callsOf('setVerified')).toEqual([[BOB.id, true]]);
    const unmark = await screen.findByRole('button', { name: 'Unmark as verified' });
    await waitFor(() => expect((unmark as HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(unmark);
    expect(fake.callsOf('setVerified')).toEqual([
      [BOB.id, true],
      [BOB.id, false],
    ]);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Mark as verified' })).toBeTruthy());
  });

  it('says so when the core cannot compute it', async () => {
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
    fake.failing.add('safetyNumber');
    openVerify(fake);
    expect((await screen.findByRole('alert')).textContent).toMatch(/could not be computed/);
    expect(screen.queryByLabelText('Safety number')).toBeNull();
  });

  it('closes on Escape and with the Close button; the rest of the page is inert meanwhile', () => {
    const fake = new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } }));
    const dialog = openVerify(fake);
    expect(document.querySelector('.shell-scope')!.hasAttribute('inert')).toBe(true);
    fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.querySelector('.shell-scope')!.hasAttribute('inert')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Verify safety number' }));
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });
});
