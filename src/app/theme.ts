/**
 * The colour theme chosen in Settings: the system's, light or dark. Kept in
 * localStorage (read synchronously before the first paint by public/theme-boot.js, which
 * must agree on the key and values) and applied as `data-theme` on <html>, which the
 * stylesheets' dark tokens follow.
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
  try {
    if (theme === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, theme);
    return true;
  } catch {
    return false;
  }
}
