// One list of the React → Preact aliases, for the build (vite.config.ts) and the tests
// (vitest.config.ts), so the tests render with the library the app ships with.
// `react` also covers `react/jsx-runtime` (→ preact/compat/jsx-runtime).
export const preactAliases = {
  'react-dom/test-utils': 'preact/test-utils',
  'react-dom/client': 'preact/compat/client',
  'react-dom': 'preact/compat',
  react: 'preact/compat',
};
