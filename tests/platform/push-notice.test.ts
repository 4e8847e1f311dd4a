/** What a notification says after the service worker caught up for a push (src/platform/push-notice.ts). */
import { describe, expect, it } from 'vitest';
import type { ContactView } from '../../src/core/messenger/messenger-api.ts';
import { joinNames, pushNotice } from '../../src/platform/push-notice.ts';
import { contactName } from '../../src/app/views/contact-name.ts';

function contact(id: string, name: string, unread: number, text: string, extra: Partial<ContactView> = {}): ContactView {
  return { id, displayName: name, verified: false, keyChanged: false, unread, direct: false, lastMessage: { text, at: 1, direction: 'in' }, ...extra };
}

describe('push notice', () => {
  const ada = contact('aa', 'Ada', 1, 'Lunch at one?');
  const bo = contact('bb', 'Bo', 2, 'On my way');
  const cy = contact('cc', 'Cy', 0, 'old');

  it('names the one conversation with its latest text, as far as the setting allows', () => {
    expect(pushNotice([ada, cy], 'name_and_text', contactName)).toEqual({ title: 'Ada', body: 'Lunch at one?', contactId: 'aa', unread: 1 });
    expect(pushNotice([bo], 'name_and_text', contactName)).toEqual({ title: 'Bo', body: '2 new messages. Latest: On my way', contactId: 'bb', unread: 2 });
    expect(pushNotice([ada], 'name_only', contactName)).toEqual({ title: 'Ada', body: 'New message', contactId: 'aa', unread: 1 });
    expect(pushNotice([bo], 'name_only', contactName)).toEqual({ title: 'Bo', body: '2 new messages', contactId: 'bb', unread: 2 });
    expect(pushNotice([ada], 'generic', contactName)).toEqual({ title: 'Petrel', body: 'New message', unread: 1 });
  });

  it('counts several conversations without their texts', () => {
    expect(pushNotice([bo, ada, cy], 'name_and_text', contactName)).toEqual({ title: 'Petrel', body: '3 new messages from Bo and Ada', unread: 3 });
    expect(pushNotice([bo, ada], 'name_only', contactName)?.body).toBe('3 new messages from Bo and Ada');
  });

  it('says nothing about blocked contacts, read conversations or our own last message', () => {
    const blocked = contact('dd', 'Dee', 4, 'spam', { blocked: true });
    const ours = contact('ee', 'Eve', 1, 'mine', { lastMessage: { text: 'mine', at: 2, direction: 'out' } });
    expect(pushNotice([blocked, cy, ours], 'name_and_text', contactName)).toBeUndefined();
  });

  it('an unnamed writer is "Unknown contact"; a file without caption says only that a message came', () => {
    const unnamed = contact('ff', '', 1, '', { unnamed: true });
    expect(pushNotice([unnamed], 'name_and_text', contactName)).toEqual({ title: 'Unknown contact', body: 'New message', contactId: 'ff', unread: 1 });
  });

  it('joins names the way a person writes them', () => {
    expect(joinNames([])).toBe('');
    expect(joinNames(['Ada'])).toBe('Ada');
    expect(joinNames(['Ada', 'Bo', 'Cy'])).toBe('Ada, Bo and Cy');
    expect(joinNames(['Ada', 'Bo', 'Cy', 'Dee', 'Eve'])).toBe('Ada, Bo and 3 others');
  });
});
