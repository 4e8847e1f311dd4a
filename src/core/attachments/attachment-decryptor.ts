/**
 * Decrypts an attachment blob as a stream (docs/PROTOCOL.md §14.4), given what the message
 * carried: the key, the plaintext size and the blob's SHA-256. Each record is released only
 * after its tag verifies under the nonce of its place, so what comes out is always a prefix
 * of the file; the stream as a whole is the file only if it ends without an error (the
 * padding and the digest are checked after the last record).
 *
 * When a record does not verify, the decryptor finds out why before it throws: it tries the
 * record under every other counter and the other "last" flag (only on this failure path, at
 * most 2 × 1,601 trial decryptions of 64 KiB), so a moved record, a cut stream and an altered
 * byte get different errors.
 */
import { bytesEqual } from '../bytes.ts';
import type { AesGcmKeyed } from '../crypto/aead.ts';
import type { CryptoRuntime } from '../crypto/crypto-runtime.ts';
import { AuthenticationFailedError } from '../crypto/errors.ts';
import {
  ATTACHMENT_DIGEST_BYTES,
  ATTACHMENT_HEADER_BYTES,
  ATTACHMENT_KEY_BYTES,
  ATTACHMENT_MAGIC,
  ATTACHMENT_RECORD_BYTES,
  ATTACHMENT_SEALED_RECORD_BYTES,
  ATTACHMENT_TAG_BYTES,
  attachmentBlobLength,
  attachmentRecordCount,
  attachmentSealedLength,
} from '../wire/attachment-layout.ts';
import { RECORDS_IN_FLIGHT, checkAttachmentSize } from './attachment-encryptor.ts';
import { BlobDigest, DIGEST_SEGMENT_BYTES } from './blob-digest.ts';
import { ExactReader, type ByteSource } from './byte-source.ts';
import {
  AttachmentDigestMismatchError,
  AttachmentExtendedError,
  AttachmentMalformedError,
  AttachmentOutOfOrderError,
  AttachmentTamperedError,
  AttachmentTruncatedError,
  AttachmentWrongKeyError,
  type AttachmentError,
} from './errors.ts';
import { attachmentKeyCheck } from './key-check.ts';
import { streamNonce } from './stream-nonce.ts';

const NO_AAD = new Uint8Array(0);

export interface OpenAttachmentOptions {
  readonly key: Uint8Array;
  /** Plaintext bytes, as the message declared them. */
  readonly size: number;
  /** The blob's digest (blob-digest.ts), as the message declared it. */
  readonly digest: Uint8Array;
  readonly runtime: CryptoRuntime;
  /** Continue after an earlier, interrupted read: the source must start at checkpointBlobOffset(resumeFrom). */
  readonly resumeFrom?: OpenCheckpoint;
  /** Called once the consumer has taken each record (it asked for the next): what to persist to resume. */
  readonly onCheckpoint?: (checkpoint: OpenCheckpoint) => void;
}

/**
 * Where reading can continue after the app restarted: how many records the consumer has
 * taken, and the digests of the blob's complete 1 MiB segments (blob-digest.ts) before
 * them. A resumed read fetches from the start of the first incomplete segment, so the
 * digest still covers every byte, and skips to the next record (at most 1 MiB re-fetched).
 */
export interface OpenCheckpoint {
  readonly records: number;
  readonly segmentDigests: readonly Uint8Array[];
}

/** The blob offset a source resumed at `checkpoint` must start at. */
export function checkpointBlobOffset(checkpoint: OpenCheckpoint): number {
  return checkpoint.segmentDigests.length * DIGEST_SEGMENT_BYTES;
}

async function checkHeader(header: Uint8Array, key: Uint8Array): Promise<void> {
  if (header.length < ATTACHMENT_HEADER_BYTES) throw new AttachmentTruncatedError('the blob ends inside its header');
  if (!bytesEqual(header.subarray(0, ATTACHMENT_MAGIC.length), ATTACHMENT_MAGIC)) throw new AttachmentMalformedError('not a Petrel attachment (magic)');
  if (!bytesEqual(header.subarray(ATTACHMENT_MAGIC.length), attachmentKeyCheck(key))) throw new AttachmentWrongKeyError('the blob was not sealed under this key');
}

