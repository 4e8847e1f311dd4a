/**
 * Registers Petrel's service worker (dist/app/sw.js, built by scripts/build-sw.mjs)
 * in production builds and wires workbox-window's lifecycle events into the update
 * controller. The dev server has no service worker: a cached shell would hide edits.
 */
import { Workbox } from 'workbox-window';
import { createUpdateController, type UpdateController } from './update-controller.ts';

export const SERVICE_WORKER_URL = '/sw.js';
export const SERVICE_WORKER_SCOPE = '/';
/** A tab left open for days still learns about new versions. */
export const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;

export interface ServiceWorkerRegistrationResult {
  readonly updates: UpdateController;
  /** Settles once registration succeeded or failed (false: no offline support). */
  readonly registered: Promise<boolean>;
}

/** Returns null where there is nothing to register (dev server, no SW support). */
export function registerServiceWorker(): ServiceWorkerRegistrationResult | null {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return null;
  const wb = new Workbox(SERVICE_WORKER_URL, { scope: SERVICE_WORKER_SCOPE });
  const updates = createUpdateController(
    {
      onWaiting: (listener) => wb.addEventListener('waiting', listener),
      // Not filtered on `event.isUpdate`: it is false for an update found later in the
      // life of the page that installed the first worker. The controller reloads only
      // after the user asked, so the first worker claiming the page reloads nothing.
      onControlling: (listener) => wb.addEventListener('controlling', () => listener()),
      messageSkipWaiting: () => wb.messageSkipWaiting(),
    },
    () => window.location.reload(),
  );
  const registered = wb.register().then(
    (registration) => {
      if (!registration) return false;
      setInterval(() => void wb.update(), UPDATE_CHECK_INTERVAL_MS);
      return true;
    },
    () => false,
  );
  return { updates, registered };
}
