/**
 * A device link as a URL of this app (`…#link=petrel-link:…`): opened in a browser with no
 * identity, it goes straight to "Link to an existing account" (the QR code holds it too).
 */
const FRAGMENT = '#link=';

export function deviceLinkUrl(link: string, base: string): string {
  const url = new URL(base);
  url.hash = '';
  return url.toString() + FRAGMENT + link;
}

/** The link text in a URL's fragment, or undefined. */
export function deviceLinkFromUrl(href: string): string | undefined {
  const at = href.indexOf(FRAGMENT);
  if (at < 0) return undefined;
  const link = decodeURIComponent(href.slice(at + FRAGMENT.length)).trim();
  return link.startsWith('petrel-link:') ? link : undefined;
}

/** What the user pasted: a link URL or the bare link text. */
export function deviceLinkFromInput(text: string): string {
  return deviceLinkFromUrl(text.trim()) ?? text.trim();
}
