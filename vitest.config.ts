import { defineConfig } from 'vitest/config';
import { oqsAliases } from './scripts/oqs-aliases.mjs';
import { preactAliases } from './scripts/preact-aliases.mjs';

export default defineConfig({
  // The app's components render with Preact here too, as they do in the build.
  resolve: { alias: { ...preactAliases, ...oqsAliases } },
  test: {
    include: ['tests/**/*.test.{ts,tsx}'],
    environment: 'node',
    // Two cores here; slow suites (relay processes, property runs) set their own timeouts.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Dependencies that import React or Preact go through Vite's resolution too, so the app,
    // zustand's hook and the testing library share one Preact instance.
    server: { deps: { inline: ['zustand', '@testing-library/preact'] } },
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
