/**
 * What lets a file transfer continue after the app restarted (docs/PROTOCOL.md §14.7),
 * kept in the store's `meta` table:
 *
 * - `attachments.transfers`: one JSON list of the unfinished transfers. An upload keeps the
 *   blob id and the per-file key (sealing is deterministic under the key, so the same file
 *   sealed again gives the same blob and the upload continues where the relay's bytes end);
 *   a download keeps how many blob bytes it has saved.
 * - `attachments.part.<message id>.<n>`: a download's blob bytes (ciphertext, as the relay
 *   sent them) in parts of `DOWNLOAD_PART_BYTES`. A resumed download reads them back through
 *   the decryptor (so the digest still covers every byte) and fetches the rest by range.
 *
 * A part is written before the record that counts it, so a crash between the two leaves an
 * uncounted part that the next append overwrites. Writes go one at a time (one lane).
 */
import { fromHex, toHex } from '../bytes.ts';
import type { PetrelStore } from '../store/index.ts';

export type JournalStore = Pick<PetrelStore, 'getMeta' | 'setMeta' | 'deleteMeta'>;

export const JOURNAL_KEY = 'attachments.transfers';
/** A download's saved bytes are written in parts this large (what a reload may fetch again, at most). */
export const DOWNLOAD_PART_BYTES = 4 * 1024 * 1024;
/** Unfinished transfers kept; past it the oldest is forgotten (its parts deleted). */
export const JOURNAL_MAX_TRANSFERS = 32;

export interface UploadRecord {
  readonly kind: 'up';
  readonly messageId: string;
  readonly contactId: string;
  readonly name: string;
  readonly mime: string;
  /** Plaintext bytes. */
  readonly size: number;
  readonly caption: string;
  readonly preview?: Uint8Array;
  readonly blobId: Uint8Array;
  readonly key: Uint8Array;
  /** Blob bytes the relay had confirmed when last heard (the relay's HEAD is the truth), counted from the blob's start. */
  readonly stored: number;
  /** Blob bytes in all. */
  readonly total: number;
  /** The relay's blob holds the attachment blob from this offset on (the bytes before went over the direct path, §14.8); absent = 0. */
  readonly from?: number;
}

export interface DownloadRecord {
  readonly kind: 'down';
  readonly messageId: string;
  readonly contactId: string;
  readonly name: string;
  /** Parts saved (`attachments.part.<id>.0` … `.<parts - 1>`). */
  readonly parts: number;
  /** Blob bytes in those parts. */
  readonly saved: number;
  readonly total: number;
  /**
   * The bytes came from the sender over the direct path (§14.8), before its `file` message:
   * not a download the person started, so not shown until they ask for the file.
   */
  readonly direct?: true;
}

export type TransferRecord = UploadRecord | DownloadRecord;

type Json = Record<string, unknown>;

function encode(r: TransferRecord): Json {
  if (r.kind === 'down') return { ...r };
  const { preview, blobId, key, ...rest } = r;
  return { ...rest, blobId: toHex(blobId), key: toHex(key), ...(preview ? { preview: toHex(preview) } : {}) };
}

const isText = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isHex = (v: unknown, bytes?: number): v is string => isText(v) && /^(?:[0-9a-f]{2})*$/u.test(v) && (bytes === undefined || v.length === bytes * 2);

/** A record as stored, or undefined when it is not one (a damaged entry is dropped, not trusted). */
function decode(j: unknown): TransferRecord | undefined {
  if (typeof j !== 'object' || j === null) return undefined;
  const o = j as Json;
  if (!isHex(o.messageId, 16) || !isText(o.contactId) || !isText(o.name) || !isCount(o.total)) return undefined;
  if (o.kind === 'down') {
    if (!isCount(o.parts) || !isCount(o.saved) || o.saved > o.total) return undefined;
    return { kind: 'down', messageId: o.messageId, contactId: o.contactId, name: o.name, parts: o.parts, saved: o.saved, total: o.total, ...(o.direct === true ? { direct: true as const } : {}) };
  }
  if (o.kind !== 'up') return undefined;
  if (!isText(o.mime) || !isCount(o.size) || !isText(o.caption) || !isCount(o.stored) || !isHex(o.blobId, 16) || !isHex(o.key, 32)) return undefined;
  if (o.preview !== undefined && !isHex(o.preview)) return undefined;
  if (o.from !== undefined && (!isCount(o.from) || o.from >= o.total)) return undefined;
  return {
    kind: 'up',
    messageId: o.messageId,
    contactId: o.contactId,
    name: o.name,
    mime: o.mime,
    size: o.size,
    caption: o.caption,
    ...(isText(o.preview) ? { preview: fromHex(o.preview) } : {}),
    blobId: fromHex(o.blobId),
    key: fromHex(o.key),
    stored: Math.min(o.stored, o.total),
    total: o.total,
    ...(isCount(o.from) && o.from > 0 ? { from: o.from } : {}),
  };
}

