/**
 * Encrypts a file and uploads its blob to the relay in chunks (docs/PROTOCOL.md §14.5),
 * streaming: one chunk is on the wire while the next is sealed (two chunks of ciphertext
 * held at most), and a chunk is kept until the relay confirms it, so a dropped connection
 * or a relay restart costs at most that chunk again.
 *
 * Resuming after the app itself restarted: the blob is a pure function of the file and
 * the key (no randomness besides the key), so `resume: {blobId, key}` seals the file again
 * under the same key, asks the relay where the stored bytes end, and sends from there.
 */
import { fromBase64Url, toBase64Url } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import type { CryptoRuntime } from '../crypto/crypto-runtime.ts';
import { BLOB_ID_BYTES } from '../wire/blob-request-auth.ts';
import { sealAttachment } from './attachment-encryptor.ts';
import type { ByteSource } from './byte-source.ts';
import { BlobTransferError, blobPath, refusalOf, sendSigned, type BlobAccount, type BlobHttp, type BlobHttpResponse } from './blob-http.ts';

/** Chunk size of a PATCH by default (the relay's default cap, PETREL_BLOB_CHUNK_MAX_BYTES). */
export const DEFAULT_UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;
/** Attempts per chunk (and per control request) before the upload fails with `network`; 5xx, 429 and network failures are retried. */
const MAX_ATTEMPTS = 6;

export interface UploadOptions {
  readonly http: BlobHttp;
  readonly account: BlobAccount;
  readonly runtime: CryptoRuntime;
  readonly clock: Clock;
  /** Plaintext bytes the source gives. */
  readonly size: number;
  /** Recipient devices that will acknowledge the blob (the relay deletes it once all have). */
  readonly recipients?: number;
  /**
   * The recipients' accounts (mailbox addresses): only they may acknowledge the blob
   * (`Petrel-Recipient-Accounts`); their number is then the recipient count.
   */
  readonly recipientAccounts?: readonly Uint8Array[];
  readonly chunkBytes?: number;
  /** Continue an upload begun earlier (same file, same key). */
  readonly resume?: { readonly blobId: Uint8Array; readonly key: Uint8Array };
  /** The per-file key for a new upload (a file that began over the direct path keeps its key); default fresh. */
  readonly key?: Uint8Array;
  /**
   * Upload only the blob's bytes from this offset on (the recipient already holds the ones
   * before, sent over the direct path: docs/PROTOCOL.md §14.8). The relay's blob is then the
   * last `total - from` bytes of the attachment blob; offsets and progress are the relay blob's.
   */
  readonly from?: number;
  /** Called with (blob bytes the relay has confirmed, blob bytes in all). */
  readonly onProgress?: (stored: number, total: number) => void;
  /** Called once the blob exists, before any chunk (awaited): what to persist to resume later. */
  readonly onCreated?: (resume: { blobId: Uint8Array; key: Uint8Array; total: number }) => void | Promise<void>;
  /** Checked between chunks; true ends the upload with an AbortError-like BlobTransferError. */
  readonly cancelled?: () => boolean;
}

export interface UploadedAttachment {
  readonly blobId: Uint8Array;
  readonly key: Uint8Array;
  readonly size: number;
  readonly digest: Uint8Array;
  readonly blobBytes: number;
  /** Chunks sent, counting re-sends (for tests and metrics). */
  readonly chunksSent: number;
}

