/** What of the account's settings fits a link record (account-settings.ts). */
import { describe, expect, it } from 'vitest';
import { linkableSettings, settingsOfLink } from '../../src/core/messenger/account-settings.ts';
import { MAX_LINK_SETTINGS } from '../../src/core/wire/index.ts';

describe('account settings in a link', () => {
  it('keeps the pairs that fit, in key order, at most MAX_LINK_SETTINGS, and they round-trip', () => {
    expect(linkableSettings({ theme: 'dark', notificationContent: 'generic' })).toEqual([
      { k: 'notificationContent', v: 'generic' },
      { k: 'theme', v: 'dark' },
    ]);
    expect(linkableSettings({ ['k'.repeat(65)]: 'x', theme: 'y'.repeat(257), ok: 'é'.repeat(128) })).toEqual([{ k: 'ok', v: 'é'.repeat(128) }]);
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${String(i).padStart(2, '0')}`, 'v']));
    const pairs = linkableSettings(many);
    expect(pairs).toHaveLength(MAX_LINK_SETTINGS);
    expect(settingsOfLink(pairs)).toEqual(Object.fromEntries(pairs.map((p) => [p.k, p.v])));
    expect(settingsOfLink(undefined)).toEqual({});
  });
});
