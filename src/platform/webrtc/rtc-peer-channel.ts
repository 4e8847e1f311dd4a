/**
 * An RTCDataChannel as the core's PeerChannel: binary messages only, one close event.
 */
import { Listeners } from '../../core/transport/listeners.ts';
import type { PeerChannel } from '../../core/transport/peer-channel.ts';

/** The part of RTCDataChannel used here (the browser's, or a test double). */
export interface DataChannelLike {
  binaryType: string;
  readonly readyState: string;
  /** Present on a browser's channel; a double may leave them out (then the core cannot pace on them). */
  readonly bufferedAmount?: number | undefined;
  bufferedAmountLowThreshold?: number | undefined;
  send(data: Uint8Array<ArrayBuffer>): void;
  close(): void;
  addEventListener(type: 'message', listener: (ev: { readonly data: unknown }) => void): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'bufferedamountlow', listener: () => void): void;
  removeEventListener?(type: 'bufferedamountlow', listener: () => void): void;
}

export class RtcPeerChannel implements PeerChannel {
  private readonly messages = new Listeners<Uint8Array>();
  private readonly closes = new Listeners<void>();
  private closed = false;

  constructor(private readonly channel: DataChannelLike) {
    channel.binaryType = 'arraybuffer';
    channel.addEventListener('message', (ev) => {
      // Text messages are not part of the protocol: ignore them rather than guess.
      if (ev.data instanceof ArrayBuffer) this.messages.emit(new Uint8Array(ev.data));
    });
    const closed = () => this.markClosed();
    channel.addEventListener('close', closed);
    channel.addEventListener('error', closed);
  }

  get isOpen(): boolean {
    return !this.closed && this.channel.readyState === 'open';
  }

  send(bytes: Uint8Array): void {
    if (!this.isOpen) throw new Error('data channel is not open');
    // RTCDataChannel.send takes views of plain ArrayBuffers only (not shared memory).
    this.channel.send(bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes));
  }

  get bufferedAmount(): number | undefined {
    return typeof this.channel.bufferedAmount === 'number' ? this.channel.bufferedAmount : undefined;
  }

  /** One `bufferedamountlow` threshold per channel: the file sender is its one user, and asks with one value. */
  onBufferedAmountLow(threshold: number, listener: () => void): () => void {
    const { channel } = this;
    if (typeof channel.bufferedAmount !== 'number' || !channel.removeEventListener) {
      queueMicrotask(listener);
      return () => {};
    }
    channel.bufferedAmountLowThreshold = threshold;
    let fired = false;
    const once = () => {
      if (fired) return;
      fired = true;
      channel.removeEventListener?.('bufferedamountlow', once);
      listener();
    };
    channel.addEventListener('bufferedamountlow', once);
    // It may have drained between the caller's look and now: the event would not come.
    if (channel.bufferedAmount <= threshold) queueMicrotask(once);
    return () => {
      fired = true;
      channel.removeEventListener?.('bufferedamountlow', once);
    };
  }

  onMessage(listener: (bytes: Uint8Array) => void): () => void {
    return this.messages.add(listener);
  }

  onClose(listener: () => void): () => void {
    return this.closes.add(listener);
  }

  close(): void {
    this.channel.close();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.closes.emit();
  }
}
