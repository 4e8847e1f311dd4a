// Applies the theme chosen in Settings before the first paint (src/app/theme.ts writes
// it): a plain, blocking script from this origin, as the CSP allows no inline script.
try {
  var theme = localStorage.getItem('petrel.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
} catch (e) {
  // No storage (private mode, blocked): the system's theme.
}