/** The file's bytes, one record (≤ 64 KiB) at a time. Throws an AttachmentError on the first fault. */
export async function* openAttachment(source: ByteSource, options: OpenAttachmentOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const { key, size, digest, runtime } = options;
  checkAttachmentSize(size);
  if (key.length !== ATTACHMENT_KEY_BYTES) throw new AttachmentMalformedError(`attachment key must be ${ATTACHMENT_KEY_BYTES} bytes`);
  if (digest.length !== ATTACHMENT_DIGEST_BYTES) throw new AttachmentMalformedError(`attachment digest must be ${ATTACHMENT_DIGEST_BYTES} bytes`);
  const records = attachmentRecordCount(size);
  const resume = options.resumeFrom;
  const first = resume?.records ?? 0;
  const recordStart = ATTACHMENT_HEADER_BYTES + first * ATTACHMENT_SEALED_RECORD_BYTES;
  const resumeAt = resume ? checkpointBlobOffset(resume) : 0;
  if (resume && (!Number.isSafeInteger(first) || first < 0 || first > records || resumeAt > recordStart)) {
    throw new AttachmentMalformedError('the checkpoint does not fit this attachment');
  }
  const reader = new ExactReader(source);
  const hash = new BlobDigest(resume?.segmentDigests ?? []);
  const aead = runtime.aesGcmKeyed(key);
  try {
    // Up to the first record to decrypt: the header (when reading from the start) and the records already taken.
    const prefix = await reader.read(recordStart - resumeAt);
    if (prefix.length < recordStart - resumeAt) throw new AttachmentTruncatedError(first === 0 ? 'the blob ends inside its header' : 'the blob ends before the record to resume at');
    hash.update(prefix);
    if (resumeAt === 0) await checkHeader(prefix.subarray(0, ATTACHMENT_HEADER_BYTES), key);
    // Up to RECORDS_IN_FLIGHT records are opened at once; they are released in order, each
    // only after its own tag verified.
    const inFlight: { i: number; sealed: Uint8Array; opening: Promise<Uint8Array>; segments: number }[] = [];
    async function* release(): AsyncGenerator<Uint8Array, void, undefined> {
      const { i, sealed, opening, segments } = inFlight.shift()!;
      let plaintext: Uint8Array;
      try {
        plaintext = await opening;
      } catch (e) {
        if (!(e instanceof AuthenticationFailedError)) throw e;
        throw await diagnose(aead, sealed, i, records);
      }
      yield plaintext;
      if (options.onCheckpoint) options.onCheckpoint({ records: i + 1, segmentDigests: await hash.segmentsUpTo(segments) });
    }
    for (let i = first; i < records; i++) {
      const last = i === records - 1;
      const want = (last ? size - i * ATTACHMENT_RECORD_BYTES : ATTACHMENT_RECORD_BYTES) + ATTACHMENT_TAG_BYTES;
      const sealed = await reader.read(want);
      if (sealed.length < want) {
        // Records already read are released (or refused) first: the error is the earliest fault.
        while (inFlight.length > 0) yield* release();
        throw new AttachmentTruncatedError(`the blob ends inside record ${i} of ${records}`);
      }
      hash.update(sealed);
      const opening = aead.decrypt(streamNonce(i, last), sealed, NO_AAD);
      opening.catch(() => {}); // awaited in order in release()
      inFlight.push({ i, sealed, opening, segments: hash.completedCount() });
      if (inFlight.length >= RECORDS_IN_FLIGHT) yield* release();
    }
    while (inFlight.length > 0) yield* release();
    for (let left = attachmentBlobLength(size) - attachmentSealedLength(size); left > 0; ) {
      const piece = await reader.read(Math.min(left, ATTACHMENT_RECORD_BYTES));
      if (piece.length === 0) throw new AttachmentTruncatedError('the blob ends inside its padding');
      hash.update(piece);
      if (piece.some((b) => b !== 0)) throw new AttachmentMalformedError('the padding is not all zero');
      left -= piece.length;
    }
    if (!(await reader.atEnd())) throw new AttachmentExtendedError('bytes follow the end of the blob');
    if (!bytesEqual(await hash.digest(), digest)) throw new AttachmentDigestMismatchError('the blob is not the one the message named (digest)');
  } finally {
    await reader.cancel();
  }
}

/** Why record `position` did not verify: sealed for another place, for the other end, or altered. */
async function diagnose(aead: AesGcmKeyed, sealed: Uint8Array, position: number, records: number): Promise<AttachmentError> {
  const opens = async (counter: number, last: boolean): Promise<boolean> => {
    try {
      await aead.decrypt(streamNonce(counter, last), sealed, NO_AAD);
      return true;
    } catch {
      return false;
    }
  };
  const expectedLast = position === records - 1;
  if (await opens(position, !expectedLast)) {
    return expectedLast
      ? new AttachmentTruncatedError(`record ${position} was not sealed as the last: the file continues beyond this blob`)
      : new AttachmentExtendedError(`record ${position} was sealed as the last: the blob continues past the file's end`);
  }
  for (let counter = 0; counter < records; counter++) {
    if (counter === position) continue;
    if ((await opens(counter, counter === records - 1)) || (await opens(counter, counter !== records - 1))) {
      return new AttachmentOutOfOrderError(position, counter);
    }
  }
  return new AttachmentTamperedError(position);
}
