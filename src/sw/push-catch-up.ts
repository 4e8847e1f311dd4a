/**
 * A push woke the service worker and no tab runs Petrel's core: the core boots here,
 * headless, under the same Web Lock the tabs take to run it (so it never runs twice),
 * catches up with the mailbox (every waiting envelope decrypted, committed and
 * acknowledged, exactly as a tab would), and stops. The notification then names who wrote
 * and what, as far as the Settings choice allows (push-notice.ts).
 *
 * It does not run — and the caller shows "New message" — when the choice is "New message"
 * (nothing to learn), when a tab holds the lock (its core has the connection and notifies
 * in the app), or when this device has no identity. A tab opened meanwhile waits for the
 * lock: at most CATCH_UP_TIMEOUT_MS plus a clean stop.
 */
import { contactName } from '../app/views/contact-name.ts';
import { createLogger, RingLogSink } from '../core/log.ts';
import { StorageHealth } from '../core/store/storage-health.ts';
import { alwaysOnline } from '../core/transport/network-signals.ts';
import { bootCore } from '../platform/boot-core.ts';
import type { NotificationContent } from '../platform/notification-settings.ts';
import { pushNotice, type PushNotice } from '../platform/push-notice.ts';
import { relayUrlFor } from '../platform/relay-url.ts';
import { coreLockName } from '../platform/tab-leadership.ts';

/** How long the worker waits for the mailbox before it notifies with what it has. */
export const CATCH_UP_TIMEOUT_MS = 8_000;

export interface CatchUpScope {
  readonly location: { readonly origin: string; readonly protocol: string; readonly host: string };
  readonly navigator: { readonly locks?: LockManager };
}

/**
 * How a push's catch-up went (kept in the notification's data): `caught_up` and
 * `timed_out` ran the core; the others did not, or failed (`failed`: the error's name).
 */
export type CatchUpOutcome = 'generic_setting' | 'no_locks' | 'core_busy' | 'no_identity' | 'caught_up' | 'timed_out' | `failed:${string}`;

export interface CatchUp {
  readonly outcome: CatchUpOutcome;
  /** What to say; absent when the core did not run or nothing is unread. */
  readonly notice?: PushNotice;
}

/** Runs the core until it has caught up (or CATCH_UP_TIMEOUT_MS) and says what is unread. Never throws. */
export async function catchUpForPush(scope: CatchUpScope, content: NotificationContent): Promise<CatchUp> {
  if (content === 'generic') return { outcome: 'generic_setting' };
  const locks = scope.navigator.locks;
  if (!locks) return { outcome: 'no_locks' };
  try {
    return await locks.request(coreLockName('default'), { ifAvailable: true }, async (lock): Promise<CatchUp> => {
      if (!lock) return { outcome: 'core_busy' };
      const logs = new RingLogSink(200);
      const logger = createLogger(logs.sink, { level: 'info', scope: 'push' });
      const core = await bootCore({
        origin: scope.location.origin,
        relayUrl: relayUrlFor(scope.location),
        network: alwaysOnline,
        logger,
        logs,
        health: new StorageHealth(),
      });
      try {
        if (core.api.getState().phase !== 'ready') return { outcome: 'no_identity' };
        const caughtUp = await core.caughtUp(CATCH_UP_TIMEOUT_MS);
        // The view refreshes a moment after each commit; with no chat open, openChat re-reads the list now.
        await core.api.openChat(undefined);
        const notice = pushNotice(core.api.getState().contacts, content, contactName);
        return { outcome: caughtUp ? 'caught_up' : 'timed_out', ...(notice ? { notice } : {}) };
      } finally {
        await core.stop();
      }
    });
  } catch (err) {
    return { outcome: `failed:${err instanceof Error ? err.name : 'unknown'}` };
  }
}