export function partKey(messageId: string, n: number): string {
  return `attachments.part.${messageId}.${n}`;
}

/** A download's saved part was missing or damaged: start it again from the beginning. */
export class JournalPartMissingError extends Error {
  override readonly name = 'JournalPartMissingError';
}

/** The journal was closed (its core stopped): nothing more is written. */
export class JournalClosedError extends Error {
  override readonly name = 'JournalClosedError';
}

export class TransferJournal {
  private records: TransferRecord[] | undefined;
  private lane: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(private readonly store: JournalStore) {}

  /** Every unfinished transfer, oldest first. */
  async list(): Promise<readonly TransferRecord[]> {
    return this.serial(async () => [...(await this.loaded())]);
  }

  async get(messageId: string): Promise<TransferRecord | undefined> {
    return (await this.list()).find((r) => r.messageId === messageId);
  }

  /** An unfinished upload of this file to this contact (a file picked again after a restart). */
  async findUpload(contactId: string, name: string, size: number, mime: string): Promise<UploadRecord | undefined> {
    return (await this.list()).find((r): r is UploadRecord => r.kind === 'up' && r.contactId === contactId && r.name === name && r.size === size && r.mime === mime);
  }

  /** Adds or replaces the record of `r.messageId` (durable when this resolves). */
  put(r: TransferRecord): Promise<void> {
    return this.serial(async () => {
      const list = (await this.loaded()).filter((x) => x.messageId !== r.messageId);
      list.push(r);
      const dropped = list.length > JOURNAL_MAX_TRANSFERS ? list.splice(0, list.length - JOURNAL_MAX_TRANSFERS) : [];
      await this.save(list);
      for (const d of dropped) await this.deleteParts(d);
    });
  }

  /** Forgets a transfer and deletes its saved parts. */
  remove(messageId: string): Promise<void> {
    return this.serial(async () => {
      const list = await this.loaded();
      const gone = list.find((r) => r.messageId === messageId);
      if (!gone) return;
      await this.save(list.filter((r) => r !== gone));
      await this.deleteParts(gone);
    });
  }

  /** Saves the next part of a download's blob bytes, then counts it in the record. */
  appendPart(messageId: string, bytes: Uint8Array): Promise<DownloadRecord> {
    return this.serial(async () => {
      const list = await this.loaded();
      const r = list.find((x): x is DownloadRecord => x.kind === 'down' && x.messageId === messageId);
      if (!r) throw new RangeError(`no download ${messageId} in the journal`);
      if (r.saved + bytes.length > r.total) throw new RangeError('more bytes than the blob has');
      await this.store.setMeta(partKey(messageId, r.parts), bytes.slice());
      const next: DownloadRecord = { ...r, parts: r.parts + 1, saved: r.saved + bytes.length };
      await this.save(list.map((x) => (x === r ? next : x)));
      return next;
    });
  }

  /** A download's saved blob bytes, part by part (one part in memory at a time). */
  async *parts(record: DownloadRecord): AsyncGenerator<Uint8Array, void, undefined> {
    let seen = 0;
    for (let n = 0; n < record.parts; n++) {
      const part = await this.store.getMeta(partKey(record.messageId, n));
      if (!(part instanceof Uint8Array)) throw new JournalPartMissingError(`part ${n} of download ${record.messageId} is missing`);
      seen += part.length;
      yield part;
    }
    if (seen !== record.saved) throw new JournalPartMissingError(`download ${record.messageId} has ${seen} saved bytes, not ${record.saved}`);
  }

  /** Refuses every later write and resolves once the writes begun before have settled (a next core may then open the store). */
  async close(): Promise<void> {
    this.closed = true;
    await this.lane.catch(() => undefined);
  }

  private async deleteParts(r: TransferRecord): Promise<void> {
    if (r.kind !== 'down') return;
    // One past the count: an uncounted part a crash left behind.
    for (let n = 0; n <= r.parts; n++) await this.store.deleteMeta(partKey(r.messageId, n));
  }

  private async loaded(): Promise<TransferRecord[]> {
    if (this.records) return this.records;
    const raw = await this.store.getMeta(JOURNAL_KEY);
    let parsed: unknown = [];
    if (typeof raw === 'string') {
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = [];
      }
    }
    this.records = (Array.isArray(parsed) ? parsed : []).map(decode).filter((r): r is TransferRecord => r !== undefined);
    return this.records;
  }

  private async save(list: TransferRecord[]): Promise<void> {
    await this.store.setMeta(JOURNAL_KEY, JSON.stringify(list.map(encode)));
    this.records = list;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const guarded = () => (this.closed ? Promise.reject(new JournalClosedError('the transfer journal is closed')) : op());
    const run = this.lane.then(guarded, guarded);
    this.lane = run.catch(() => undefined);
    return run;
  }
}
