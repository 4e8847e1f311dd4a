/**
 * The service worker's catch-up for a push (src/sw/push-catch-up.ts), for every way it can
 * decline to run the core; the run itself (a real relay, a closed app, a notification naming
 * the writer) is e2e/push.spec.ts.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { catchUpForPush, type CatchUpScope } from '../../src/sw/push-catch-up.ts';
import { notificationTarget } from '../../src/sw/notification-target.ts';

const location = { origin: 'http://127.0.0.1:9', protocol: 'http:', host: '127.0.0.1:9' };

/** A lock manager whose every lock is free, held by a tab (`null` to the callback), or broken. */
function locks(mode: 'free' | 'held' | 'broken'): LockManager {
  const requested: string[] = [];
  return {
    requested,
    request: async (name: string, options: LockOptions, callback: (lock: Lock | null) => Promise<unknown>) => {
      requested.push(`${name} ${JSON.stringify(options)}`);
      if (mode === 'broken') throw new DOMException('no locks here', 'InvalidStateError');
      return callback(mode === 'held' ? null : ({ name, mode: 'exclusive' } as Lock));
    },
    query: async () => ({}),
  } as unknown as LockManager;
}

const scope = (l?: LockManager): CatchUpScope => ({ location, navigator: l ? { locks: l } : {} });

describe('push catch-up in the service worker', () => {
  it('does not run the core for "New message": there is nothing to learn', async () => {
    const l = locks('free');
    expect(await catchUpForPush(scope(l), 'generic')).toEqual({ outcome: 'generic_setting' });
    expect((l as unknown as { requested: string[] }).requested).toEqual([]);
  });

  it('asks only for a free core lock (the tabs\' lock), and leaves a running tab alone', async () => {
    const l = locks('held');
    expect(await catchUpForPush(scope(l), 'name_and_text')).toEqual({ outcome: 'core_busy' });
    expect((l as unknown as { requested: string[] }).requested).toEqual(['petrel:default:core {"ifAvailable":true}']);
  });

  it('says why it could not run: no Web Locks, or a lock manager that fails', async () => {
    expect(await catchUpForPush(scope(), 'name_only')).toEqual({ outcome: 'no_locks' });
    expect(await catchUpForPush(scope(locks('broken')), 'name_only')).toEqual({ outcome: 'failed:InvalidStateError' });
  });

  it('boots the core from this origin\'s storage and stops at once when the device has no identity', async () => {
    expect(await catchUpForPush(scope(locks('free')), 'name_and_text')).toEqual({ outcome: 'no_identity' });
  });
});

describe('notification click target', () => {
  it('opens the conversation a notice names, else the list', () => {
    expect(notificationTarget('https://p.example/', { contactId: 'ab12' })).toBe('https://p.example/#/chat/ab12');
    expect(notificationTarget('https://p.example/', { contactId: '"><script>' })).toBe('https://p.example/');
    expect(notificationTarget('https://p.example/', null)).toBe('https://p.example/');
    expect(notificationTarget('https://p.example/', { source: 'push' })).toBe('https://p.example/');
  });
});
