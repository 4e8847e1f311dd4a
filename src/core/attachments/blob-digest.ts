/**
 * The digest of an attachment blob that the message carries (docs/PROTOCOL.md §13.1):
 *
 *   digest = SHA-256( SHA-256(segment_0) ‖ SHA-256(segment_1) ‖ … ‖ SHA-256(segment_k) )
 *
 * where the segments are the blob's consecutive 1 MiB pieces (the last one shorter). A hash
 * list rather than one SHA-256 over the stream because WebCrypto's digest is one-shot
 * (not incremental) and a JavaScript SHA-256 runs at about a tenth of its speed: hashing
 * 1 MiB segments natively keeps the digest off the critical path of a 100 MiB transfer.
 * It is as collision resistant as SHA-256 (a collision of the outer hash or of a segment
 * hash is a SHA-256 collision), and depends only on the bytes, not on how they were chunked.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../bytes.ts';

export const DIGEST_SEGMENT_BYTES = 1024 * 1024;

const subtle = globalThis.crypto?.subtle;

async function sha256Of(bytes: Uint8Array): Promise<Uint8Array> {
  // WebCrypto copies its input when called, so the caller may reuse the buffer afterwards.
  if (subtle) return new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return sha256(bytes);
}

export class BlobDigest {
  private readonly segment = new Uint8Array(DIGEST_SEGMENT_BYTES);
  private filled = 0;
  private readonly segmentDigests: Uint8Array[];
  private finished = false;

  /** `prior`: the digests of the blob's first segments, when hashing continues after them (a resumed download). */
  constructor(prior: readonly Uint8Array[] = []) {
    if (prior.some((d) => d.length !== 32)) throw new RangeError('a segment digest is 32 bytes');
    this.segmentDigests = prior.map((d) => d.slice());
  }

  /** Digests of the segments completed so far (the bytes hashed since the last one are not in it). */
  completedSegments(): Uint8Array[] {
    return this.segmentDigests.map((d) => d.slice());
  }

  async update(bytes: Uint8Array): Promise<void> {
    if (this.finished) throw new Error('digest already finished');
    for (let o = 0; o < bytes.length; ) {
      const n = Math.min(DIGEST_SEGMENT_BYTES - this.filled, bytes.length - o);
      this.segment.set(bytes.subarray(o, o + n), this.filled);
      this.filled += n;
      o += n;
      if (this.filled === DIGEST_SEGMENT_BYTES) {
        this.segmentDigests.push(await sha256Of(this.segment));
        this.filled = 0;
      }
    }
  }

  async digest(): Promise<Uint8Array> {
    if (this.finished) throw new Error('digest already finished');
    this.finished = true;
    if (this.filled > 0 || this.segmentDigests.length === 0) this.segmentDigests.push(await sha256Of(this.segment.subarray(0, this.filled)));
    return sha256(concatBytes(...this.segmentDigests));
  }
}
