/**
 * Whether a WebSocket upgrade from `origin` may proceed. Browsers always send Origin, so
 * this is what stops another web site from opening sockets with a visitor's browser;
 * non-browser clients send none and are allowed (they could forge it anyway).
 * With no allow-list, only the relay's own host (the Host header) is accepted.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.length > 0) return allowed.includes(origin);
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
