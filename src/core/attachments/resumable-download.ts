/**
 * A download that survives an app restart (docs/PROTOCOL.md §14.7): the blob bytes saved
 * in the transfer journal come first, then the rest from the relay by range; what arrives
 * is saved in parts as it goes. The decryptor reads the whole stream, saved and fetched,
 * so every record and the digest are checked as if it had been one download.
 */
import { fetchBlob, type AttachmentReference, type DownloadOptions } from './attachment-downloader.ts';
import { DOWNLOAD_PART_BYTES, type DownloadRecord, type TransferJournal } from './transfer-journal.ts';

export async function* resumableBlob(
  ref: AttachmentReference,
  options: DownloadOptions,
  journal: TransferJournal,
  record: DownloadRecord,
  partBytes = DOWNLOAD_PART_BYTES,
): AsyncGenerator<Uint8Array, void, undefined> {
  yield* journal.parts(record);
  let part = new Uint8Array(partBytes);
  let filled = 0;
  for await (const piece of fetchBlob(ref, options, record.saved)) {
    for (let o = 0; o < piece.length; ) {
      const n = Math.min(partBytes - filled, piece.length - o);
      part.set(piece.subarray(o, o + n), filled);
      filled += n;
      o += n;
      if (filled === partBytes) {
        await journal.appendPart(record.messageId, part);
        part = new Uint8Array(partBytes);
        filled = 0;
      }
    }
    yield piece;
  }
}
