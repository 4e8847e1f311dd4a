/**
 * What a person reads about a file transfer: sizes, and why one stopped (docs/PROTOCOL.md
 * §14.7). The relay's refusals arrive typed (its `error` code); each has its own words.
 */
import { AttachmentError } from '../attachments/errors.ts';
import { BlobTransferError } from '../attachments/blob-http.ts';
import { TransferCancelledError } from './errors.ts';

const MIB = 1024 * 1024;

/** "12.3 MiB" — sizes in the words a person reads. */
export function sizeInWords(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < MIB) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

export const INTERRUPTED_UPLOAD = 'Interrupted when the app closed. Attach the same file again to send the rest.';
export const INTERRUPTED_DOWNLOAD = 'Interrupted when the app closed. Retry fetches the rest.';
export const OVER_QUOTA = "The relay's storage for your account is full. Files leave it once your contacts have downloaded them: retry later, or send a smaller file.";

/** The metric a failure counts under (besides the upload/download failure counter). */
export function failureMetric(err: unknown): string | undefined {
  if (err instanceof AttachmentError) return `attachment.failure.${err.kind}`;
  if (err instanceof BlobTransferError && err.code) return `attachment.refused.${err.code}`;
  return undefined;
}

export function failureInWords(err: unknown, direction: 'up' | 'down' = 'down'): string {
  if (err instanceof TransferCancelledError) return 'Cancelled.';
  if (err instanceof AttachmentError) {
    if (err.kind === 'wrong_key') return 'The file cannot be opened with the key in this message.';
    if (err.kind === 'truncated') return 'The file on the relay is incomplete.';
    return 'The file on the relay was altered or damaged; it was not saved.';
  }
  if (err instanceof BlobTransferError) {
    if (err.code === 'over_quota') return OVER_QUOTA;
    if (err.code === 'storage_full') return 'The relay has no room for files right now. Retry later.';
    if (err.code === 'too_large') return 'The relay does not take files this large.';
    if (err.kind === 'lost') return 'The relay lost part of the file. Retry to send it again.';
    if (err.kind === 'refused' && err.status === 404) return 'The file is no longer on the relay.';
    if (err.kind === 'network') return direction === 'up' ? 'The relay could not be reached. Sending continues when it is back.' : 'The relay could not be reached.';
  }
  return 'The transfer failed.';
}
