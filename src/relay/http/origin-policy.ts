import { isIP } from 'node:net';

/** A host a DNS-rebinding page cannot put in its own Host header: an IP literal or localhost. */
function notRebindable(hostname: string): boolean {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) !== 0 || bare === 'localhost';
}

/**
 * Whether a WebSocket upgrade from `origin` may proceed. Browsers always send Origin, so
 * this is what stops another web site from opening sockets with a visitor's browser;
 * non-browser clients send none and are allowed (they could forge it anyway).
 *
 * With `PETREL_ALLOWED_ORIGINS` set (the relay's public origin), the Origin must equal one
 * of them exactly: scheme, host and port. Without it, only same-host pages whose host is an
 * IP address or `localhost` are accepted (development, a LAN address): a same-host check on
 * a host NAME would let a DNS-rebinding page (evil.example re-pointed at the relay) in,
 * since its Origin and Host headers agree. Other schemes (`file:`, `chrome-extension:`,
 * `null`) are refused either way.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowed.length > 0) return allowed.includes(origin);
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (url.origin !== origin) return false;
  return url.host === host.toLowerCase() && notRebindable(url.hostname);
}
