/** Padding buckets (Padmé, docs/PROTOCOL.md §14.2): what a blob's length can say about the file. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_ATTACHMENT_BLOB_BYTES,
  MAX_ATTACHMENT_PLAINTEXT_BYTES,
  MIN_ATTACHMENT_BLOB_BYTES,
  attachmentBlobLength,
  paddedBlobLength,
} from '../../src/core/wire/attachment-layout.ts';

describe('padded blob length', () => {
  it('is at least the length, at most 12 % more above the minimum, and monotone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_ATTACHMENT_BLOB_BYTES }), fc.integer({ min: 0, max: 1_000_000 }), (l, d) => {
        const p = paddedBlobLength(l);
        expect(p).toBeGreaterThanOrEqual(Math.max(l, MIN_ATTACHMENT_BLOB_BYTES));
        if (l > MIN_ATTACHMENT_BLOB_BYTES) expect(p / l).toBeLessThanOrEqual(1.12);
        expect(paddedBlobLength(l + d)).toBeGreaterThanOrEqual(p);
        expect(paddedBlobLength(p)).toBe(p); // a bucket is its own bucket
      }),
    );
  });

  it('keeps only the top ⌊log2 ⌊log2 L⌋⌋ + 1 bits of the length', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN_ATTACHMENT_BLOB_BYTES + 1, max: MAX_ATTACHMENT_BLOB_BYTES }), (l) => {
        const p = paddedBlobLength(l);
        const e = Math.floor(Math.log2(l));
        const significant = Math.floor(Math.log2(e)) + 1;
        expect(p % 2 ** (e - significant)).toBe(0);
      }),
    );
  });

  it('puts every file under 4 KiB in one bucket and names known buckets', () => {
    expect(attachmentBlobLength(0)).toBe(4096);
    expect(attachmentBlobLength(4000)).toBe(4096);
    expect(paddedBlobLength(4097)).toBe(4352); // L = 4097: e = 12, 4 significant bits, steps of 2^(12-4) = 256
    expect(paddedBlobLength(1_000_000)).toBe(1_015_808); // e = 19, steps of 2^(19-5) = 16 KiB
  });

  it('bounds the largest blob: 100 MiB of file is 102 MiB of blob', () => {
    expect(MAX_ATTACHMENT_BLOB_BYTES).toBe(attachmentBlobLength(MAX_ATTACHMENT_PLAINTEXT_BYTES));
    expect(MAX_ATTACHMENT_BLOB_BYTES).toBe(102 * 1024 * 1024);
    expect(() => paddedBlobLength(-1)).toThrow(RangeError);
  });
});
