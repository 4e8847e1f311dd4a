/**
 * Downloads an attachment blob from the relay and decrypts it as it arrives
 * (docs/PROTOCOL.md §14.4–13.5): the file comes out one 64 KiB record at a time, and a
 * dropped connection continues with `Range: bytes=<received>-`, so nothing is fetched
 * twice. After an app restart, `resumeFrom` (a checkpoint the consumer persisted with the
 * records it took) continues from the blob's last complete 1 MiB digest segment.
 */
import type { Clock } from '../clock.ts';
import type { CryptoRuntime } from '../crypto/crypto-runtime.ts';
import { attachmentBlobLength } from '../wire/attachment-layout.ts';
import { checkpointBlobOffset, openAttachment, type OpenCheckpoint } from './attachment-decryptor.ts';
import { AttachmentTruncatedError } from './errors.ts';
import { BlobTransferError, blobPath, sendSigned, type BlobAccount, type BlobHttp, type BlobHttpResponse } from './blob-http.ts';

const MAX_ATTEMPTS = 6;
const backoffMs = (attempt: number) => Math.min(4000, 100 * 2 ** attempt);

export interface AttachmentReference {
  readonly blobId: Uint8Array;
  readonly key: Uint8Array;
  readonly size: number;
  readonly digest: Uint8Array;
}

export interface DownloadOptions {
  readonly http: BlobHttp;
  readonly account: BlobAccount;
  readonly runtime: CryptoRuntime;
  readonly clock: Clock;
  /** Called with (blob bytes received, blob bytes in all). */
  readonly onProgress?: (received: number, total: number) => void;
  /** Continue a download interrupted by an app restart (the consumer kept the records it took). */
  readonly resumeFrom?: OpenCheckpoint;
  /** Called once the consumer has taken each record: persist it with the plaintext to resume later. */
  readonly onCheckpoint?: (checkpoint: OpenCheckpoint) => void;
}

/** The blob's bytes from the relay, resuming with a Range request after a network failure. */
export async function* fetchBlob(ref: AttachmentReference, options: DownloadOptions, startAt = 0): AsyncGenerator<Uint8Array, void, undefined> {
  const { http, account, clock } = options;
  const total = attachmentBlobLength(ref.size);
  const path = blobPath(ref.blobId);
  let received = startAt;
  for (let attempt = 0; received < total; ) {
    const before = received;
    let res: BlobHttpResponse | undefined;
    try {
      // The rest as a suffix range: the relay's blob may hold only the attachment blob's last
      // bytes (the ones before were sent over the direct path, §14.8), and this names them alike.
      res = await sendSigned(http, account, clock, { method: 'GET', path, headers: received > 0 ? { Range: `bytes=-${total - received}` } : {} });
    } catch {
      res = undefined;
    }
    if (res && res.status < 500 && res.status !== 429) {
      const expected = received > 0 ? 206 : 200;
      if (res.status === 410) {
        // The relay lost part of its copy (a file cut short on its disk): the file cannot come whole from there.
        await res.discard();
        throw new AttachmentTruncatedError(`the relay's copy of the attachment is cut short (${received} of ${total} bytes arrived)`);
      }
      if (res.status !== expected) {
        await res.discard();
        throw new BlobTransferError('refused', `downloading the attachment: the relay answered ${res.status}`, res.status);
      }
      const length = Number(res.header('content-length') ?? Number.NaN);
      if (Number.isSafeInteger(length) && length !== total - received) {
        // The relay's blob does not hold the bytes this device lacks (its part was sent directly
        // and this device no longer has it): reading on would feed the decryptor wrong bytes.
        await res.discard();
        throw new BlobTransferError('refused', `downloading the attachment: the relay has ${length} bytes where ${total - received} are missing`, res.status);
      }
      try {
        for await (const piece of res.body) {
          const room = total - received;
          const take = piece.length > room ? piece.subarray(0, room) : piece;
          received += take.length;
          options.onProgress?.(received, total);
          attempt = 0;
          if (take.length > 0) yield take;
          if (received >= total) break;
        }
        // A body that ended early goes on with a Range request; one that brought nothing counts as a failure.
        if (received > before) continue;
      } catch {
        // The connection dropped mid-body: resume from what arrived.
      }
    } else {
      await res?.discard();
    }
    if (++attempt >= MAX_ATTEMPTS) throw new BlobTransferError('network', `downloading the attachment: no answer after ${MAX_ATTEMPTS} attempts`);
    await new Promise<void>((resolve) => clock.setTimeout(resolve, backoffMs(attempt)));
  }
}

/** The file's plaintext, verified record by record; the whole stream is the file only if it ends without an error. */
export function downloadAttachment(ref: AttachmentReference, options: DownloadOptions): AsyncGenerator<Uint8Array, void, undefined> {
  const startAt = options.resumeFrom ? checkpointBlobOffset(options.resumeFrom) : 0;
  return openAttachment(fetchBlob(ref, options, startAt), {
    key: ref.key,
    size: ref.size,
    digest: ref.digest,
    runtime: options.runtime,
    ...(options.resumeFrom ? { resumeFrom: options.resumeFrom } : {}),
    ...(options.onCheckpoint ? { onCheckpoint: options.onCheckpoint } : {}),
  });
}

/** Tells the relay this account has the attachment (the relay deletes it once every recipient has). */
export async function acknowledgeAttachment(blobId: Uint8Array, options: Pick<DownloadOptions, 'http' | 'account' | 'clock'>): Promise<void> {
  const res = await sendSigned(options.http, options.account, options.clock, { method: 'POST', path: `${blobPath(blobId)}/ack`, headers: {} });
  await res.discard();
  if (res.status !== 204 && res.status !== 404) throw new BlobTransferError('refused', `acknowledging the attachment: the relay answered ${res.status}`, res.status);
}
