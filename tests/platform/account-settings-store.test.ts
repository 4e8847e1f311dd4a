import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { browserAccountSettings, loadThemeSetting, saveThemeSetting } from '../../src/platform/account-settings-store.ts';
import { loadNotificationContent, saveNotificationContent } from '../../src/platform/notification-settings.ts';

describe('the account settings a link carries, in the browser settings database', () => {
  it('reads only what was set, writes only known keys with known values, and the theme copy follows the choice', async () => {
    const port = browserAccountSettings();
    expect(await port.read()).toEqual({});
    await saveNotificationContent('name_only');
    await saveThemeSetting('dark');
    expect(await port.read()).toEqual({ notificationContent: 'name_only', theme: 'dark' });
    await saveThemeSetting('system');
    expect(await loadThemeSetting()).toBeUndefined();
    expect(await port.read()).toEqual({ notificationContent: 'name_only' });

    // What a link brought: known pairs are kept, unknown keys and values skipped.
    await port.write({ notificationContent: 'name_and_text', theme: 'light', fontSize: 'huge' });
    expect(await loadNotificationContent()).toBe('name_and_text');
    expect(await loadThemeSetting()).toBe('light');
    await port.write({ notificationContent: 'everything', theme: 'purple' });
    expect(await port.read()).toEqual({ notificationContent: 'name_and_text', theme: 'light' });
  });
});
