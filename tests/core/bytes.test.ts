import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesEqual, concatBytes, fromBase64Url, fromHex, toBase64Url, toHex } from '../../src/core/bytes.ts';

describe('bytes', () => {
  it('hex round-trips any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      expect(fromHex(toHex(b))).toEqual(b);
    }));
  });
  it('base64url round-trips any bytes and matches Node', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const s = toBase64Url(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(fromBase64Url(s)).toEqual(b);
      }),
    );
  });
  it('refuses malformed input', () => {
    expect(() => fromHex('abc')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
    expect(() => fromBase64Url('a')).toThrow(TypeError);
    expect(() => fromBase64Url('ab+c')).toThrow(TypeError);
    expect(() => fromBase64Url('AB')).toThrow(/non-canonical/);
  });
  it('compares and concatenates', () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 2]))).toBe(false);
    expect(concatBytes(new Uint8Array([1]), new Uint8Array([]), new Uint8Array([2, 3]))).toEqual(new Uint8Array([1, 2, 3]));
  });
});
