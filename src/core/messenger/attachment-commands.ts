/**
 * The user's commands about files (docs/PROTOCOL.md §14): `sendFile` checks the file
 * (size limit first, before any upload), encrypts and uploads it with the attachment
 * uploader, then queues its `file` message through compose.ts like any text message
 * (exactly once from there on); `downloadAttachment` fetches, verifies and decrypts a
 * message's file and acknowledges the blob once it is whole. Progress of both goes to the
 * view as `transfers`.
 *
 * Resuming (§14.7): every unfinished transfer is in the transfer journal (store meta).
 * A failed upload whose file this run still holds continues with `retry` (and by itself
 * when the relay connection comes back); after an app restart the file handle is gone, so
 * the person attaches the same file again (same contact, name, size and type) and the
 * upload continues under the journaled key and blob from where the relay's bytes end. A
 * download continues from its saved blob bytes when it is asked for again.
 *
 * The direct path (§14.8): to a contact with one device and an open data channel (and no
 * other device of ours to copy the message to), the sealed blob goes over the channel
 * first; what the contact did not save before the channel closed or went quiet is
 * uploaded to the relay from that offset. Blobs a contact sends us that way are kept by
 * the DirectBlobReceiver as saved download parts, so their download fetches nothing.
 */
import { fromHex, toHex, utf8 } from '../bytes.ts';
import { openAttachment } from '../attachments/attachment-decryptor.ts';
import { acknowledgeAttachment } from '../attachments/attachment-downloader.ts';
import { sealAttachment } from '../attachments/attachment-encryptor.ts';
import { DirectBlobReceiver } from '../attachments/direct-blob-receiver.ts';
import { sendBlobDirect } from '../attachments/direct-blob-sender.ts';
import { uploadAttachment } from '../attachments/attachment-uploader.ts';
import { BlobTransferError, blobPath, sendSigned, type BlobAccount, type BlobHttp } from '../attachments/blob-http.ts';
import type { ByteSource } from '../attachments/byte-source.ts';
import { AttachmentError } from '../attachments/errors.ts';
import { resumableBlob } from '../attachments/resumable-download.ts';
import { JournalPartMissingError, TransferJournal, type DownloadRecord, type UploadRecord } from '../attachments/transfer-journal.ts';
import type { AttachmentRef } from '../store/index.ts';
import type { DirectBlobPath } from '../transport/direct-transport.ts';
import type { P2pBlobAckFrame } from '../wire/index.ts';
import { MAX_ATTACHMENT_MIME_BYTES, MAX_ATTACHMENT_NAME_BYTES, MAX_ATTACHMENT_PLAINTEXT_BYTES, MAX_ATTACHMENT_PREVIEW_BYTES, attachmentBlobLength } from '../wire/attachment-layout.ts';
import { mailboxAddress, MAX_TEXT_BYTES } from '../wire/index.ts';
import { enqueueOutgoing } from './compose.ts';
import { isAccountTarget } from './device-routing.ts';
import type { MessengerContext } from './context.ts';
import { AttachmentsUnavailableError, FileTooLargeError, InvalidFileError, NoAttachmentError, TransferCancelledError, UnknownContactError } from './errors.ts';
import { assertCanSend } from './contact-state.ts';
import type { MessageEvents } from './message-commands.ts';
import { outgoingContent } from './message-content.ts';
import type { SendFileOptions, TransferView } from './messenger-api.ts';
import { INTERRUPTED_DOWNLOAD, INTERRUPTED_UPLOAD, failureInWords, failureMetric, sizeInWords } from './transfer-words.ts';

/** What `sendFile` reads: a Blob (or File) as the UI passes it, or a stream of its bytes. */
export interface FileSource {
  readonly size: number;
  readonly type?: string;
  readonly name?: string;
  stream(): ByteSource;
}