const backoffMs = (attempt: number) => Math.min(4000, 100 * 2 ** attempt);
const sleep = (clock: Clock, ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

const refusal = refusalOf;

export async function uploadAttachment(source: ByteSource, options: UploadOptions): Promise<UploadedAttachment> {
  const { http, account, runtime, clock, size } = options;
  const chunkBytes = options.chunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES;
  const key = options.resume?.key ?? options.key;
  const sealed = sealAttachment(source, { size, runtime, ...(key ? { key } : {}) });
  const from = options.from ?? 0;
  if (!Number.isSafeInteger(from) || from < 0 || from >= sealed.blobBytes) throw new RangeError(`an upload cannot start at ${from} of ${sealed.blobBytes} blob bytes`);
  /** Bytes of the relay's blob (the whole attachment blob unless `from`). */
  const total = sealed.blobBytes - from;
  const signed = (req: Parameters<BlobHttp['send']>[0]) => sendSigned(http, account, clock, req);

  /** A control request, retried on network failures and 5xx. */
  const control = async (req: Parameters<BlobHttp['send']>[0]): Promise<BlobHttpResponse> => {
    for (let attempt = 0; ; attempt++) {
      let res: BlobHttpResponse | undefined;
      try {
        res = await signed(req);
      } catch {
        res = undefined;
      }
      if (res && res.status < 500 && res.status !== 429) return res;
      await res?.discard();
      if (attempt + 1 >= MAX_ATTEMPTS) throw new BlobTransferError('network', `${req.method} ${req.path}: no answer after ${MAX_ATTEMPTS} attempts`);
      await sleep(clock, backoffMs(attempt));
    }
  };

  let blobId: Uint8Array;
  if (options.resume) {
    blobId = options.resume.blobId;
  } else {
    const accounts = options.recipientAccounts;
    const headers: Record<string, string> = { 'Upload-Length': String(total), 'Petrel-Recipients': String(accounts?.length || options.recipients || 1) };
    if (accounts?.length) headers['Petrel-Recipient-Accounts'] = accounts.map(toBase64Url).join(',');
    const created = await control({ method: 'POST', path: '/blobs', headers });
    if (created.status !== 201) throw await refusal(created, 'creating the blob');
    await created.discard();
    const location = created.header('location') ?? '';
    const id = /^\/blobs\/([A-Za-z0-9_-]{22})$/.exec(location)?.[1];
    if (!id) throw new BlobTransferError('refused', 'the relay named no blob');
    blobId = fromBase64Url(id);
    if (blobId.length !== BLOB_ID_BYTES) throw new BlobTransferError('refused', 'the relay named no blob');
  }
  await options.onCreated?.({ blobId, key: sealed.key, total });
  const path = blobPath(blobId);

  const storedOffset = async (): Promise<number> => {
    const res = await control({ method: 'HEAD', path, headers: {} });
    if (res.status !== 200) throw await refusal(res, 'asking where the upload stands');
    await res.discard();
    return Number(res.header('upload-offset'));
  };

  let stored = options.resume ? await storedOffset() : 0;
  let chunksSent = 0;

  /** Sends blob bytes [start, start + piece.length), re-sending only what the relay lacks. */
  const sendPiece = async (start: number, piece: Uint8Array): Promise<void> => {
    const end = start + piece.length;
    for (let attempt = 0; stored < end; attempt++) {
      if (stored < start) throw new BlobTransferError('lost', `the relay has ${stored} bytes but had confirmed ${start}`);
      if (options.cancelled?.()) throw new BlobTransferError('refused', 'upload cancelled');
      let res: BlobHttpResponse | undefined;
      try {
        chunksSent++;
        res = await signed({ method: 'PATCH', path, headers: { 'Upload-Offset': String(stored), 'Content-Type': 'application/offset+octet-stream' }, body: piece.subarray(stored - start) });
      } catch {
        res = undefined;
      }
      if (res?.status === 204) {
        await res.discard();
        stored = Number(res.header('upload-offset'));
        options.onProgress?.(stored, total);
        continue;
      }
      const retryable = !res || res.status >= 500 || res.status === 429;
      if (res && !retryable && res.status !== 409) throw await refusal(res, 'sending a chunk');
      await res?.discard();
      if (attempt + 1 >= MAX_ATTEMPTS) throw new BlobTransferError('network', `chunk at ${start}: no answer after ${MAX_ATTEMPTS} attempts`);
      if (retryable) await sleep(clock, backoffMs(attempt));
      // The answer was lost, or the relay has another offset (409): ask where it stands.
      stored = await storedOffset();
    }
  };

  // One chunk on the wire while the next is sealed: two chunks of ciphertext at most.
  let position = 0;
  let buffer = new Uint8Array(chunkBytes);
  let filled = 0;
  let inFlight: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (filled === 0) return;
    const start = position - filled;
    const piece = buffer.subarray(0, filled);
    buffer = new Uint8Array(chunkBytes);
    filled = 0;
    await inFlight;
    if (start + piece.length <= stored) return;
    const sending = sendPiece(start, piece);
    sending.catch(() => {}); // awaited at the next flush; this only keeps it from counting as unhandled meanwhile
    inFlight = sending;
  };
  let skipped = 0;
  for await (const sealedChunk of sealed.chunks) {
    // Bytes before `from` are sealed (the digest covers them) but not sent.
    const skip = Math.min(from - skipped, sealedChunk.length);
    skipped += skip;
    const chunk = skip > 0 ? sealedChunk.subarray(skip) : sealedChunk;
    for (let o = 0; o < chunk.length; ) {
      const n = Math.min(chunkBytes - filled, chunk.length - o);
      buffer.set(chunk.subarray(o, o + n), filled);
      filled += n;
      position += n;
      o += n;
      if (filled === chunkBytes) await flush();
    }
  }
  await flush();
  await inFlight;
  if (stored !== total) throw new BlobTransferError('lost', `the relay has ${stored} of ${total} bytes`);
  return { blobId, key: sealed.key, size, digest: sealed.digest(), blobBytes: total, chunksSent };
}
