/**
 * The colour theme chosen in Settings: the system's, light or dark. Kept in
 * localStorage (read synchronously before the first paint by public/theme-boot.js, which
 * must agree on the key and values) and applied as `data-theme` on <html>, which the
 * stylesheets' dark tokens follow. A copy goes to the settings database, so a device link
 * carries it to a new device (platform/account-settings-store.ts).
 */
export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];
export const THEME_LABELS: Readonly<Record<Theme, string>> = { system: 'Same as the system', light: 'Light', dark: 'Dark' };

const KEY = 'petrel.theme';

export function loadTheme(): Theme {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** Applies `theme` now and keeps it for next time; false when it could not be kept (applied anyway). */
export function saveTheme(theme: Theme, root: HTMLElement = document.documentElement): boolean {
  if (theme === 'system') root.removeAttribute('data-theme');
  else root.setAttribute('data-theme', theme);
  // A copy for device links (the core's worker cannot read Web Storage): loaded on demand, off the first screen.
  void import('../platform/account-settings-store.ts').then((m) => m.saveThemeSetting(theme)).catch(() => undefined);
  try {
    if (theme === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
    return true;
  } catch {
    return false;
  }
}

/** After this device was linked: the theme the link brought (if any) becomes this device's. */
export async function adoptLinkedTheme(root: HTMLElement = document.documentElement): Promise<void> {
  const theme = await import('../platform/account-settings-store.ts').then((m) => m.loadThemeSetting()).catch(() => undefined);
  if (theme) saveTheme(theme, root);
}
