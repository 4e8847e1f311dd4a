/**
 * The user's commands about files (docs/PROTOCOL.md §14): `sendFile` checks the file
 * (size limit first, before any upload), encrypts and uploads it with the attachment
 * uploader, then queues its `file` message through compose.ts like any text message
 * (exactly once from there on); `downloadAttachment` fetches, verifies and decrypts a
 * message's file with the downloader and acknowledges the blob once it is whole.
 * Progress of both goes to the view as `transfers`.
 *
 * An upload interrupted by closing the app is not resumed (its message was never
 * queued): the user sends the file again.
 */
import { fromHex, toHex, utf8 } from '../bytes.ts';
import { acknowledgeAttachment, downloadAttachment } from '../attachments/attachment-downloader.ts';
import { uploadAttachment } from '../attachments/attachment-uploader.ts';
import type { BlobAccount, BlobHttp } from '../attachments/blob-http.ts';
import type { ByteSource } from '../attachments/byte-source.ts';
import { AttachmentError } from '../attachments/errors.ts';
import type { AttachmentRef } from '../store/index.ts';
import { MAX_ATTACHMENT_MIME_BYTES, MAX_ATTACHMENT_NAME_BYTES, MAX_ATTACHMENT_PLAINTEXT_BYTES, MAX_ATTACHMENT_PREVIEW_BYTES } from '../wire/attachment-layout.ts';
import { mailboxAddress, MAX_TEXT_BYTES } from '../wire/index.ts';
import { enqueueOutgoing } from './compose.ts';
import type { MessengerContext } from './context.ts';
import {
  AttachmentsUnavailableError,
  FileTooLargeError,
  InvalidFileError,
  NoAttachmentError,
  TransferCancelledError,
  UnknownContactError,
} from './errors.ts';
import { assertCanSend } from './contact-state.ts';
import type { MessageEvents } from './message-commands.ts';
import { outgoingContent } from './message-content.ts';
import type { SendFileOptions, TransferView } from './messenger-api.ts';

/** What `sendFile` reads: a Blob (or File) as the UI passes it, or a stream of its bytes. */
export interface FileSource {
  readonly size: number;
  readonly type?: string;
  readonly name?: string;
  stream(): ByteSource;
}

const MIB = 1024 * 1024;
const DEFAULT_MIME = 'application/octet-stream';
/** Progress is reported at most once per this fraction of the file (and at the end). */
const PROGRESS_STEP = 0.01;

/** "12.3 MiB" — sizes in the words a person reads. */
export function sizeInWords(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < MIB) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

function failureInWords(err: unknown): string {
  if (err instanceof TransferCancelledError) return 'Cancelled.';
  if (err instanceof AttachmentError) {
    if (err.kind === 'wrong_key') return 'The file cannot be opened with the key in this message.';
    if (err.kind === 'truncated') return 'The file on the relay is incomplete.';
    return 'The file on the relay was altered or damaged; it was not saved.';
  }
  const kind = (err as { kind?: unknown; status?: unknown } | null)?.kind;
  if (kind === 'refused' && (err as { status?: unknown }).status === 404) return 'The file is no longer on the relay.';
  if (kind === 'network') return 'The relay could not be reached.';
  return 'The transfer failed.';
}

export class AttachmentCommands {
  private readonly transfers = new Map<string, TransferView>();
  private readonly cancelled = new Set<string>();

  constructor(
    private readonly ctx: MessengerContext,
    private readonly http: BlobHttp | undefined,
    private readonly events: MessageEvents & { transfers(list: readonly TransferView[]): void },
  ) {}

