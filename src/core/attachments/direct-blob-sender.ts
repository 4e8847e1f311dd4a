/**
 * Sends an attachment blob over the direct path (docs/PROTOCOL.md §14.8): the sealed blob
 * (ciphertext: the same STREAM records the relay would store) in `p2p.blob` frames of at
 * most 64 KiB, paced twice: by the channel's send buffer (`bufferedAmount`, waiting for
 * `bufferedamountlow`) and by the receiver's `p2p.blob.ack`s (at most `windowBytes` sent
 * beyond what the receiver says it took). It ends when the receiver says every byte is
 * durable, or, when the channel closes or goes quiet, with how many bytes the receiver had
 * saved: the caller uploads the rest to the relay from there.
 */
import type { Clock } from '../clock.ts';
import type { BlobLink } from '../transport/direct-transport.ts';
import { MAX_P2P_BLOB_DATA_BYTES, type P2pBlobAckFrame } from '../wire/index.ts';

/** Blob bytes sent beyond the receiver's last `got` at most. */
export const DIRECT_BLOB_WINDOW_BYTES = 1024 * 1024;
/** Above this many bytes in the channel's send buffer the sender waits … */
export const DIRECT_BLOB_BUFFER_HIGH_BYTES = 1024 * 1024;
/** … until it is down to this many. */
export const DIRECT_BLOB_BUFFER_LOW_BYTES = 256 * 1024;
/** No ack progress for this long while waiting for one: the path is taken to be dead. */
export const DIRECT_BLOB_STALL_MS = 8_000;

export type DirectBlobOutcome =
  | { readonly complete: true }
  /** `saved`: blob bytes the receiver said it holds durably (the relay upload starts there). */
  | { readonly complete: false; readonly saved: number; readonly reason: StopReason };

/** closed: the channel went; stalled: no ack for a while; refused: the receiver lost step (its `got` went back); cancelled: asked to. */
type StopReason = 'closed' | 'stalled' | 'refused' | 'cancelled';

export interface DirectBlobSendOptions {
  readonly link: BlobLink;
  readonly clock: Clock;
  /** The `file` message's id (the blob's name on the channel). */
  readonly messageId: Uint8Array;
  /** The attachment blob's length. */
  readonly total: number;
  /** The sealed blob, in order. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** Registers the handler of this blob's acks; returns its removal. */
  readonly acks: (handler: (ack: P2pBlobAckFrame) => void) => () => void;
  readonly onProgress?: (saved: number, total: number) => void;
  /** Called with the length of every frame's data as it goes on the channel. */
  readonly onSent?: (bytes: number) => void;
  readonly cancelled?: () => boolean;
  readonly windowBytes?: number;
  readonly stallMs?: number;
}

class Stop extends Error {
  constructor(readonly reason: StopReason) {
    super(reason);
  }
}

/** Waits for the channel's send buffer to drain; false when it did not within `ms` (a path dead under a live channel). */
async function drainedWithin(link: BlobLink, clock: Clock, ms: number): Promise<boolean> {
  let cancel = () => {};
  const timedOut = new Promise<false>((resolve) => {
    cancel = clock.setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([link.drained(DIRECT_BLOB_BUFFER_LOW_BYTES).then(() => true as const), timedOut]);
  } finally {
    cancel();
  }
}

export async function sendBlobDirect(options: DirectBlobSendOptions): Promise<DirectBlobOutcome> {
  const { link, clock, messageId, total } = options;
  // At least four frames: the receiver acks every quarter window, so a frame always fits after an ack.
  const windowBytes = Math.max(options.windowBytes ?? DIRECT_BLOB_WINDOW_BYTES, 4 * MAX_P2P_BLOB_DATA_BYTES);
  const stallMs = options.stallMs ?? DIRECT_BLOB_STALL_MS;
  let got = 0;
  let saved = 0;
  let gone = false;
  let refused = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const stopAcks = options.acks((ack) => {
    // The channel is ordered, so counts only grow; one that goes back is the receiver starting over or giving up.
    if (ack.got < got) refused = true;
    if (ack.got > got) got = Math.min(ack.got, total);
    if (ack.saved > saved) {
      saved = Math.min(ack.saved, total);
      options.onProgress?.(saved, total);
    }
    poke();
  });
  const stopGone = link.onGone(() => {
    gone = true;
    poke();
  });

  /** Waits until `ready()` holds; fails when the channel goes, or no ack moves for `stallMs`. */
  const waitFor = async (ready: () => boolean): Promise<void> => {
    let mark = got + saved;
    let since = clock.now();
    while (!ready()) {
      if (gone || !link.isOpen) throw new Stop('closed');
      if (refused) throw new Stop('refused');
      if (options.cancelled?.()) throw new Stop('cancelled');
      if (got + saved !== mark) {
        mark = got + saved;
        since = clock.now();
      }
      const left = stallMs - (clock.now() - since);
      if (left <= 0) throw new Stop('stalled');
      await new Promise<void>((resolve) => {
        const cancel = clock.setTimeout(() => {
          wake = undefined;
          resolve();
        }, left);
        wake = () => {
          cancel();
          resolve();
        };
      });
    }
  };

  let sent = 0;
  try {
    for await (const chunk of options.chunks) {
      for (let o = 0; o < chunk.length; ) {
        const n = Math.min(MAX_P2P_BLOB_DATA_BYTES, chunk.length - o);
        await waitFor(() => sent + n - got <= windowBytes);
        const buffered = link.bufferedAmount;
        if (buffered !== undefined && buffered > DIRECT_BLOB_BUFFER_HIGH_BYTES && !(await drainedWithin(link, clock, stallMs))) throw new Stop('stalled');
        if (options.cancelled?.()) throw new Stop('cancelled');
        // A fresh copy: the channel (or the bridge to it) may keep or transfer the buffer.
        if (!link.send({ t: 'p2p.blob', id: messageId, total, off: sent, data: chunk.slice(o, o + n) })) throw new Stop('closed');
        sent += n;
        o += n;
        options.onSent?.(n);
      }
    }
    if (sent !== total) throw new RangeError(`the sealed blob had ${sent} bytes, not ${total}`);
    await waitFor(() => saved >= total);
    return { complete: true };
  } catch (err) {
    if (err instanceof Stop) return { complete: false, saved, reason: err.reason };
    throw err;
  } finally {
    stopAcks();
    stopGone();
  }
}
