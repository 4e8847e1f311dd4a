/**
 * This browser's default device name ("Chromium on Linux", "Firefox on Windows"), what the
 * account's device list calls it until it is renamed in Linked devices (core
 * devices/device-name.ts). Read from User-Agent Client Hints where the browser has them
 * (Chromium: the brand list names Chrome, Edge or plain Chromium), else from the User-Agent
 * string. Nothing is sent anywhere but the account's own signed list.
 */

interface NavigatorLike {
  readonly userAgent?: string;
  readonly userAgentData?: { readonly brands?: readonly { readonly brand: string }[]; readonly platform?: string };
}

/** Brands every Chromium lists that say nothing about which browser it is. */
const GENERIC_BRAND = /^(Chromium|Not.?A.?Brand.*|.*Not.*Brand.*)$/iu;

function browserOf(nav: NavigatorLike): string {
  const brands = nav.userAgentData?.brands?.map((b) => b.brand) ?? [];
  const specific = brands.find((b) => !GENERIC_BRAND.test(b));
  if (specific) return specific;
  if (brands.includes('Chromium')) return 'Chromium';
  const ua = nav.userAgent ?? '';
  if (/Edg\//u.test(ua)) return 'Microsoft Edge';
  if (/Firefox\//u.test(ua)) return 'Firefox';
  if (/Chromium\//u.test(ua)) return 'Chromium';
  if (/Chrome\//u.test(ua)) return 'Chrome';
  if (/Safari\//u.test(ua)) return 'Safari';
  return 'Browser';
}

function systemOf(nav: NavigatorLike): string | undefined {
  const platform = nav.userAgentData?.platform;
  if (platform) return platform;
  const ua = nav.userAgent ?? '';
  if (/Android/u.test(ua)) return 'Android';
  if (/iPhone|iPad|iPod/u.test(ua)) return 'iOS';
  if (/Windows/u.test(ua)) return 'Windows';
  if (/Mac OS X|Macintosh/u.test(ua)) return 'macOS';
  if (/CrOS/u.test(ua)) return 'ChromeOS';
  if (/Linux/u.test(ua)) return 'Linux';
  return undefined;
}

/** "<browser> on <system>" (or the browser alone), at most 64 characters. */
export function defaultDeviceName(nav: NavigatorLike | undefined): string {
  if (!nav) return 'Browser';
  const system = systemOf(nav);
  return (system ? `${browserOf(nav)} on ${system}` : browserOf(nav)).slice(0, 64);
}
