// @vitest-environment happy-dom
import { fireEvent, screen } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import { FakeMessenger, contact, message, readyState } from './fake-messenger.ts';
import { renderShell } from './render-shell.tsx';

/**
 * Elements whose label contains `text` (case-insensitive), the way Playwright's
 * non-exact `getByLabel` finds them: aria-label, aria-labelledby, <label for>.
 */
function labelledContaining(text: string): Element[] {
  const needle = text.toLowerCase();
  const found = new Set<Element>();
  for (const el of document.querySelectorAll('[aria-label]')) if (el.getAttribute('aria-label')!.toLowerCase().includes(needle)) found.add(el);
  for (const el of document.querySelectorAll('[aria-labelledby]')) {
    const label = el
      .getAttribute('aria-labelledby')!
      .split(/\s+/)
      .map((id) => document.getElementById(id)?.textContent ?? '')
      .join(' ');
    if (label.toLowerCase().includes(needle)) found.add(el);
  }
  for (const label of document.querySelectorAll('label')) {
    if (!label.textContent!.toLowerCase().includes(needle)) continue;
    const target = label.htmlFor ? document.getElementById(label.htmlFor) : label.querySelector('input, textarea, select');
    if (target) found.add(target);
  }
  return [...found];
}

const BOB = contact({ id: 'bb'.repeat(32), displayName: 'Bob', keyChanged: true, unread: 1, lastMessage: { text: 'hi', at: 1, direction: 'in' } });

describe('UI contract names', () => {
  it('exist with the right roles in the ready phase, and "Your invite link" labels exactly one element', () => {
    renderShell(new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [message({ id: 'a', contactId: BOB.id })], hasOlder: false } })));
    expect(screen.getByRole('textbox', { name: 'Your invite link' })).toBeTruthy();
    expect(screen.getByRole('textbox', { name: 'Message' }).tagName).toBe('TEXTAREA');
    expect(screen.getByRole('button', { name: 'Send' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Verify safety number' })).toBeTruthy();
    expect(screen.getByRole('status', { name: 'Connection' })).toBeTruthy();
    expect(screen.getByRole('log', { name: 'Messages' })).toBeTruthy();
    expect(screen.getByRole('button', { name: /^Bob/ })).toBeTruthy();
    expect(labelledContaining('Your invite link')).toHaveLength(1);
    expect(labelledContaining('Safety number')).toHaveLength(0);
    // "Message" is also a substring of the log's name "Messages": match it exactly or by role.
    expect(labelledContaining('Message').map((e) => e.tagName)).toEqual(['DIV', 'TEXTAREA']);
  });

  it('"Safety number" labels exactly one element while verifying, even with a key change in view', async () => {
    renderShell(new FakeMessenger(readyState({ contacts: [BOB], chat: { contactId: BOB.id, messages: [], hasOlder: false } })));
    fireEvent.click(screen.getByRole('button', { name: 'Verify safety number' }));
    await screen.findByLabelText('Safety number');
    expect(labelledContaining('Safety number')).toHaveLength(1);
  });

  it('onboarding names exist', () => {
    renderShell(new FakeMessenger(readyState({ phase: 'onboarding', me: undefined })));
    expect(screen.getByRole('textbox', { name: 'Display name' })).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Create identity' })).toBeTruthy();
    expect(screen.getByRole('status', { name: 'Connection' })).toBeTruthy();
    // Issue 17: Playwright's non-exact names must each find one element.
    expect(screen.getByRole('form', { name: 'Restore from backup' })).toBeTruthy();
    expect(labelledContaining('Backup file')).toHaveLength(1);
    expect(labelledContaining('Recovery key')).toHaveLength(1);
    expect(screen.getAllByRole('button').filter((b) => b.textContent!.toLowerCase().includes('restore'))).toHaveLength(1);
  });

  it('Back up names exist, each found once', async () => {
    renderShell(new FakeMessenger(readyState({ backup: { relay: false } })));
    expect(screen.getAllByRole('button').filter((b) => b.textContent!.toLowerCase().includes('back up'))).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Back up' }));
    expect(screen.getByRole('button', { name: 'Download backup' })).toBeTruthy();
    expect(screen.getByRole('switch', { name: 'Keep a backup on the relay' })).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Download backup' }));
    await screen.findByLabelText('Recovery key');
    expect(labelledContaining('Recovery key')).toHaveLength(1);
  });
});
