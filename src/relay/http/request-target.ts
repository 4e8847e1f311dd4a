/** RFC 3986 path characters (pchar and "/"): unreserved, sub-delims, ":", "@", and "%" of a percent-encoding. */
const PATH = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;

/**
 * The path of an HTTP request target, or undefined when the target is not one the relay
 * serves. Only origin-form (`/path?query`, RFC 9112 §3.2.1) is accepted: absolute-form
 * (`http://host/path`), authority-form and asterisk-form are for proxies and `OPTIONS *`,
 * which the relay is not. The path is never handed to `new URL` (which throws on targets
 * like `//[`); a character outside RFC 3986 or a percent-encoding that does not decode
 * (`%zz`, `%c0`) is refused here, not later.
 */
export function requestPath(target: string | undefined): string | undefined {
  if (target === undefined || !target.startsWith('/')) return undefined;
  const q = target.indexOf('?');
  const raw = q < 0 ? target : target.slice(0, q);
  // The query is never read, so only the path is held to RFC 3986 (Node's parser already refuses control characters).
  if (!PATH.test(raw)) return undefined;
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}
