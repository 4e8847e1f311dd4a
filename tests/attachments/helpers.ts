import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../../src/core/bytes.ts';
import { openAttachment } from '../../src/core/attachments/attachment-decryptor.ts';
import { sealAttachment } from '../../src/core/attachments/attachment-encryptor.ts';
import { CryptoRuntime } from '../../src/core/crypto/crypto-runtime.ts';
import { seededRandom } from '../../src/core/random.ts';
import { ATTACHMENT_HEADER_BYTES, ATTACHMENT_SEALED_RECORD_BYTES } from '../../src/core/wire/attachment-layout.ts';

export const runtime = new CryptoRuntime(seededRandom(19));

export function fileBytes(size: number, seed = size): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Cuts `bytes` into chunks of the given sizes (cycled), as a stream would deliver them. */
export function* chunked(bytes: Uint8Array, sizes: readonly number[] = [bytes.length || 1]): Generator<Uint8Array> {
  let o = 0;
  for (let k = 0; o < bytes.length; k++) {
    const n = Math.max(1, sizes[k % sizes.length]!);
    yield bytes.slice(o, o + n);
    o += n;
  }
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of chunks) parts.push(c);
  return concatBytes(...parts);
}

export interface Sealed {
  readonly file: Uint8Array;
  readonly blob: Uint8Array;
  readonly key: Uint8Array;
  readonly digest: Uint8Array;
}

export async function seal(file: Uint8Array, sizes?: readonly number[]): Promise<Sealed> {
  const sealed = sealAttachment(chunked(file, sizes), { size: file.length, runtime });
  const blob = await collect(sealed.chunks);
  return { file, blob, key: sealed.key, digest: sealed.digest() };
}

export function open(s: Sealed, blob: Uint8Array = s.blob, overrides: { key?: Uint8Array; size?: number; digest?: Uint8Array } = {}): Promise<Uint8Array> {
  return collect(
    openAttachment(chunked(blob, [70_000]), {
      key: overrides.key ?? s.key,
      size: overrides.size ?? s.file.length,
      digest: overrides.digest ?? s.digest,
      runtime,
    }),
  );
}

/** The blob digest of PROTOCOL.md §14.1, written out independently: SHA-256 over the SHA-256 of each 1 MiB segment. */
export function sha(bytes: Uint8Array): Uint8Array {
  const segments: Uint8Array[] = [];
  for (let o = 0; o < bytes.length; o += 1024 * 1024) segments.push(sha256(bytes.subarray(o, o + 1024 * 1024)));
  return sha256(concatBytes(...segments));
}

/** Byte range of record `i` of a blob whose records are all full. */
export function recordRange(i: number): [number, number] {
  const start = ATTACHMENT_HEADER_BYTES + i * ATTACHMENT_SEALED_RECORD_BYTES;
  return [start, start + ATTACHMENT_SEALED_RECORD_BYTES];
}

/** The blob with its full records put in the order `order` (order[p] = which record goes at position p). */
export function permuteRecords(blob: Uint8Array, order: readonly number[]): Uint8Array {
  const out = blob.slice();
  order.forEach((from, to) => {
    const [s, e] = recordRange(from);
    out.set(blob.subarray(s, e), recordRange(to)[0]);
  });
  return out;
}
