/**
 * Petrel's service worker: the whole app shell is precached at install, so the app
 * opens with no network at all. Navigations are answered with the cached index.html
 * (the app routes on the client); the relay's endpoints always go to the network.
 *
 * Updates wait: a new worker installs beside the old one and takes over only when the
 * page asks (SKIP_WAITING from the update prompt), so an open conversation is never
 * swapped out from under the user.
 */
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import type { PrecacheEntry } from 'workbox-precaching';
import { NETWORK_ONLY_PATHS, SHELL_URL } from './navigation.ts';
import { isSkipWaitingMessage } from './messages.ts';
import { openAppFromNotification, showPushNotification } from './push-handler.ts';

declare const self: ServiceWorkerGlobalScope & {
  /** Replaced at build time by workbox-build's injectManifest (scripts/build-sw.mjs). */
  __WB_MANIFEST: (PrecacheEntry | string)[];
};

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

registerRoute(new NavigationRoute(createHandlerBoundToURL(SHELL_URL), { denylist: [...NETWORK_ONLY_PATHS] }));

// On activation the worker takes the open pages: the very first one controls the
// page that installed it, so the app works offline from the first visit without a
// reload. An update only activates after SKIP_WAITING, so claiming never surprises.
clientsClaim();

self.addEventListener('message', (event) => {
  if (isSkipWaitingMessage(event.data)) void self.skipWaiting();
});

// Web Push: the relay's wake carries no content; the core catches up here when the
// settings allow naming who wrote (push-catch-up.ts); a visible notification every time.
self.addEventListener('push', (event) => {
  event.waitUntil(showPushNotification(self.registration, self));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(openAppFromNotification(self.clients, self.registration.scope, event.notification.data));
});
