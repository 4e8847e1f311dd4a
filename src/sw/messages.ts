/**
 * Messages a page may post to the service worker. workbox-window's
 * `messageSkipWaiting()` sends `{ type: 'SKIP_WAITING' }`; anything else is ignored.
 */
export const SKIP_WAITING = 'SKIP_WAITING';

export function isSkipWaitingMessage(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { type?: unknown }).type === SKIP_WAITING;
}
