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
}