  async sendFile(contactId: string, file: FileSource, options: SendFileOptions = {}): Promise<string> {
    const { ctx } = this;
    if (options.id !== undefined) {
      if (!/^[0-9a-f]{32}$/u.test(options.id)) throw new InvalidFileError('message id must be 32 lowercase hex characters');
      if (await ctx.store.getMessage(options.id)) return options.id;
    }
    // The limit first: nothing else is looked at, nothing uploaded.
    if (file.size > MAX_ATTACHMENT_PLAINTEXT_BYTES) {
      ctx.metrics.inc('attachment.refused_too_large');
      throw new FileTooLargeError(`Files can be at most ${MAX_ATTACHMENT_PLAINTEXT_BYTES / MIB} MiB; this one is ${sizeInWords(file.size)}.`);
    }
    const name = (options.name ?? file.name ?? '').trim();
    if (!name) throw new InvalidFileError('the file has no name');
    if (utf8(name).length > MAX_ATTACHMENT_NAME_BYTES) throw new InvalidFileError(`the file name is longer than ${MAX_ATTACHMENT_NAME_BYTES} bytes`);
    const mime = file.type || DEFAULT_MIME;
    if (utf8(mime).length > MAX_ATTACHMENT_MIME_BYTES) throw new InvalidFileError(`the file type is longer than ${MAX_ATTACHMENT_MIME_BYTES} bytes`);
    const caption = (options.caption ?? '').replace(/\s+$/u, '');
    if (utf8(caption).length > MAX_TEXT_BYTES) throw new InvalidFileError(`the caption is longer than ${MAX_TEXT_BYTES} bytes`);
    const preview = options.preview;
    if (preview !== undefined && (!(preview instanceof Uint8Array) || preview.length > MAX_ATTACHMENT_PREVIEW_BYTES)) {
      throw new InvalidFileError(`the preview is larger than ${MAX_ATTACHMENT_PREVIEW_BYTES} bytes`);
    }
    const contact = ctx.contacts.byId(contactId);
    if (!contact) throw new UnknownContactError(contactId);
    assertCanSend(contact);
    const http = this.need();

    const id = options.id ?? toHex(ctx.random.bytes(16));
    this.track({ messageId: id, contactId, name, direction: 'up', done: 0, total: file.size });
    let attachment: AttachmentRef;
    try {
      const up = await uploadAttachment(file.stream(), {
        http,
        account: this.account(),
        runtime: ctx.crypto,
        clock: ctx.clock,
        size: file.size,
        recipients: 1,
        onProgress: (done, total) => this.progress(id, done, total),
        cancelled: () => this.cancelled.has(id),
      });
      attachment = { blobId: toHex(up.blobId), key: up.key, digest: up.digest, size: file.size, mime, name, ...(preview?.length ? { preview } : {}) };
    } catch (err) {
      const cause = this.cancelled.delete(id) ? new TransferCancelledError('the upload was cancelled') : err;
      this.fail(id, cause);
      ctx.metrics.inc('attachment.upload_failed');
      throw cause;
    }

    const sentAt = ctx.clock.now();
    const row = { id, sentAt, body: caption, attachment };
    const enqueued = await enqueueOutgoing(ctx, {
      contactId,
      contactKey: contact.identityKey,
      mailbox: mailboxAddress(contact.identityKey),
      id,
      body: caption,
      sentAt,
      content: outgoingContent(row),
      attachment,
    }).finally(() => this.untrack(id));
    ctx.metrics.inc('messages.composed');
    ctx.metrics.inc('attachment.sent');
    if (enqueued.pending) this.events.needsSession(contactId);
    this.events.queued();
    await this.events.changed();
    return id;
  }

  async downloadAttachment(messageId: string): Promise<Blob> {
    const { ctx } = this;
    const m = await ctx.store.getMessage(messageId);
    const a = m?.attachment;
    if (!m || !a) throw new NoAttachmentError(`no file in message ${messageId}`);
    const http = this.need();
    const ref = { blobId: fromHex(a.blobId), key: a.key, size: a.size, digest: a.digest };
    const account = this.account();
    this.track({ messageId, contactId: m.contactId, name: a.name, direction: 'down', done: 0, total: a.size });
    // Plaintext is folded into a Blob every few MiB, so the heap holds a few MiB of it, not the file.
    let blob = new Blob([], { type: a.mime });
    let parts: Uint8Array<ArrayBuffer>[] = [];
    let partBytes = 0;
    try {
      for await (const piece of downloadAttachment(ref, {
        http,
        account,
        runtime: ctx.crypto,
        clock: ctx.clock,
        onProgress: (done, total) => this.progress(messageId, done, total),
      })) {
        if (this.cancelled.has(messageId)) throw new TransferCancelledError('the download was cancelled');
        parts.push(piece.slice());
        partBytes += piece.length;
        if (partBytes >= 4 * MIB) {
          blob = new Blob([blob, ...parts], { type: a.mime });
          parts = [];
          partBytes = 0;
        }
      }
    } catch (err) {
      const cause = this.cancelled.delete(messageId) ? new TransferCancelledError('the download was cancelled') : err;
      this.fail(messageId, cause);
      ctx.metrics.inc(cause instanceof AttachmentError ? `attachment.failure.${cause.kind}` : 'attachment.download_failed');
      throw cause;
    }
    this.untrack(messageId);
    ctx.metrics.inc('attachment.downloaded');
    // Our own sent files are the contact's to acknowledge, not ours.
    if (m.direction === 'in') {
      await acknowledgeAttachment(ref.blobId, { http, account, clock: ctx.clock }).catch((err: unknown) => {
        ctx.log.warn('attachment ack failed', { error: err instanceof Error ? err.name : 'unknown' });
      });
    }
    return new Blob([blob, ...parts], { type: a.mime });
  }

  /** Stops a moving transfer; a stopped (failed) one is dismissed from the state. */
  cancel(messageId: string): void {
    const t = this.transfers.get(messageId);
    if (!t) return;
    if (t.failure) this.untrack(messageId);
    else this.cancelled.add(messageId);
  }

  private need(): BlobHttp {
    if (!this.http) throw new AttachmentsUnavailableError('this app cannot reach the relay for files');
    return this.http;
  }

  private account(): BlobAccount {
    const { identity } = this.ctx;
    return { identityKey: identity.publicKey, sign: (payload) => identity.sign(payload) };
  }

  private track(t: TransferView): void {
    this.transfers.set(t.messageId, t);
    this.publish();
  }

  private progress(messageId: string, done: number, total: number): void {
    const t = this.transfers.get(messageId);
    if (!t) return;
    const step = Math.max(1, Math.floor(total * PROGRESS_STEP));
    if (done < total && t.total === total && done - t.done < step) return;
    this.track({ ...t, done, total });
  }

  private fail(messageId: string, err: unknown): void {
    const t = this.transfers.get(messageId);
    if (t) this.track({ ...t, failure: failureInWords(err) });
  }

  private untrack(messageId: string): void {
    if (this.transfers.delete(messageId)) this.publish();
  }

  private publish(): void {
    this.events.transfers([...this.transfers.values()]);
  }
}
