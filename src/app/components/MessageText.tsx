import { useMemo } from 'react';
import { linkSegments } from './message-links.ts';

export interface MessageTextProps {
  readonly text: string;
  readonly className?: string;
}

/**
 * A message's text: text nodes only (never markup from the sender), laid out in the
 * direction of its own script (`dir="auto"`), with http(s) links clickable in a new tab
 * that cannot reach back to Petrel (`noopener noreferrer`). No link previews.
 */
export function MessageText({ text, className }: MessageTextProps) {
  const segments = useMemo(() => linkSegments(text), [text]);
  return (
    <p className={className} dir="auto">
      {segments.map((s, i) =>
        s.kind === 'link' ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer">
            {s.text}
          </a>
        ) : (
          s.text
        ),
      )}
    </p>
  );
}
