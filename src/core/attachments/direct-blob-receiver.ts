/**
 * Takes attachment blobs a contact sends over the direct path (docs/PROTOCOL.md §14.8)
 * before the `file` message that describes them: the bytes (ciphertext) go into the
 * transfer journal as a download's saved parts under the message id, marked `direct`, so
 * the download of that message later reads them back through the decryptor (every record
 * and the digest checked as for a relay download) and fetches nothing it already has.
 *
 * The receiver answers with `p2p.blob.ack{got, saved}`: `saved` is what is durable (a
 * part is acknowledged only after its write), `got` what it took into memory, said as at
 * most `saved + part − window + 64 KiB`: the sender sends at most `window` beyond `got`, so
 * at most one part and one frame wait here unsaved, and a channel lost at any moment costs
 * at most that much sent twice (once here, once to the relay).
 */
import { toHex } from '../bytes.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { MIN_ATTACHMENT_BLOB_BYTES, MAX_ATTACHMENT_BLOB_BYTES } from '../wire/attachment-layout.ts';
import type { P2pBlobAckFrame, P2pBlobFrame } from '../wire/index.ts';
import { MAX_P2P_BLOB_DATA_BYTES } from '../wire/index.ts';
import { DIRECT_BLOB_WINDOW_BYTES } from './direct-blob-sender.ts';
import { DOWNLOAD_PART_BYTES, type TransferJournal } from './transfer-journal.ts';


export interface DirectBlobReceiverDeps {
  readonly journal: TransferJournal;
  /** The contact whose mailbox the channel belongs to (undefined: no contact: nothing taken). */
  readonly contactOf: (mailbox: Uint8Array) => string | undefined;
  readonly sendAck: (to: Uint8Array, ack: P2pBlobAckFrame) => void;
  /** Does a message with this id exist already (its file is not taken again)? */
  readonly messageExists: (messageId: string) => Promise<boolean>;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly partBytes?: number;
  /** The senders' window (DIRECT_BLOB_WINDOW_BYTES); at most one part. */
  readonly windowBytes?: number;
}

interface Incoming {
  readonly from: Uint8Array;
  readonly id: Uint8Array;
  readonly messageId: string;
  readonly total: number;
  /** Bytes taken (the next frame must start here). */
  got: number;
  /** Bytes durable in the journal. */
  saved: number;
  part: Uint8Array;
  filled: number;
  lastAckGot: number;
  /** Journal writes, one after another. */
  lane: Promise<void>;
  failed: boolean;
}

export class DirectBlobReceiver {
  private readonly incoming = new Map<string, Incoming>();
  private readonly partBytes: number;
  private readonly windowBytes: number;

  constructor(private readonly deps: DirectBlobReceiverDeps) {
    this.partBytes = deps.partBytes ?? DOWNLOAD_PART_BYTES;
    this.windowBytes = Math.min(deps.windowBytes ?? DIRECT_BLOB_WINDOW_BYTES, this.partBytes);
  }

  /**
   * The channel to `mailbox` closed: what it sent and we did not save is dropped (the sender
   * sends the rest through the relay from what we acknowledged as saved); parts being written finish.
   */
  peerGone(mailbox: Uint8Array): void {
    const prefix = `${toHex(mailbox)}:`;
    for (const [key, t] of [...this.incoming]) {
      if (!key.startsWith(prefix)) continue;
      t.failed = true;
      this.incoming.delete(key);
    }
  }

