/**
 * Encrypts a file into an attachment blob as a stream (docs/PROTOCOL.md §14): a header, one
 * AES-256-GCM record per 64 KiB of plaintext under the STREAM nonce, then zero padding up to
 * the Padmé bucket. Memory stays at about one record whatever the file size; the SHA-256 of
 * the blob is computed as the chunks go out and is ready once they have all been taken.
 *
 * The size is declared up front: it decides which record is the last (its nonce says so)
 * and how much padding follows. A source that gives more or fewer bytes than declared fails
 * the stream with AttachmentSizeMismatchError; nothing sealed so far is valid on its own.
 */
import type { CryptoRuntime } from '../crypto/crypto-runtime.ts';
import {
  ATTACHMENT_HEADER_BYTES,
  ATTACHMENT_KEY_BYTES,
  ATTACHMENT_MAGIC,
  ATTACHMENT_RECORD_BYTES,
  MAX_ATTACHMENT_PLAINTEXT_BYTES,
  attachmentBlobLength,
  attachmentRecordCount,
  attachmentSealedLength,
} from '../wire/attachment-layout.ts';
import { BlobDigest } from './blob-digest.ts';
import { ExactReader, type ByteSource } from './byte-source.ts';
import { AttachmentMalformedError, AttachmentSizeMismatchError, AttachmentTooLargeError } from './errors.ts';
import { attachmentKeyCheck } from './key-check.ts';
import { streamNonce } from './stream-nonce.ts';

const NO_AAD = new Uint8Array(0);
/** Records sealed concurrently (each 64 KiB in and out: a few hundred KiB held). */
export const RECORDS_IN_FLIGHT = 4;
/** Padding goes out in pieces of at most this many bytes. */
const PADDING_PIECE_BYTES = 64 * 1024;

export interface SealAttachmentOptions {
  /** Plaintext bytes the source will give (its chunks must not be reused by the source once given). */
  readonly size: number;
  readonly runtime: CryptoRuntime;
  /** The per-file key; by default 32 fresh bytes from the runtime's randomness. Never reuse one. */
  readonly key?: Uint8Array;
}

export interface SealedAttachment {
  readonly key: Uint8Array;
  readonly plaintextBytes: number;
  /** Exactly the bytes `chunks` will give. */
  readonly blobBytes: number;
  /** The blob, in pieces of at most 64 KiB + 16. Iterate once. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** The blob's digest (blob-digest.ts); throws until `chunks` has been read to the end. */
  digest(): Uint8Array;
}

export function checkAttachmentSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw new AttachmentMalformedError('attachment size must be a non-negative integer');
  if (size > MAX_ATTACHMENT_PLAINTEXT_BYTES) throw new AttachmentTooLargeError(size, MAX_ATTACHMENT_PLAINTEXT_BYTES);
}

export function sealAttachment(source: ByteSource, options: SealAttachmentOptions): SealedAttachment {
  const { size, runtime } = options;
  checkAttachmentSize(size);
  const key = options.key ?? runtime.random.bytes(ATTACHMENT_KEY_BYTES);
  if (key.length !== ATTACHMENT_KEY_BYTES) throw new AttachmentMalformedError(`attachment key must be ${ATTACHMENT_KEY_BYTES} bytes`);
  const hash = new BlobDigest();
  const aead = runtime.aesGcmKeyed(key);
  let digest: Uint8Array | undefined;
  const blobBytes = attachmentBlobLength(size);
  let started = false;

  async function* produce(): AsyncGenerator<Uint8Array, void, undefined> {
    const reader = new ExactReader(source);
    try {
      const header = new Uint8Array(ATTACHMENT_HEADER_BYTES);
      header.set(ATTACHMENT_MAGIC, 0);
      header.set(attachmentKeyCheck(key), ATTACHMENT_MAGIC.length);
      hash.update(header);
      yield header;
      const records = attachmentRecordCount(size);
      // Up to RECORDS_IN_FLIGHT records are sealed at once (WebCrypto runs them on other
      // threads); they go out in order.
      const inFlight: Promise<Uint8Array>[] = [];
      const next = async () => {
        const sealed = await inFlight.shift()!;
        hash.update(sealed);
        return sealed;
      };
      for (let i = 0; i < records; i++) {
        const last = i === records - 1;
        const want = last ? size - i * ATTACHMENT_RECORD_BYTES : ATTACHMENT_RECORD_BYTES;
        const plaintext = await reader.read(want);
        if (plaintext.length < want) throw new AttachmentSizeMismatchError(`the file gave fewer bytes than the declared ${size}`);
        const sealing = aead.encrypt(streamNonce(i, last), plaintext, NO_AAD);
        sealing.catch(() => {}); // awaited in order below
        inFlight.push(sealing);
        if (inFlight.length >= RECORDS_IN_FLIGHT) yield await next();
      }
      while (inFlight.length > 0) yield await next();
      if (!(await reader.atEnd())) throw new AttachmentSizeMismatchError(`the file gave more bytes than the declared ${size}`);
      for (let left = blobBytes - attachmentSealedLength(size); left > 0; left -= PADDING_PIECE_BYTES) {
        const piece = new Uint8Array(Math.min(left, PADDING_PIECE_BYTES));
        hash.update(piece);
        yield piece;
      }
      digest = await hash.digest();
    } finally {
      await reader.cancel();
    }
  }

  return {
    key,
    plaintextBytes: size,
    blobBytes,
    chunks: {
      [Symbol.asyncIterator]: () => {
        if (started) throw new Error('an attachment stream can be read once');
        started = true;
        return produce();
      },
    },
    digest() {
      if (!digest) throw new Error('the attachment digest is known once every chunk has been read');
      return digest;
    },
  };
}
