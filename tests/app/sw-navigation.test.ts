import { describe, expect, it } from 'vitest';
import { isAppNavigation } from '../../src/sw/navigation.ts';
import { isSkipWaitingMessage } from '../../src/sw/messages.ts';

describe('service worker navigation denylist', () => {
  it('serves app paths from the cached shell', () => {
    for (const path of ['/', '/index.html', '/chats/abc', '/invite', '/settings/health-check', '/wsx', '/readyz']) {
      expect(isAppNavigation(path), path).toBe(true);
    }
  });

  it('never answers the relay endpoints from the cache', () => {
    for (const path of ['/ws', '/ws/', '/health', '/health/', '/ready', '/metrics', '/metrics/anything']) {
      expect(isAppNavigation(path), path).toBe(false);
    }
  });
});

describe('service worker messages', () => {
  it('accepts only { type: "SKIP_WAITING" }', () => {
    expect(isSkipWaitingMessage({ type: 'SKIP_WAITING' })).toBe(true);
    for (const bad of [null, undefined, 'SKIP_WAITING', 42, {}, { type: 'skip_waiting' }, { kind: 'SKIP_WAITING' }, []]) {
      expect(isSkipWaitingMessage(bad)).toBe(false);
    }
  });
});