  /** Every journal write begun so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.incoming.values()].map((t) => t.lane));
  }

  receive(from: Uint8Array, frame: P2pBlobFrame): void {
    const { metrics } = this.deps;
    const contactId = this.deps.contactOf(from);
    if (!contactId) {
      metrics.inc('attachment.direct.refused', { reason: 'unknown_peer' });
      return;
    }
    const messageId = toHex(frame.id);
    const key = `${toHex(from)}:${messageId}`;
    let t = this.incoming.get(key);
    if (frame.off === 0 && (!t || t.got > 0 || t.total !== frame.total)) {
      if (frame.total < MIN_ATTACHMENT_BLOB_BYTES || frame.total > MAX_ATTACHMENT_BLOB_BYTES) {
        metrics.inc('attachment.direct.refused', { reason: 'size' });
        this.deps.sendAck(from, { t: 'p2p.blob.ack', id: frame.id, got: 0, saved: 0 });
        return;
      }
      t = this.start(from, frame, contactId, key, t);
    }
    if (!t || t.failed || frame.off !== t.got || frame.total !== t.total || t.got + frame.data.length > t.total) {
      // Out of step (a frame after a loss, or another blob's): say where we are; the sender stops.
      metrics.inc('attachment.direct.refused', { reason: 'offset' });
      this.deps.sendAck(from, { t: 'p2p.blob.ack', id: frame.id, got: t?.got ?? 0, saved: t?.saved ?? 0 });
      return;
    }
    for (let o = 0; o < frame.data.length; ) {
      const n = Math.min(this.partBytes - t.filled, frame.data.length - o);
      t.part.set(frame.data.subarray(o, o + n), t.filled);
      t.filled += n;
      t.got += n;
      o += n;
      if (t.filled === this.partBytes || t.got === t.total) this.writePart(t);
    }
    // An ack every quarter window (and after every part written), so the sender never waits on one.
    if (t.got - t.lastAckGot >= this.windowBytes / 4) this.ack(t);
  }

  private start(from: Uint8Array, frame: P2pBlobFrame, contactId: string, key: string, earlier: Incoming | undefined): Incoming {
    const { journal } = this.deps;
    const messageId = toHex(frame.id);
    const t: Incoming = {
      from: from.slice(),
      id: frame.id.slice(),
      messageId,
      total: frame.total,
      got: 0,
      saved: 0,
      part: new Uint8Array(Math.min(this.partBytes, frame.total)),
      filled: 0,
      lastAckGot: 0,
      lane: Promise.resolve(),
      failed: false,
    };
    this.incoming.set(key, t);
    if (earlier) earlier.failed = true;
    const before = earlier?.lane ?? Promise.resolve();
    t.lane = before
      .then(async () => {
        // A message we already have keeps what it has (a resent blob changes nothing).
        if (await this.deps.messageExists(messageId)) throw new Error('the message is here already');
        const old = await journal.get(messageId);
        if (old && (old.kind !== 'down' || old.contactId !== contactId)) throw new Error('another transfer has this id');
        await journal.remove(messageId);
        await journal.put({ kind: 'down', messageId, contactId, name: '', parts: 0, saved: 0, total: frame.total, direct: true });
        this.deps.metrics.inc('attachment.direct.receiving');
      })
      .catch((err: unknown) => this.broke(t, err));
    return t;
  }

  private writePart(t: Incoming): void {
    const bytes = t.part.subarray(0, t.filled);
    const left = t.total - t.got;
    t.part = new Uint8Array(Math.min(this.partBytes, Math.max(left, 0)));
    t.filled = 0;
    t.lane = t.lane
      .then(async () => {
        if (t.failed) return;
        const record = await this.deps.journal.appendPart(t.messageId, bytes);
        t.saved = record.saved;
        this.ack(t);
        if (t.saved === t.total) {
          this.deps.metrics.inc('attachment.direct.received');
          this.deps.log.info('attachment received over the direct path', { bytes: t.total });
          this.forget(t);
        }
      })
      .catch((err: unknown) => this.broke(t, err));
  }

  /** `got` as advertised: with the sender's window on top, at most one part and one frame beyond what is saved. */
  private ack(t: Incoming): void {
    const got = Math.min(t.got, t.saved + this.partBytes - this.windowBytes + MAX_P2P_BLOB_DATA_BYTES);
    t.lastAckGot = got;
    this.deps.sendAck(t.from, { t: 'p2p.blob.ack', id: t.id, got, saved: t.saved });
  }

  private broke(t: Incoming, err: unknown): void {
    if (t.failed) return;
    t.failed = true;
    this.deps.metrics.inc('attachment.direct.refused', { reason: 'store' });
    this.deps.log.warn('attachment over the direct path not kept', { error: err instanceof Error ? err.message : 'unknown' });
    // Where we stand: the sender sends the rest through the relay.
    this.deps.sendAck(t.from, { t: 'p2p.blob.ack', id: t.id, got: t.saved, saved: t.saved });
    this.forget(t);
  }

  private forget(t: Incoming): void {
    const key = `${toHex(t.from)}:${t.messageId}`;
    if (this.incoming.get(key) === t) this.incoming.delete(key);
  }
}
