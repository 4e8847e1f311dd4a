import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_TEXT_BYTES, messageBody, messageTextBytes } from '../../src/core/messenger/message-text-limit.ts';
import { MAX_TEXT_BYTES, decodeContent, encodeContent } from '../../src/core/wire/index.ts';

describe('message text limit', () => {
  it('counts UTF-8 bytes of the text without trailing white space', () => {
    expect(messageTextBytes('abc  \n\t')).toBe(3);
    expect(messageTextBytes('  é')).toBe(4);
    expect(messageTextBytes('😀')).toBe(4);
    expect(messageTextBytes('\ud800')).toBe(3); // a lone surrogate is sent as U+FFFD
  });

  it('property: any body within the limit fits the wire format; one over it does not', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (s, n) => {
        const unit = `${s}x`;
        const text = unit.repeat(Math.floor(MAX_TEXT_BYTES / new TextEncoder().encode(unit).length / n));
        const fits = messageTextBytes(text) <= MAX_MESSAGE_TEXT_BYTES;
        const content = { t: 'msg' as const, id: new Uint8Array(16), ts: 1, text: messageBody(text) };
        if (fits) expect(decodeContent(encodeContent(content))).toMatchObject({ t: 'msg' });
        return fits;
      }),
      { numRuns: 50 },
    );
    expect(() => encodeContent({ t: 'msg', id: new Uint8Array(16), ts: 1, text: 'a'.repeat(MAX_MESSAGE_TEXT_BYTES + 1) })).toThrow();
  });
});
