// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/**
 * Architecture boundaries, enforced mechanically (see docs/ARCHITECTURE.md):
 * - src/core     framework-free messaging core: no React, no browser or Node adapters, no DOM globals
 * - src/platform browser adapters: may use core, never React, app or relay
 * - src/app      React layer: talks to core/platform, never to relay internals
 * - src/relay    Node server: shares only the wire format (src/core/wire) with the client
 */
const UI_LIBS = ['react', 'react-dom', 'react-dom/*', 'zustand', 'zustand/*', 'workbox-window'];
const SERVER_LIBS = ['ws', 'better-sqlite3', 'pino', 'prom-client', 'pg', 'ioredis', 'redis'];
const BROWSER_LIBS = ['idb', 'idb/*', 'workbox-*'];

const restrict = (patterns, paths = []) => ['error', { patterns, paths }];
/** Node built-ins by bare name (exact: a folder such as src/core/crypto must not match). */
const NODE_BUILTINS = ['fs', 'path', 'http', 'https', 'net', 'crypto', 'os', 'child_process', 'worker_threads'].map((name) => ({
  name,
  message: 'src/core runs in browsers too: reach Node through an injected interface.',
}));

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test-results/**', 'playwright-report/**', 'data/**', 'public/**', 'tests/fixtures/lint/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', { selector: "CallExpression[callee.object.name='console'][callee.property.name='log']", message: 'Use a structured logger, not console.log.' }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    languageOptions: { globals: { ...globals['shared-node-browser'] } },
    rules: {
      'no-console': 'error',
      'no-restricted-imports': restrict([
        { group: [...UI_LIBS], message: 'src/core is framework-free: no React or UI state libraries.' },
        { group: [...SERVER_LIBS, 'node:*'], message: 'src/core runs in browsers too: reach Node through an injected interface.' },
        { group: [...BROWSER_LIBS], message: 'src/core reaches storage through interfaces; IndexedDB adapters live in src/platform.' },
        { group: ['**/app', '**/app/**', '**/platform', '**/platform/**', '**/relay', '**/relay/**', '**/sw', '**/sw/**'], message: 'src/core must not import app, platform, relay or sw code.' },
      ], NODE_BUILTINS),
      'no-restricted-globals': ['error', 'window', 'document', 'localStorage', 'sessionStorage', 'indexedDB', 'navigator', 'location', 'self'],
    },
  },
  {
    files: ['src/platform/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': restrict([
        { group: [...UI_LIBS.filter((l) => l !== 'workbox-window')], message: 'src/platform holds adapters, not UI.' },
        { group: [...SERVER_LIBS, 'node:*'], message: 'src/platform is browser code.' },
        { group: ['**/app', '**/app/**', '**/relay', '**/relay/**'], message: 'src/platform must not import app or relay code.' },
      ]),
    },
  },
  {
    files: ['src/app/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': restrict([
        { group: [...SERVER_LIBS, 'node:*'], message: 'src/app is browser code.' },
        { group: ['**/relay', '**/relay/**'], message: 'src/app talks to the relay over the wire, not by importing it.' },
      ]),
    },
  },
  {
    files: ['src/sw/**/*.ts'],
    languageOptions: { globals: { ...globals.serviceworker } },
  },
  {
    files: ['src/relay/**/*.ts'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'no-restricted-imports': restrict([
        { group: [...new Set([...UI_LIBS, ...BROWSER_LIBS])], message: 'src/relay is a Node server: no browser or UI code.' },
        { group: ['**/app', '**/app/**', '**/platform', '**/platform/**', '**/sw', '**/sw/**'], message: 'src/relay must not import browser code.' },
        { group: ['**/core/**', '!**/core/wire', '!**/core/wire/**'], message: 'src/relay shares only the wire format (src/core/wire) with the client.' },
      ]),
    },
  },
  {
    files: ['tests/**/*.{ts,tsx}', 'e2e/**/*.ts', 'bench/**/*.{ts,mjs,js}', 'scripts/**/*.{mjs,js,ts}', '*.config.{ts,js}'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: { 'no-restricted-syntax': 'off' },
  },
);
