/**
 * Message actions between their two shapes: the content frames that travel (`reply`,
 * `edit`, `delete`, `react`, docs/PROTOCOL.md §11.2) and the `MessageAction` the store
 * applies. Also the checks that need no stored row (one emoji, a non-empty text) and the
 * fallback text each kind carries for clients that do not know it.
 */
import { toHex } from '../bytes.ts';
import type { MessageAction } from '../store/message-actions.ts';
import type { ActionContent } from '../wire/index.ts';
import { MAX_MESSAGE_TEXT_BYTES, messageTextBytes } from './message-text-limit.ts';

/** Longest quoted excerpt a reply carries (characters, cut at a grapheme boundary). */
export const QUOTE_EXCERPT_CHARS = 120;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const EMOJI = /^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)/u;

/** Exactly one emoji (one grapheme cluster that is pictographic, a flag or a keycap). */
export function isSingleEmoji(s: string): boolean {
  if (!s || s.length > 32) return false;
  const graphemes = [...segmenter.segment(s)];
  return graphemes.length === 1 && EMOJI.test(s);
}

/** The first `QUOTE_EXCERPT_CHARS` characters of `text` on one line, cut between graphemes. */
export function quoteExcerpt(text: string): string {
  const flat = text.replace(/\s+/gu, ' ').trim();
  let out = '';
  for (const { segment } of segmenter.segment(flat)) {
    if (out.length + segment.length > QUOTE_EXCERPT_CHARS) return `${out}…`;
    out += segment;
  }
  return out;
}

/** What a content frame asks, as the store's action by `by` ('me' or the sender's contact id). */
export function actionOf(content: ActionContent, by: string): MessageAction {
  const base = { id: toHex(content.id), target: toHex(content.to), by, at: content.ts };
  switch (content.t) {
    case 'edit':
      return { kind: 'edit', ...base, text: content.text };
    case 'delete':
      return { kind: 'delete', ...base };
    case 'react':
      return { kind: 'react', ...base, emoji: content.emoji };
  }
}

/** Why an action is malformed before any row is looked at, or undefined when it is well-formed. */
export function actionShapeProblem(action: MessageAction): string | undefined {
  if (action.kind === 'edit') {
    if (!action.text.trim()) return 'the new text is empty';
    if (messageTextBytes(action.text) > MAX_MESSAGE_TEXT_BYTES) return `the new text is longer than ${MAX_MESSAGE_TEXT_BYTES} bytes`;
  }
  if (action.kind === 'react' && action.emoji !== '' && !isSingleEmoji(action.emoji)) return 'a reaction is one emoji';
  return undefined;
}

/** The fallback texts (what a client that does not know the kind shows instead). */
export const fallbackText = {
  reply: (quote: string, text: string): string => `> ${quote}\n${text}`,
  edit: (text: string): string => `Edited a message: ${text}`,
  delete: (): string => 'Deleted a message',
  react: (emoji: string): string => (emoji ? `Reacted ${emoji} to a message` : 'Removed a reaction'),
};
