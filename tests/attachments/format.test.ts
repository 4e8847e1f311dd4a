/**
 * The attachment format (issue 19, docs/PROTOCOL.md §14): round trip for any size and any
 * chunking; every truncation, reordering, swap and bit flip refused with its own error;
 * wrong key, over-limit size and size mismatches typed.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { toHex } from '../../src/core/bytes.ts';
import { openAttachment } from '../../src/core/attachments/attachment-decryptor.ts';
import { sealAttachment } from '../../src/core/attachments/attachment-encryptor.ts';
import {
  AttachmentDigestMismatchError,
  AttachmentError,
  AttachmentExtendedError,
  AttachmentMalformedError,
  AttachmentOutOfOrderError,
  AttachmentSizeMismatchError,
  AttachmentTamperedError,
  AttachmentTooLargeError,
  AttachmentTruncatedError,
  AttachmentWrongKeyError,
} from '../../src/core/attachments/errors.ts';
import {
  ATTACHMENT_HEADER_BYTES,
  ATTACHMENT_RECORD_BYTES,
  MAX_ATTACHMENT_PLAINTEXT_BYTES,
  attachmentBlobLength,
  attachmentSealedLength,
} from '../../src/core/wire/attachment-layout.ts';
import { chunked, collect, fileBytes, open, permuteRecords, recordRange, runtime, seal, sha } from './helpers.ts';

const R = ATTACHMENT_RECORD_BYTES;

describe('round trip', () => {
  it('any size and any chunking of the source gives back the file, a blob of the bucket length, and its SHA-256', async () => {
    const sizes = fc.oneof(fc.integer({ min: 0, max: 3 * R + 100 }), fc.constantFrom(0, 1, R - 1, R, R + 1, 2 * R, 3 * R));
    await fc.assert(
      fc.asyncProperty(sizes, fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 1, maxLength: 5 }), async (size, cuts) => {
        const s = await seal(fileBytes(size), cuts);
        expect(s.blob.length).toBe(attachmentBlobLength(size));
        expect(toHex(s.digest)).toBe(toHex(sha(s.blob)));
        expect(toHex(await open(s))).toBe(toHex(s.file));
      }),
      { numRuns: 40 },
    );
  });

  it('the digest covers every 1 MiB segment of a multi-segment blob', async () => {
    const s = await seal(fileBytes(2 * 1024 * 1024 + 5000), [300_000]);
    expect(toHex(s.digest)).toBe(toHex(sha(s.blob)));
    expect(toHex(await open(s))).toBe(toHex(s.file));
    const digest = s.digest.slice();
    digest[31]! ^= 0x80;
    await expect(open(s, s.blob, { digest })).rejects.toBeInstanceOf(AttachmentDigestMismatchError);
  });

  it('reads a ReadableStream source and the records come out one at a time', async () => {
    const file = fileBytes(2 * R + 5);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const part of chunked(file, [1000, 50_000])) c.enqueue(part);
        c.close();
      },
    });
    const sealed = sealAttachment(stream, { size: file.length, runtime });
    const blob = await collect(sealed.chunks);
    const records: number[] = [];
    for await (const r of openAttachment([blob], { key: sealed.key, size: file.length, digest: sealed.digest(), runtime })) records.push(r.length);
    expect(records).toEqual([R, R, 5]);
  });

  it('two files of the same bytes get different keys and different blobs', async () => {
    const file = fileBytes(1000);
    const [a, b] = [await seal(file), await seal(file)];
    expect(toHex(a.key)).not.toBe(toHex(b.key));
    expect(toHex(a.blob)).not.toBe(toHex(b.blob));
  });
});

describe('truncation', () => {
  it('every truncation of a one-record blob is refused', async () => {
    const s = await seal(fileBytes(300));
    for (let cut = 0; cut < s.blob.length; cut++) {
      await expect(open(s, s.blob.subarray(0, cut)), `cut at ${cut}`).rejects.toBeInstanceOf(AttachmentTruncatedError);
    }
  });

  it('any truncation of a multi-record blob is refused', async () => {
    const s = await seal(fileBytes(3 * R + 7));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: s.blob.length - 1 }), async (cut) => {
        await expect(open(s, s.blob.subarray(0, cut))).rejects.toBeInstanceOf(AttachmentTruncatedError);
      }),
      { numRuns: 60 },
    );
    for (let i = 0; i <= 3; i++) await expect(open(s, s.blob.subarray(0, recordRange(i)[0]))).rejects.toBeInstanceOf(AttachmentTruncatedError);
  });

  it('a descriptor that claims fewer records finds a record not sealed as the last (STREAM last flag)', async () => {
    const s = await seal(fileBytes(3 * R));
    await expect(open(s, s.blob, { size: 2 * R })).rejects.toBeInstanceOf(AttachmentTruncatedError);
  });

  it('a descriptor that claims more records finds the last record early', async () => {
    const s = await seal(fileBytes(2 * R));
    await expect(open(s, s.blob, { size: 3 * R })).rejects.toBeInstanceOf(AttachmentExtendedError);
  });

  it('bytes appended after the padding are refused', async () => {
    const s = await seal(fileBytes(R + 3));
    const longer = new Uint8Array(s.blob.length + 1);
    longer.set(s.blob);
    await expect(open(s, longer)).rejects.toBeInstanceOf(AttachmentExtendedError);
  });
});

describe('reordering and swaps', () => {
  const permutations = (n: number): number[][] =>
    n === 0 ? [[]] : permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));

  it('every reordering of four records is refused, naming the first record out of place', async () => {
    const s = await seal(fileBytes(4 * R));
    for (const order of permutations(4)) {
      const first = order.findIndex((from, to) => from !== to);
      if (first < 0) continue;
      const err = await open(s, permuteRecords(s.blob, order)).catch((e: unknown) => e);
      expect(err, order.join()).toBeInstanceOf(AttachmentOutOfOrderError);
      expect(err).toMatchObject({ position: first, belongsAt: order[first] });
    }
  });

  it('every swap of two records is refused', async () => {
    const s = await seal(fileBytes(4 * R));
    for (let i = 0; i < 4; i++) {
      for (let j = i + 1; j < 4; j++) {
        const order = [0, 1, 2, 3];
        [order[i], order[j]] = [j, i];
        await expect(open(s, permuteRecords(s.blob, order))).rejects.toMatchObject({ kind: 'out_of_order', position: i, belongsAt: j });
      }
    }
  });

  it('a record from another file sealed under another key does not authenticate', async () => {
    const a = await seal(fileBytes(2 * R, 1));
    const b = await seal(fileBytes(2 * R, 2));
    const mixed = a.blob.slice();
    mixed.set(b.blob.subarray(...recordRange(1)), recordRange(1)[0]);
    await expect(open(a, mixed)).rejects.toBeInstanceOf(AttachmentTamperedError);
  });
});

describe('bit flips', () => {
  it('every bit flip of a one-record blob is refused, with the error of the part it hit', async () => {
    const s = await seal(fileBytes(100));
    const sealedEnd = attachmentSealedLength(100);
    for (let byte = 0; byte < s.blob.length; byte++) {
      const bit = byte % 8; // one bit per byte keeps this exhaustive over positions and fast
      const flipped = s.blob.slice();
      flipped[byte]! ^= 1 << bit;
      const err = await open(s, flipped).catch((e: unknown) => e);
      const expected =
        byte < 4 ? AttachmentMalformedError : byte < ATTACHMENT_HEADER_BYTES ? AttachmentWrongKeyError : byte < sealedEnd ? AttachmentTamperedError : AttachmentMalformedError;
      expect(err, `byte ${byte}`).toBeInstanceOf(expected);
    }
  });

  it('any bit flip anywhere in a multi-record blob is refused', async () => {
    const s = await seal(fileBytes(3 * R + 11));
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: s.blob.length - 1 }), fc.integer({ min: 0, max: 7 }), async (byte, bit) => {
        const flipped = s.blob.slice();
        flipped[byte]! ^= 1 << bit;
        await expect(open(s, flipped)).rejects.toBeInstanceOf(AttachmentError);
      }),
      { numRuns: 60 },
    );
  });

  it('a wrong digest in the descriptor is refused after the last byte', async () => {
    const s = await seal(fileBytes(500));
    const digest = s.digest.slice();
    digest[0]! ^= 1;
    await expect(open(s, s.blob, { digest })).rejects.toBeInstanceOf(AttachmentDigestMismatchError);
  });
});

describe('keys and sizes', () => {
  it('a wrong key is refused before any record is tried', async () => {
    const s = await seal(fileBytes(R + 1));
    const key = s.key.slice();
    key[31]! ^= 0x80;
    await expect(open(s, s.blob, { key })).rejects.toBeInstanceOf(AttachmentWrongKeyError);
  });

  it('a file over 100 MiB is refused before a byte is read, with the limit in words', async () => {
    let read = false;
    const source = (function* () {
      read = true;
      yield new Uint8Array(1);
    })();
    expect(() => sealAttachment(source, { size: MAX_ATTACHMENT_PLAINTEXT_BYTES + 1, runtime })).toThrow(AttachmentTooLargeError);
    expect(() => sealAttachment(source, { size: MAX_ATTACHMENT_PLAINTEXT_BYTES + 1, runtime })).toThrow(/100 MiB/);
    expect(read).toBe(false);
    const s = await seal(fileBytes(10));
    await expect(open(s, s.blob, { size: MAX_ATTACHMENT_PLAINTEXT_BYTES + 1 })).rejects.toBeInstanceOf(AttachmentTooLargeError);
  });

  it('a source that gives more or fewer bytes than declared fails the stream', async () => {
    const file = fileBytes(R + 10);
    await expect(collect(sealAttachment(chunked(file), { size: file.length + 1, runtime }).chunks)).rejects.toBeInstanceOf(AttachmentSizeMismatchError);
    await expect(collect(sealAttachment(chunked(file), { size: file.length - 1, runtime }).chunks)).rejects.toBeInstanceOf(AttachmentSizeMismatchError);
  });

  it('the digest is not available before the stream is read, and a stream reads once', async () => {
    const sealed = sealAttachment(chunked(fileBytes(5)), { size: 5, runtime });
    expect(() => sealed.digest()).toThrow();
    await collect(sealed.chunks);
    expect(() => sealed.chunks[Symbol.asyncIterator]()).toThrow();
  });
});
