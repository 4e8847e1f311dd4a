/**
 * How long a message's text may be, as `send` measures it: the text with trailing white
 * space removed, in UTF-8 bytes, at most the wire format's `MAX_TEXT_BYTES`. The app checks
 * a draft with the same function before it asks to send, so a message that can never be
 * queued is refused while the draft is still in the field.
 */
import { utf8 } from '../bytes.ts';
import { MAX_TEXT_BYTES } from '../wire/limits.ts';

/** Longest message text, in UTF-8 bytes. */
export const MAX_MESSAGE_TEXT_BYTES = MAX_TEXT_BYTES;

/** The text `send` stores and sends: trailing white space removed. */
export function messageBody(text: string): string {
  return text.replace(/\s+$/u, '');
}

/** UTF-8 bytes of the text `send` would store (what `MAX_MESSAGE_TEXT_BYTES` limits). */
export function messageTextBytes(text: string): number {
  return utf8(messageBody(text)).length;
}
