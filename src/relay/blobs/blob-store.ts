/**
 * Where the relay keeps attachment blobs (issue 19): opaque ciphertext uploaded in chunks
 * by one account and fetched by its recipients. Two implementations pass one contract
 * (tests/relay/contracts/blob-store.contract.ts): FileBlobStore (metadata in the relay's
 * SQLite database, bytes in files under PETREL_DATA_DIR/blobs; one node) and
 * PostgresBlobStore (metadata and bytes in PostgreSQL, so every node of a cluster reaches
 * every blob). docs/OPERATIONS.md "Attachment blobs" says how to run them.
 *
 * Quotas count DECLARED sizes: a blob reserves its whole size when it is created, so an
 * account cannot start more uploads than it could finish.
 */

export { BLOB_ID_BYTES } from '../../core/wire/blob-request-auth.ts';

export interface BlobLimits {
  /** Declared bytes one account may hold across its blobs (finished or not). */
  readonly accountQuotaBytes: number;
  /** Declared bytes across all blobs; 0 = no cap. */
  readonly maxTotalBytes: number;
  /** A blob is deleted this long after it was created, acknowledged or not. */
  readonly retentionMs: number;
  /**
   * An unfinished upload is deleted (its declared size no longer counts against the quota)
   * once no chunk arrived for this long: its `expiresAt` is the earlier of the end of
   * retention and the last chunk (or the creation) plus this. Absent: only retention ends it.
   */
  readonly idleMs?: number;
}

/** When a blob expires: the end of retention, or for an unfinished upload the end of its idle time if that is earlier. */
export function blobExpiry(limits: BlobLimits, createdAt: number, finished: boolean, lastActivity: number): number {
  const retained = createdAt + limits.retentionMs;
  return finished || limits.idleMs === undefined ? retained : Math.min(retained, lastActivity + limits.idleMs);
}

export interface NewBlob {
  readonly id: Uint8Array;
  /** The uploading account (its mailbox address). */
  readonly owner: Uint8Array;
  readonly size: number;
  /** Recipient devices that will acknowledge it; the blob goes when all have. */
  readonly recipients: number;
  /** The recipients' accounts, when the upload named them: then only they may acknowledge it. */
  readonly recipientAccounts?: readonly Uint8Array[];
}

export interface BlobInfo {
  readonly id: Uint8Array;
  readonly owner: Uint8Array;
  readonly size: number;
  /** Bytes stored so far: the offset the next chunk must start at. */
  readonly received: number;
  readonly recipients: number;
  readonly acks: number;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export const blobComplete = (b: BlobInfo): boolean => b.received === b.size;

export type CreateBlobResult = { readonly ok: true; readonly blob: BlobInfo } | { readonly ok: false; readonly why: 'over_quota' | 'storage_full' };

export type AppendResult =
  | { readonly ok: true; readonly received: number }
  | { readonly ok: false; readonly why: 'not_found' }
  /** The chunk does not start where the stored bytes end (`received` says where). */
  | { readonly ok: false; readonly why: 'offset_mismatch'; readonly received: number }
  /** The chunk would end past the declared size. */
  | { readonly ok: false; readonly why: 'beyond_size'; readonly received: number };

export type AckResult = { readonly ok: true; readonly deleted: boolean } | { readonly ok: false; readonly why: 'not_found' | 'not_recipient' };

/** The stored bytes do not cover what the blob's record says it holds (a file cut short or gone on disk, chunks lost). */
export class BlobDamagedError extends Error {
  override readonly name = 'BlobDamagedError';
}

export interface BlobStore {
  /** Reserves the declared size against the account's quota and the global cap, atomically. */
  create(blob: NewBlob, now: number): Promise<CreateBlobResult>;
  info(id: Uint8Array): Promise<BlobInfo | undefined>;
  /**
   * Stores `data` at `offset`, which must be where the stored bytes end. The chunk is durable
   * and the offset advanced together (a crash leaves either both or neither), so a client
   * that lost the answer finds the offset and re-sends at most this chunk. With `now`, the
   * blob's expiry moves (`blobExpiry`: an unfinished upload stays `idleMs` past its last chunk).
   */
  append(id: Uint8Array, offset: number, data: Uint8Array, now?: number): Promise<AppendResult>;
  /** Bytes [start, end) of the stored part, in pieces; end ≤ received. Fails with BlobDamagedError where they are not all there (before the first piece, where it can tell). */
  read(id: Uint8Array, start: number, end: number): AsyncIterable<Uint8Array>;
  /**
   * Records that `account` has the blob; deletes it once `recipients` distinct accounts have.
   * Idempotent per account. A blob created with `recipientAccounts` takes only theirs (`not_recipient`).
   */
  ack(id: Uint8Array, account: Uint8Array): Promise<AckResult>;
  delete(id: Uint8Array): Promise<boolean>;
  /** Deletes every blob past its retention; returns how many. */
  expire(now: number): Promise<number>;
  /** Declared bytes the account holds. */
  accountBytes(owner: Uint8Array): Promise<number>;
  /** Declared bytes across all blobs. */
  totalBytes(): Promise<number>;
}
