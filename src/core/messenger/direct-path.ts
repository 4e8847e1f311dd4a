/**
 * The direct (peer-to-peer) path as the messenger sees it: a transport plus the
 * signaling and channel bookkeeping behind it. The browser implements it over WebRTC
 * (src/platform/webrtc/webrtc-direct-path.ts); the messenger carries its signals,
 * encrypted with the contact's Double Ratchet session, on the relay's `signal` route.
 */
import type { DirectBlobPath } from '../transport/direct-transport.ts';
import type { Transport } from '../transport/index.ts';
import type { RtcContent } from '../wire/index.ts';

export type RtcKind = RtcContent['kind'];

export interface DirectPath {
  readonly transport: Transport;
  /** Files over the same channels (docs/PROTOCOL.md §14.8); without it files always go through the relay. */
  readonly blobs?: DirectBlobPath;
  /** A decrypted, authenticated signaling message from a contact (after its commit). */
  handleSignal(contactId: string, mailbox: Uint8Array, kind: RtcKind, data: string): void;
  /** Contacts with an open channel right now. */
  openChannels(): readonly string[];
  /**
   * Something suggests the contact may be reachable (we came online, a session started,
   * they wrote to us): open a channel unless one is open or being opened. Only called for
   * contacts we share a session with (signaling is encrypted with it).
   */
  connect(contactId: string, mailbox: Uint8Array): void;
  /** The contact just wrote to us, so is online: connect even if an earlier offer went unanswered. */
  contactActive(contactId: string, mailbox: Uint8Array): void;
  /** Fires when a channel opens or closes. */
  onChange(listener: () => void): () => void;
  close(): void;
}

/** A signal could not be sent (relay not connected, or no session to encrypt it with). */
export class DirectSignalError extends Error {
  readonly kind = 'direct_signal';
  override readonly name = 'DirectSignalError';
}