/** One upload: the checked file and what its message will carry. */
interface UploadJob {
  readonly id: string;
  readonly contactId: string;
  readonly file: FileSource;
  readonly name: string;
  readonly mime: string;
  readonly caption: string;
  readonly preview?: Uint8Array;
  /** The journaled upload it continues. */
  readonly resume?: UploadRecord;
  /** Part of it went over the direct path before the relay upload failed: the rest goes under the same key. */
  readonly leftover?: DirectLeftover;
}

/** Which way a file's blob went: all over the direct path, all through the relay, or the first part direct and the rest through the relay. */
export type AttachmentPath = 'direct' | 'relay' | 'direct+relay';

/** What the direct attempt left for the relay upload. */
interface DirectLeftover {
  readonly key: Uint8Array;
  /** Blob bytes the contact saved: the relay upload starts here. */
  readonly from: number;
}

const MIB = 1024 * 1024;
const DEFAULT_MIME = 'application/octet-stream';
/** Progress is reported at most once per this fraction of the file (and at the end). */
const PROGRESS_STEP = 0.01;

export class AttachmentCommands {
  private readonly transfers = new Map<string, TransferView>();
  private readonly cancelled = new Set<string>();
  /** Transfers moving now (a second start of the same one is refused). */
  private readonly moving = new Set<string>();
  /** Failed uploads whose file this run still holds: `retry` continues them. */
  private readonly held = new Map<string, UploadJob>();
  /** Of those, the ones that failed for want of the relay: continued when it is back. */
  private readonly waitingForRelay = new Set<string>();
  private readonly journal: TransferJournal;
  /** Acks of blobs we send over the direct path, by `<mailbox hex>:<message id>`. */
  private readonly blobAcks = new Map<string, (ack: P2pBlobAckFrame) => void>();
  private readonly receiver: DirectBlobReceiver | undefined;
  private readonly stopBlobFrames: () => void = () => {};
  /** Contact ids by mailbox (hex), for the channels' frames. */
  private readonly mailboxes = new Map<string, string>();
  /** The core stopped: moving transfers end where they are, their journal entries kept for the next core. */
  private stopped = false;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly http: BlobHttp | undefined,
    private readonly events: MessageEvents & { transfers(list: readonly TransferView[]): void },
    private readonly direct?: DirectBlobPath,
  ) {
    this.journal = new TransferJournal(ctx.store);
    if (direct) {
      const receiver = (this.receiver = new DirectBlobReceiver({
        journal: this.journal,
        contactOf: (mailbox) => this.contactOfMailbox(mailbox),
        sendAck: (to, ack) => void direct.blobLink(to)?.send(ack),
        messageExists: async (id) => (await ctx.store.getMessage(id)) !== undefined,
        metrics: ctx.metrics,
        log: ctx.log.child('direct-files'),
      }));
      const stopFrames = direct.onBlobFrame((from, frame) => {
        if (frame.t === 'p2p.blob') receiver.receive(from, frame);
        else this.blobAcks.get(`${toHex(from)}:${toHex(frame.id)}`)?.(frame);
      });
      const stopStates = direct.onStateChange((c) => {
        if (!c.available && c.destination) receiver.peerGone(c.destination);
      });
      this.stopBlobFrames = () => {
        stopFrames();
        stopStates();
      };
    }
  }

  /** At start: the unfinished transfers of an earlier run show as interrupted, ready to continue. */
  async restore(): Promise<void> {
    for (const r of await this.journal.list()) {
      if (r.kind === 'down' && r.direct) continue; // a contact's file over the direct path: shown when asked for
      if (r.kind === 'up' && (await this.ctx.store.getMessage(r.messageId))) {
        await this.journal.remove(r.messageId); // sent; the journal entry outlived a crash
        continue;
      }
      const up = r.kind === 'up';
      this.track({
        messageId: r.messageId,
        contactId: r.contactId,
        name: r.name,
        direction: r.kind,
        done: up ? r.stored : r.saved,
        total: r.total,
        failure: up ? INTERRUPTED_UPLOAD : INTERRUPTED_DOWNLOAD,
        retryable: !up,
      });
    }
  }

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
    this.need();

    const id = options.id ?? toHex(ctx.random.bytes(16));
    // The same file to the same person, unfinished from before: continue it under this id.
    const earlier = await this.journal.findUpload(contactId, name, file.size, mime);
    let resume: UploadRecord | undefined;
    if (earlier && !this.moving.has(earlier.messageId)) {
      resume = { ...earlier, messageId: id };
      await this.journal.put(resume);
      if (earlier.messageId !== id) await this.journal.remove(earlier.messageId);
      this.held.delete(earlier.messageId);
      this.waitingForRelay.delete(earlier.messageId);
      this.untrack(earlier.messageId);
      ctx.metrics.inc('attachment.upload_resumed');
    }
    const kept = resume?.preview;
    return this.upload({
      id,
      contactId,
      file,
      name,
      mime,
      caption: caption || resume?.caption || '',
      ...(preview?.length ? { preview } : kept ? { preview: kept } : {}),
      ...(resume ? { resume } : {}),
    });
  }

  /** Continues a failed upload whose file this run holds; false when there is none to continue. */
  async retry(messageId: string): Promise<boolean> {
    const job = this.held.get(messageId);
    if (!job || this.moving.has(messageId)) return false;
    this.held.delete(messageId);
    this.waitingForRelay.delete(messageId);
    const record = await this.journal.get(messageId);
    const { resume: _old, ...rest } = job;
    void _old;
    await this.upload(record?.kind === 'up' ? { ...rest, resume: record } : rest);
    return true;
  }

  /** The core stops: transfers stop between chunks and nothing more is journaled once this resolves. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopBlobFrames();
    await this.receiver?.idle();
    await this.journal.close();
  }

  /** The relay connection is back: uploads that failed for want of it continue. */
  online(): void {
    for (const id of [...this.waitingForRelay]) void this.retry(id).catch(() => undefined);
  }

  private async upload(job: UploadJob): Promise<string> {
    const { ctx } = this;
    const http = this.need();
    const { id, contactId, file, name, mime } = job;
    this.moving.add(id);
    this.track({ messageId: id, contactId, name, direction: 'up', done: job.resume?.stored ?? 0, total: job.resume?.total ?? file.size });
    let attachment: AttachmentRef;
    let record: UploadRecord | undefined = job.resume;
    let path: AttachmentPath = 'relay';
    let leftover: DirectLeftover | undefined;
    try {
      // The contact may hold the start of this blob already: only the same key makes the same blob.
      const directly = job.resume ? undefined : (job.leftover ?? (await this.sendDirect(job)));
      if (directly && !('attachment' in directly)) leftover = directly;
      if (directly && 'attachment' in directly) {
        attachment = directly.attachment;
        path = 'direct';
      } else {
        const from = directly?.from ?? job.resume?.from ?? 0;
        const recipient = ctx.contacts.byId(contactId);
        const contactMailbox = recipient ? mailboxAddress(recipient.identityKey) : undefined;
        if (from > 0) path = 'direct+relay';
        const up = await uploadAttachment(file.stream(), {
          http,
          account: this.account(),
          runtime: ctx.crypto,
          clock: ctx.clock,
          size: file.size,
          recipients: 1,
          // Only the contact's account may acknowledge it (the relay deletes it then).
          ...(contactMailbox ? { recipientAccounts: [contactMailbox] } : {}),
          ...(job.resume ? { resume: { blobId: job.resume.blobId, key: job.resume.key } } : {}),
          ...(directly ? { key: directly.key } : {}),
          ...(from > 0 ? { from } : {}),
          // Durable before the first chunk: a restart finds the blob and key to continue with.
          onCreated: async ({ blobId, key, total }) => {
            if (record) return;
            const { preview } = job;
            record = { kind: 'up', messageId: id, contactId, name, mime, size: file.size, caption: job.caption, ...(preview ? { preview } : {}), blobId, key, stored: from, total: from + total, ...(from > 0 ? { from } : {}) };
            await this.journal.put(record);
          },
          // The relay's offsets count from `from`; the view and the journal count the whole blob.
          onProgress: (stored, total) => {
            const done = from + stored;
            this.progress(id, done, from + total);
            // Where it stands, for the view after a restart (the relay's HEAD is what resuming trusts).
            if (record && done > record.stored) {
              record = { ...record, stored: done };
              void this.journal.put(record).catch(() => undefined);
            }
          },
          cancelled: () => this.stopped || this.cancelled.has(id),
        });
        attachment = { blobId: toHex(up.blobId), key: up.key, digest: up.digest, size: file.size, mime, name, ...(job.preview ? { preview: job.preview } : {}) };
      }
    } catch (err) {
      this.moving.delete(id);
      if (this.stopped) throw err; // the journal keeps it for the next core
      if (job.resume && err instanceof BlobTransferError && err.status === 404 && !job.resume.from) {
        // The relay no longer has the blob (retention, or its data was lost): start afresh.
        await this.journal.remove(id);
        const { resume: _gone, ...fresh } = job;
        void _gone;
        return this.upload(fresh);
      }
      const cancelled = this.cancelled.delete(id);
      const cause = cancelled ? new TransferCancelledError('the upload was cancelled') : err;
      if (cancelled) await this.forgetUpload(id);
      else {
        this.held.set(id, leftover && !record ? { ...job, leftover } : job);
        if (err instanceof BlobTransferError && err.kind === 'network') this.waitingForRelay.add(id);
      }
      this.fail(id, cause, !cancelled);
      ctx.metrics.inc('attachment.upload_failed');
      const metric = failureMetric(cause);
      if (metric) ctx.metrics.inc(metric);
      throw cause;
    }
    ctx.metrics.inc('attachment.path', { direction: 'up', path });
    ctx.log.info('attachment sent', { path, bytes: attachmentBlobLength(file.size) });
    this.moving.delete(id);

    const contact = ctx.contacts.byId(contactId);
    if (!contact) throw new UnknownContactError(contactId);
    const sentAt = ctx.clock.now();
    const row = { id, sentAt, body: job.caption, attachment };
    const enqueued = await enqueueOutgoing(ctx, {
      contactId,
      contactKey: contact.identityKey,
      mailbox: mailboxAddress(contact.identityKey),
      id,
      body: job.caption,
      sentAt,
      content: outgoingContent(row),
      attachment,
    }).finally(() => this.untrack(id));
    // The message is durable: the journal entry can go (restore() drops one a crash left).
    await this.journal.remove(id);
    ctx.metrics.inc('messages.composed');
    ctx.metrics.inc('attachment.sent');
    if (enqueued.pending) this.events.needsSession(contactId);
    this.events.queued();
    await this.events.changed();
    return id;
  }

  /**
   * The blob over the contact's data channel, when there is one and the message goes to
   * that one device only: the finished attachment, or what is left for the relay (the key,
   * and the offset the contact saved up to). Undefined: the relay takes all of it.
   */
  private async sendDirect(job: UploadJob): Promise<{ readonly attachment: AttachmentRef } | DirectLeftover | undefined> {
    const { ctx, direct } = this;
    const contact = ctx.contacts.byId(job.contactId);
    if (!direct || !contact) return undefined;
    const mailbox = mailboxAddress(contact.identityKey);
    const link = direct.blobLink(mailbox);
    if (!link) return undefined;
    // Another device (theirs, or ours for the sent copy) would need the blob from the relay.
    const targets = ctx.devices ? await ctx.devices.targets(contact.identityKey) : [];
    if (targets.length > 1 || targets.some((t) => !isAccountTarget(t))) return undefined;
    const { file } = job;
    const sealed = sealAttachment(file.stream(), { size: file.size, runtime: ctx.crypto });
    const ackKey = `${toHex(mailbox)}:${job.id}`;
    const outcome = await sendBlobDirect({
      link,
      clock: ctx.clock,
      messageId: fromHex(job.id),
      total: sealed.blobBytes,
      chunks: sealed.chunks,
      acks: (handler) => {
        this.blobAcks.set(ackKey, handler);
        return () => this.blobAcks.delete(ackKey);
      },
      onProgress: (saved, total) => this.progress(job.id, saved, total),
      onSent: (n) => ctx.metrics.inc('attachment.direct.sent_bytes', undefined, n),
      cancelled: () => this.stopped || this.cancelled.has(job.id),
    });
    if (outcome.complete) {
      // No relay blob: the id only names the file (the relay does not know it).
      const attachment: AttachmentRef = {
        blobId: toHex(ctx.random.bytes(16)),
        key: sealed.key,
        digest: sealed.digest(),
        size: file.size,
        mime: job.mime,
        name: job.name,
        ...(job.preview ? { preview: job.preview } : {}),
      };
      return { attachment };
    }
    if (outcome.reason === 'cancelled') throw new TransferCancelledError('the upload was cancelled');
    ctx.metrics.inc('attachment.direct.fallback', { reason: outcome.reason });
    ctx.log.info('direct file transfer ended early; the relay takes the rest', { reason: outcome.reason, saved: outcome.saved, total: sealed.blobBytes });
    return { key: sealed.key, from: outcome.saved };
  }

  private contactOfMailbox(mailbox: Uint8Array): string | undefined {
    const hex = toHex(mailbox);
    const known = this.mailboxes.get(hex);
    if (known && this.ctx.contacts.byId(known)) return known;
    for (const c of this.ctx.contacts.all()) {
      const m = toHex(mailboxAddress(c.identityKey));
      this.mailboxes.set(m, c.id);
      if (m === hex) return c.blocked ? undefined : c.id;
    }
    return undefined;
  }

  async downloadAttachment(messageId: string): Promise<Blob> {
    const { ctx } = this;
    const m = await ctx.store.getMessage(messageId);
    const a = m?.attachment;
    if (!m || !a) throw new NoAttachmentError(`no file in message ${messageId}`);
    const http = this.need();
    if (this.moving.has(messageId)) throw new InvalidFileError('this file is already being downloaded');
    const ref = { blobId: fromHex(a.blobId), key: a.key, size: a.size, digest: a.digest };
    const account = this.account();
    const total = attachmentBlobLength(a.size);
    const fresh: DownloadRecord = { kind: 'down', messageId, contactId: m.contactId, name: a.name, parts: 0, saved: 0, total };
    const earlier = await this.journal.get(messageId);
    // Bytes saved earlier: a download begun before, or the contact's send over the direct path (only its own).
    let record = earlier?.kind === 'down' && earlier.total === total && earlier.contactId === m.contactId ? earlier : fresh;
    if (record === fresh) await this.journal.put(fresh);
    else if (!record.direct) ctx.metrics.inc('attachment.download_resumed');
    this.moving.add(messageId);
    this.track({ messageId, contactId: m.contactId, name: a.name, direction: 'down', done: record.saved, total });
    const options = { http, account, runtime: ctx.crypto, clock: ctx.clock, onProgress: (done: number, all: number) => this.progress(messageId, done, all) };
    let file: Blob;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const plaintext = openAttachment(resumableBlob(ref, options, this.journal, record), { key: a.key, size: a.size, digest: a.digest, runtime: ctx.crypto });
          file = await this.collectFile(messageId, plaintext, a.mime);
          break;
        } catch (err) {
          // Saved bytes that cannot be read back: fetch the whole blob again, once.
          if (!(err instanceof JournalPartMissingError) || attempt > 0) throw err;
          await this.journal.remove(messageId);
          await this.journal.put(fresh);
          record = fresh;
        }
      }
    } catch (err) {
      this.moving.delete(messageId);
      if (this.stopped) throw err; // the journal keeps it for the next core
      const cancelled = this.cancelled.delete(messageId);
      const cause = cancelled ? new TransferCancelledError('the download was cancelled') : err;
      // Cancelled, or saved bytes that failed verification: nothing worth keeping.
      if (cancelled || cause instanceof AttachmentError) await this.journal.remove(messageId);
      this.fail(messageId, cause, !cancelled);
      ctx.metrics.inc(failureMetric(cause) ?? 'attachment.download_failed');
      throw cause;
    }
    this.moving.delete(messageId);
    await this.journal.remove(messageId);
    this.untrack(messageId);
    ctx.metrics.inc('attachment.downloaded');
    // `record` is what the download began from (its saved bytes, or none after a part went missing).
    const allDirect = record.direct === true && record.saved === total;
    const path: AttachmentPath = record.direct ? (allDirect ? 'direct' : 'direct+relay') : 'relay';
    ctx.metrics.inc('attachment.path', { direction: 'down', path });
    // Our own sent files are the contact's to acknowledge, not ours; one that came all over the direct path has no relay blob.
    if (m.direction === 'in' && !allDirect) {
      await acknowledgeAttachment(ref.blobId, { http, account, clock: ctx.clock }).catch((err: unknown) => {
        ctx.log.warn('attachment ack failed', { error: err instanceof Error ? err.name : 'unknown' });
      });
    }
    return file;
  }

  /** The verified plaintext as a Blob, folded in every few MiB so the heap holds a few MiB of it, not the file. */
  private async collectFile(messageId: string, plaintext: AsyncIterable<Uint8Array>, mime: string): Promise<Blob> {
    let blob = new Blob([], { type: mime });
    let parts: Uint8Array<ArrayBuffer>[] = [];
    let partBytes = 0;
    for await (const piece of plaintext) {
      if (this.stopped || this.cancelled.has(messageId)) throw new TransferCancelledError('the download was cancelled');
      parts.push(piece.slice());
      partBytes += piece.length;
      if (partBytes >= 4 * MIB) {
        blob = new Blob([blob, ...parts], { type: mime });
        parts = [];
        partBytes = 0;
      }
    }
    return new Blob([blob, ...parts], { type: mime });
  }

  /** Stops a moving transfer; a stopped (failed) one is dismissed and forgotten. */
  cancel(messageId: string): void {
    const t = this.transfers.get(messageId);
    if (!t) return;
    if (!t.failure) {
      this.cancelled.add(messageId);
      return;
    }
    this.untrack(messageId);
    this.held.delete(messageId);
    this.waitingForRelay.delete(messageId);
    void (t.direction === 'up' ? this.forgetUpload(messageId) : this.journal.remove(messageId)).catch((err: unknown) => {
      this.ctx.log.warn('forgetting a transfer failed', { error: err instanceof Error ? err.name : 'unknown' });
    });
  }

  /** Drops an upload for good: its journal entry, and its blob on the relay (best effort, frees the quota). */
  private async forgetUpload(messageId: string): Promise<void> {
    const record = await this.journal.get(messageId);
    await this.journal.remove(messageId);
    if (record?.kind !== 'up' || !this.http) return;
    const res = await sendSigned(this.http, this.account(), this.ctx.clock, { method: 'DELETE', path: blobPath(record.blobId), headers: {} }).catch(() => undefined);
    await res?.discard();
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

  private fail(messageId: string, err: unknown, retryable: boolean): void {
    const t = this.transfers.get(messageId);
    if (t) this.track({ ...t, failure: failureInWords(err, t.direction), retryable });
  }

  private untrack(messageId: string): void {
    if (this.transfers.delete(messageId)) this.publish();
  }

  private publish(): void {
    this.events.transfers([...this.transfers.values()]);
  }
}
