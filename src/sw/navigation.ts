/**
 * Which navigations the service worker answers with the cached app shell. The relay's
 * own endpoints are never pages of the app: they must always reach the network (a
 * cached index.html in place of /health or /metrics would lie to whoever asked).
 */
export const SHELL_URL = '/index.html';

export const NETWORK_ONLY_PATHS: readonly RegExp[] = [/^\/ws(?:\/|$)/, /^\/health(?:\/|$)/, /^\/ready(?:\/|$)/, /^\/metrics(?:\/|$)/, /^\/push(?:\/|$)/];

/** True when a navigation to `pathname` may be served from the cached shell. */
export function isAppNavigation(pathname: string): boolean {
  return !NETWORK_ONLY_PATHS.some((re) => re.test(pathname));
}
