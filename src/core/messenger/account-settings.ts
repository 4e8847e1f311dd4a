/**
 * The account's settings a device link carries to the new device (issue 16, docs/PROTOCOL.md
 * §13.6): what the user chose on one device and expects on the next (the colour theme, what
 * notifications show, …). The settings live outside the core (the app's and the platform's
 * own storage); the core carries them as short text pairs through this port, without
 * reading them: the platform says which keys exist and refuses values it does not know.
 * Device-specific state (a push subscription, storage persistence) is no setting here.
 */
import { MAX_LINK_SETTINGS, MAX_LINK_SETTING_KEY_BYTES, MAX_LINK_SETTING_VALUE_BYTES, type LinkSetting } from '../wire/index.ts';

export type AccountSettings = Readonly<Record<string, string>>;

export interface AccountSettingsPort {
  /** This device's settings (only those the user set; a failed read is an empty object). */
  read(): Promise<AccountSettings>;
  /** Takes the settings another device of the account sent; a key or value it does not know is skipped, not an error. */
  write(settings: AccountSettings): Promise<void>;
}

const utf8 = new TextEncoder();

/** The settings that fit a link record, in key order (oversized pairs and those past the limit are left out). */
export function linkableSettings(settings: AccountSettings): LinkSetting[] {
  return Object.keys(settings)
    .sort()
    .filter((k) => typeof settings[k] === 'string' && utf8.encode(k).length <= MAX_LINK_SETTING_KEY_BYTES && utf8.encode(settings[k]!).length <= MAX_LINK_SETTING_VALUE_BYTES)
    .slice(0, MAX_LINK_SETTINGS)
    .map((k) => ({ k, v: settings[k]! }));
}

/** The settings of a link record as the port takes them (a key sent twice: the last wins). */
export function settingsOfLink(settings: readonly LinkSetting[] | undefined): AccountSettings {
  return Object.fromEntries((settings ?? []).map((s) => [s.k, s.v]));
}
