/**
 * The byte layout of an encrypted attachment blob, shared by the client (which writes and
 * reads blobs) and the relay (which checks declared sizes). No cryptography here: only
 * lengths. docs/PROTOCOL.md §14 describes the format.
 *
 *   blob   = header ‖ record_0 ‖ … ‖ record_{n-1} ‖ padding
 *   header = "PTA1" ‖ key_check (32 bytes)
 *   record = AES-256-GCM(key, nonce_i, plaintext_i)   (plaintext_i is 64 KiB, the last 0..64 KiB)
 *   padding = zero bytes up to paddedBlobLength(header + records)
 */

/** Plaintext bytes sealed per record (the last record may be shorter, and is empty only for an empty file). */
export const ATTACHMENT_RECORD_BYTES = 64 * 1024;
/** AES-GCM tag appended to each record. */
export const ATTACHMENT_TAG_BYTES = 16;
/** A full record on the wire. */
export const ATTACHMENT_SEALED_RECORD_BYTES = ATTACHMENT_RECORD_BYTES + ATTACHMENT_TAG_BYTES;
/** Format magic: "PTA1" (Petrel attachment, version 1). */
export const ATTACHMENT_MAGIC = Uint8Array.of(0x50, 0x54, 0x41, 0x31);
/** Bytes of the key check value that follows the magic. */
export const ATTACHMENT_KEY_CHECK_BYTES = 32;
export const ATTACHMENT_HEADER_BYTES = ATTACHMENT_MAGIC.length + ATTACHMENT_KEY_CHECK_BYTES;
/** Per-file key and digest lengths. */
export const ATTACHMENT_KEY_BYTES = 32;
export const ATTACHMENT_DIGEST_BYTES = 32;
/** Largest file Petrel sends: 100 MiB of plaintext. */
export const MAX_ATTACHMENT_PLAINTEXT_BYTES = 100 * 1024 * 1024;
/** Descriptor limits (the `file` content frame): media type, file name, inline preview. */
export const MAX_ATTACHMENT_MIME_BYTES = 127;
export const MAX_ATTACHMENT_NAME_BYTES = 255;
export const MAX_ATTACHMENT_PREVIEW_BYTES = 2048;
/** Blobs shorter than this are padded up to it (a small picture and a one-line text file look alike). */
export const MIN_ATTACHMENT_BLOB_BYTES = 4096;

/** Records in the blob of a file of `plaintextBytes`: at least one (an empty file has one empty final record). */
export function attachmentRecordCount(plaintextBytes: number): number {
  return Math.max(1, Math.ceil(plaintextBytes / ATTACHMENT_RECORD_BYTES));
}

/** Header plus records, before padding. */
export function attachmentSealedLength(plaintextBytes: number): number {
  return ATTACHMENT_HEADER_BYTES + plaintextBytes + attachmentRecordCount(plaintextBytes) * ATTACHMENT_TAG_BYTES;
}

/**
 * Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication
 * with PURBs", PETS 2019, §4): round L up so that only its top ⌊log2 ⌊log2 L⌋⌋ + 1 bits may be
 * non-zero. The length then reveals O(log log L) bits, and the overhead is at most 12 %
 * (at most 2^(⌊log2 L⌋ - ⌊log2 ⌊log2 L⌋⌋ - 1) bytes: ≤ 6.25 % from 64 KiB, ≤ 3.2 % from 64 MiB;
 * a 100 MiB file's blob is 102 MiB).
 * Lengths under MIN_ATTACHMENT_BLOB_BYTES become MIN_ATTACHMENT_BLOB_BYTES.
 */
export function paddedBlobLength(length: number): number {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError('blob length must be a non-negative safe integer');
  if (length <= MIN_ATTACHMENT_BLOB_BYTES) return MIN_ATTACHMENT_BLOB_BYTES;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const step = 2 ** lastBits;
  return Math.ceil(length / step) * step;
}

/** The length of the blob (what the relay stores) for a file of `plaintextBytes`. */
export function attachmentBlobLength(plaintextBytes: number): number {
  return paddedBlobLength(attachmentSealedLength(plaintextBytes));
}

/** The largest blob any valid attachment produces: what the relay accepts as a declared size at most. */
export const MAX_ATTACHMENT_BLOB_BYTES = attachmentBlobLength(MAX_ATTACHMENT_PLAINTEXT_BYTES);
