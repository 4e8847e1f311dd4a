/**
 * Finds the web links in a message's text. A small tokenizer picks candidates (a run of
 * non-space characters that begins with `http://` or `https://`, any case); the WHATWG
 * URL parser then decides: only an `http:` or `https:` URL with a host and no user info
 * becomes a link, everything else (`javascript:`, `data:`, `vbscript:`, `file:`, broken
 * or obfuscated variants) stays text. The segments together always spell the input
 * exactly, so the rendered text is the message text, character for character.
 */

export type TextSegment = { readonly kind: 'text'; readonly text: string } | { readonly kind: 'link'; readonly text: string; readonly href: string };

/** The only schemes that become links. */
const LINK_PROTOCOLS: ReadonlySet<string> = new Set(['http:', 'https:']);

/**
 * Candidates: `http://` or `https://` (any case) after a start, a space or an opening
 * bracket/quote, then a host character (not a third slash or a backslash, which the URL
 * parser would quietly skip), then no spaces.
 */
const CANDIDATE = /(?<=^|[\s([{<"'«“‘])https?:\/\/(?![/\\])[^\s<>"]+/giu;

/** Characters that end a sentence rather than a URL when they close a candidate. */
const TRAILING = /[.,;:!?'"’”»)\]}]+$/u;

/** Drops trailing punctuation, keeping closing parentheses that match one inside (Wikipedia links). */
function trimCandidate(candidate: string): string {
  let end = candidate.length;
  for (;;) {
    const tail = TRAILING.exec(candidate.slice(0, end));
    if (!tail) return candidate.slice(0, end);
    const ch = candidate[end - 1]!;
    if (ch === ')') {
      const body = candidate.slice(0, end);
      const opens = body.split('(').length - 1;
      const closes = body.split(')').length - 1;
      if (opens >= closes) return body;
    }
    end -= 1;
  }
}

/** The safe link a candidate stands for, or undefined when it must stay text. */
export function safeHref(candidate: string): string | undefined {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return undefined;
  }
  if (!LINK_PROTOCOLS.has(url.protocol)) return undefined;
  // No `https://bank.example@evil.example`: what a reader takes for the host must be the host.
  if (url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  return url.href;
}

/** The message text cut into plain text and safe links (concatenated, exactly `text`). */
export function linkSegments(text: string): TextSegment[] {
  const segments: TextSegment[] = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const start = match.index;
    const candidate = trimCandidate(match[0]);
    const href = safeHref(candidate);
    if (href === undefined) continue;
    if (start > last) segments.push({ kind: 'text', text: text.slice(last, start) });
    segments.push({ kind: 'link', text: candidate, href });
    last = start + candidate.length;
  }
  if (last < text.length) segments.push({ kind: 'text', text: text.slice(last) });
  return segments;
}
