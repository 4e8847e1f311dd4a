/**
 * The digest of an attachment blob that the message carries (docs/PROTOCOL.md §14.1):
 *
 *   digest = SHA-256( SHA-256(segment_0) ‖ SHA-256(segment_1) ‖ … ‖ SHA-256(segment_k) )
 *
 * where the segments are the blob's consecutive 1 MiB pieces (the last one shorter). A hash
 * list rather than one SHA-256 over the stream because WebCrypto's digest is one-shot
 * (not incremental) and a JavaScript SHA-256 runs at about a tenth of its speed: hashing
 * 1 MiB segments natively keeps the digest off the critical path of a 100 MiB transfer.
 * It is as collision resistant as SHA-256 (a collision of the outer hash or of a segment
 * hash is a SHA-256 collision), and depends only on the bytes, not on how they were chunked.
 *
 * `update` is synchronous: a full segment is copied and handed to the native digest, which
 * runs while the caller goes on; `digest()` waits for them all.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../bytes.ts';

export const DIGEST_SEGMENT_BYTES = 1024 * 1024;

const subtle = globalThis.crypto?.subtle;

async function sha256Of(bytes: Uint8Array): Promise<Uint8Array> {
  if (subtle) return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return sha256(bytes);
}

export class BlobDigest {
  private readonly segment = new Uint8Array(DIGEST_SEGMENT_BYTES);
  private filled = 0;
  private readonly segmentDigests: Promise<Uint8Array>[];
  private finished = false;

  /** `prior`: the digests of the blob's first segments, when hashing continues after them (a resumed download). */
  constructor(prior: readonly Uint8Array[] = []) {
    if (prior.some((d) => d.length !== 32)) throw new RangeError('a segment digest is 32 bytes');
    this.segmentDigests = prior.map((d) => Promise.resolve(d.slice()));
  }

  update(bytes: Uint8Array): void {
    if (this.finished) throw new Error('digest already finished');
    for (let o = 0; o < bytes.length; ) {
      const n = Math.min(DIGEST_SEGMENT_BYTES - this.filled, bytes.length - o);
      this.segment.set(bytes.subarray(o, o + n), this.filled);
      this.filled += n;
      o += n;
      if (this.filled === DIGEST_SEGMENT_BYTES) {
        this.pushSegment(this.segment.slice());
        this.filled = 0;
      }
    }
  }

  /** Segments completed so far (the bytes hashed since the last one are not in it). */
  completedCount(): number {
    return this.segmentDigests.length;
  }

  /** Digests of the first `count` segments. */
  segmentsUpTo(count: number): Promise<Uint8Array[]> {
    return Promise.all(this.segmentDigests.slice(0, count)).then((ds) => ds.map((d) => d.slice()));
  }

  async digest(): Promise<Uint8Array> {
    if (this.finished) throw new Error('digest already finished');
    this.finished = true;
    if (this.filled > 0 || this.segmentDigests.length === 0) this.pushSegment(this.segment.slice(0, this.filled));
    return sha256(concatBytes(...(await Promise.all(this.segmentDigests))));
  }

  private pushSegment(bytes: Uint8Array): void {
    const d = sha256Of(bytes);
    d.catch(() => {}); // awaited in digest() / segmentsUpTo(); this only keeps it from counting as unhandled meanwhile
    this.segmentDigests.push(d);
  }
}
