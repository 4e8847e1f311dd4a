/**
 * The account's settings a device link carries (core: messenger/account-settings.ts), read
 * and written in the browser's settings database (notification-settings.ts): what
 * notifications show, and a copy of the colour theme. The theme itself lives in Web
 * Storage, read before the first paint (app/theme.ts); Web Storage is out of reach of the
 * core's worker, so the app mirrors each choice here, and after a link it adopts the theme
 * the link brought (`loadThemeSetting`). Only known keys with known values are written;
 * anything else a link carries is skipped.
 */
import type { AccountSettings, AccountSettingsPort } from '../core/messenger/account-settings.ts';
import { isNotificationContent, NOTIFICATION_CONTENT_KEY, SETTINGS_STORE, settingsDatabase } from './notification-settings.ts';

export const THEME_KEY = 'theme';
/** The themes a setting may name ('system' is the absence of one). */
export type ThemeSetting = 'system' | 'light' | 'dark';

const isTheme = (v: unknown): v is ThemeSetting => v === 'system' || v === 'light' || v === 'dark';

/** The theme kept here (the last chosen on this device, or brought by a link); undefined when none. */
export async function loadThemeSetting(): Promise<ThemeSetting | undefined> {
  try {
    const v: unknown = await (await settingsDatabase()).get(SETTINGS_STORE, THEME_KEY);
    return isTheme(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps a copy of the chosen theme for links ('system' removes it). */
export async function saveThemeSetting(theme: ThemeSetting): Promise<void> {
  const db = await settingsDatabase();
  if (theme === 'system') await db.delete(SETTINGS_STORE, THEME_KEY);
  else await db.put(SETTINGS_STORE, theme, THEME_KEY);
}

/** The port the core's link uses in this browser. */
export function browserAccountSettings(): AccountSettingsPort {
  return {
    async read(): Promise<AccountSettings> {
      const db = await settingsDatabase();
      const [content, theme] = (await Promise.all([db.get(SETTINGS_STORE, NOTIFICATION_CONTENT_KEY), db.get(SETTINGS_STORE, THEME_KEY)])) as unknown[];
      return { ...(isNotificationContent(content) ? { [NOTIFICATION_CONTENT_KEY]: content } : {}), ...(isTheme(theme) && theme !== 'system' ? { [THEME_KEY]: theme } : {}) };
    },
    async write(settings: AccountSettings): Promise<void> {
      const db = await settingsDatabase();
      const content = settings[NOTIFICATION_CONTENT_KEY];
      if (isNotificationContent(content)) await db.put(SETTINGS_STORE, content, NOTIFICATION_CONTENT_KEY);
      const theme = settings[THEME_KEY];
      if (isTheme(theme)) await saveThemeSetting(theme);
    },
  };
}
