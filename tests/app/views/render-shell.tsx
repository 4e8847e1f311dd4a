import { cleanup, render } from '@testing-library/preact';
import { afterEach } from 'vitest';
import { Shell } from '../../../src/app/Shell.tsx';
import type { FakeMessenger } from './fake-messenger.ts';

afterEach(() => {
  cleanup();
  // The address names the open chat (`#/chat/<id>`): each test starts from a bare one.
  window.history.replaceState(null, '', '/');
});

/** Renders the whole UI over a fake messenger. */
export function renderShell(messenger: FakeMessenger) {
  return render(<Shell messenger={messenger} />);
}
