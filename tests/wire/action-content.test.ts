/**
 * The message-action content kinds (docs/PROTOCOL.md §11.2): they round-trip, malformed
 * ones are refused with a WireError, and a kind this version does not know is shown by its
 * `fallback` text — never an error — while one without a fallback stays `unknown_type`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError, decodeContent, encodeContent, type SendableContent, type WireErrorReason } from '../../src/core/wire/index.ts';
import { actionContent, id16 } from './arbitraries.ts';
import { rawCbor } from './raw-cbor.ts';
import { reasonOf } from './wire-reason.ts';

const b = (n: number, fill = 7) => new Uint8Array(n).fill(fill);


describe('message-action content', () => {
  it('property: every action kind round-trips byte-identically', () => {
    fc.assert(
      fc.property(actionContent, (c) => {
        const bytes = encodeContent(c);
        const back = decodeContent(bytes);
        expect(back).toEqual(c);
        expect(encodeContent(back as SendableContent)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('property: a kind this version does not know, with a fallback, decodes to that text whatever else it carries', () => {
    const unknownKind = fc.stringMatching(/^[a-z]{3,12}$/).filter((t) => !['msg', 'receipt', 'rtc', 'profile', 'file', 'reply', 'edit', 'delete', 'react'].includes(t));
    fc.assert(
      fc.property(unknownKind, id16, fc.nat(), fc.string({ maxLength: 40 }), fc.uint8Array({ maxLength: 20 }), (t, id, ts, fallback, extra) => {
        // Canonical key order: shorter keys first, then bytewise.
        const bytes = rawCbor({ t, v: 1, id, ts, zz: extra, fallback });
        expect(decodeContent(bytes)).toEqual({ t: 'fallback', kind: t, id, ts, text: fallback });
      }),
      { numRuns: 200 },
    );
  });

  const refusals: Array<[string, () => unknown, WireErrorReason]> = [
    ['an unknown kind without a fallback', () => decodeContent(rawCbor({ t: 'poll', v: 1, id: b(16), ts: 1 })), 'unknown_type'],
    ['an unknown kind whose fallback is not text', () => decodeContent(rawCbor({ t: 'poll', v: 1, id: b(16), ts: 1, fallback: 3 })), 'invalid_field'],
    ['an unknown kind with a fallback but no id', () => decodeContent(rawCbor({ t: 'poll', v: 1, ts: 1, fallback: 'x' })), 'missing_field'],
    ['an edit without its fallback', () => decodeContent(rawCbor({ t: 'edit', v: 1, id: b(16), to: b(16), ts: 1, text: 'x' })), 'missing_field'],
    ['an edit with an extra field', () => decodeContent(rawCbor({ t: 'edit', v: 1, id: b(16), to: b(16), ts: 1, zz: 1, text: 'x', fallback: '' })), 'unknown_field'],
    ['a delete naming a 15-byte target', () => decodeContent(rawCbor({ t: 'delete', v: 1, id: b(16), to: b(15), ts: 1, fallback: '' })), 'invalid_field'],
    ['a reaction over 64 bytes', () => encodeContent({ t: 'react', id: b(16), ts: 1, to: b(16), emoji: '👍'.repeat(17), fallback: '' }), 'invalid_field'],
    ['a reply quote over 512 bytes', () => encodeContent({ t: 'reply', id: b(16), ts: 1, to: b(16), text: '', quote: 'q'.repeat(513), fallback: '' }), 'invalid_field'],
    ['a fallback as a known kind', () => encodeContent({ t: 'fallback', kind: 'x', id: b(16), ts: 1, text: '' } as unknown as SendableContent), 'unknown_type'],
  ];
  it.each(refusals)('refuses %s', (_n, fn, reason) => expect(reasonOf(fn)).toBe(reason));

  it('property: mutated action frames decode to a valid value or a WireError, never anything else', () => {
    fc.assert(
      fc.property(actionContent, fc.nat(), fc.integer({ min: 0, max: 255 }), (c, at, value) => {
        const bytes = encodeContent(c);
        bytes[at % bytes.length] = value;
        try {
          decodeContent(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
