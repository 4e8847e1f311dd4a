/**
 * A data channel as the direct path hands it to the transport, with the two faults its
 * debugging and test hooks need:
 * - severed: every message in either direction is lost while the channel still reports
 *   open, as on a path that died under a live SCTP association (until ICE gives up, a
 *   real channel notices nothing either: sends vanish, no acks come back);
 * - `inject(bytes)`: raw bytes onto the channel, past every encoder, to show what the
 *   peer's validation does with hostile frames.
 * Neither does anything unless a hook asks for it; otherwise it only forwards.
 */
import type { PeerChannel } from '../../core/transport/peer-channel.ts';

export class SeverableChannel implements PeerChannel {
  constructor(
    private readonly inner: PeerChannel,
    /** Messages on the channel are lost in both directions while this says true. */
    private readonly severed: () => boolean,
  ) {}

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  send(bytes: Uint8Array): void {
    if (!this.inner.isOpen) throw new Error('data channel is not open');
    if (this.severed()) return;
    this.inner.send(bytes);
  }

  /** Sends `bytes` as they are (a test hook: no encoder, no fault in the way). */
  inject(bytes: Uint8Array): void {
    this.inner.send(bytes);
  }

  onMessage(listener: (bytes: Uint8Array) => void): () => void {
    return this.inner.onMessage((bytes) => {
      if (!this.severed()) listener(bytes);
    });
  }

  onClose(listener: () => void): () => void {
    return this.inner.onClose(listener);
  }

  close(): void {
    this.inner.close();
  }

  get bufferedAmount(): number | undefined {
    return this.inner.bufferedAmount;
  }

  onBufferedAmountLow(threshold: number, listener: () => void): () => void {
    if (!this.inner.onBufferedAmountLow) {
      queueMicrotask(listener);
      return () => {};
    }
    return this.inner.onBufferedAmountLow(threshold, listener);
  }
}
