import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_NOTIFICATION_CONTENT,
  loadNotificationContent,
  notificationText,
  saveNotificationContent,
} from '../../src/platform/notification-settings.ts';

describe('notification content setting', () => {
  it('starts at "New message" and keeps what was chosen', async () => {
    expect(DEFAULT_NOTIFICATION_CONTENT).toBe('generic');
    expect(await loadNotificationContent()).toBe('generic');
    await saveNotificationContent('name_only');
    expect(await loadNotificationContent()).toBe('name_only');
    await saveNotificationContent('name_and_text');
    expect(await loadNotificationContent()).toBe('name_and_text');
  });

  it('shows exactly what each choice allows', () => {
    const m = { name: 'Bob', text: 'meet at 6' };
    expect(notificationText('name_and_text', m)).toEqual({ title: 'Bob', body: 'meet at 6' });
    expect(notificationText('name_only', m)).toEqual({ title: 'Bob', body: 'New message' });
    expect(notificationText('generic', m)).toEqual({ title: 'Petrel', body: 'New message' });
    // A file with no caption still says something.
    expect(notificationText('name_and_text', { name: 'Bob', text: '' })).toEqual({ title: 'Bob', body: 'New message' });
  });
});
