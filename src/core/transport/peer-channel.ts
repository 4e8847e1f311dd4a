/**
 * A live, ordered, reliable byte channel to one peer: a WebRTC data channel in the
 * browser (src/platform/webrtc/), a paired in-memory fake in tests. The peer behind it
 * is authenticated by the platform (DTLS fingerprints exchanged through end-to-end
 * encrypted signaling), so the core trusts who is on the other end, not what they send.
 */
export interface PeerChannel {
  readonly isOpen: boolean;
  /** Sends one message; throws when the channel is not open. */
  send(bytes: Uint8Array): void;
  onMessage(listener: (bytes: Uint8Array) => void): () => void;
  /** Fires once, when the channel closes for any reason. */
  onClose(listener: () => void): () => void;
  close(): void;
  /**
   * Bytes given to `send` and not yet handed to the network (RTCDataChannel.bufferedAmount),
   * where the channel can tell; a bulk sender waits while it is high.
   */
  readonly bufferedAmount?: number | undefined;
  /** Calls `listener` when `bufferedAmount` falls to `threshold` or below (RTCDataChannel's `bufferedamountlow`). */
  onBufferedAmountLow?(threshold: number, listener: () => void): () => void;
}
