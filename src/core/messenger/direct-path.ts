/**
 * The direct (peer-to-peer) path as the messenger sees it: a transport plus the
 * signaling and channel bookkeeping behind it. The browser implements it over WebRTC
 * (src/platform/webrtc/webrtc-direct-path.ts); the messenger carries its signals,
 * encrypted with the Double Ratchet session of the one device they are for, on the
 * relay's `signal` route.
 *
 * A channel joins this device to ONE device of a contact (docs/PROTOCOL.md §13.5, §14):
 * it is addressed by that device's mailbox (the account mailbox for a single-device
 * contact), which is also the destination of that device's outbox entries, so the router
 * sends each device's copy over its own channel when it is open and through the relay
 * otherwise.
 */
import type { DirectBlobPath } from '../transport/direct-transport.ts';
import type { Transport } from '../transport/index.ts';
import type { RtcContent } from '../wire/index.ts';

export type RtcKind = RtcContent['kind'];

/** The far end of a channel: a contact and which of its devices (hex id; absent for a single-device contact). */
export interface DirectPeer {
  readonly contactId: string;
  readonly device?: string;
}

/** What the direct path knows of one device's channel (diagnostics). */
export type DirectChannelState = 'open' | 'connecting' | 'retrying' | 'silent' | 'idle';

export interface DirectChannelView extends DirectPeer {
  readonly state: DirectChannelState;
}

export interface DirectPath {
  readonly transport: Transport;
  /** Files over the same channels (docs/PROTOCOL.md §14.8); without it files always go through the relay. */
  readonly blobs?: DirectBlobPath;
  /** A decrypted, authenticated signaling message from one device of a contact (after its commit); `mailbox` is that device's. */
  handleSignal(peer: DirectPeer, mailbox: Uint8Array, kind: RtcKind, data: string): void;
  /** The devices with an open channel right now. */
  openChannels(): readonly DirectPeer[];
  /** Every device the path knows of, with its channel's state (for diagnostics). */
  channels(): readonly DirectChannelView[];
  /**
   * Something suggests the device may be reachable (we came online, a session started,
   * its contact wrote to us): open a channel unless one is open or being opened. Only
   * called for devices we share a session with (signaling is encrypted with it).
   */
  connect(peer: DirectPeer, mailbox: Uint8Array): void;
  /** The device's contact just wrote to us, so may be online: connect even if an earlier offer went unanswered. */
  contactActive(peer: DirectPeer, mailbox: Uint8Array): void;
  /** Fires when a channel opens or closes. */
  onChange(listener: () => void): () => void;
  close(): void;
}

/** The peers in `open` that belong to distinct contacts (what the status line counts). */
export function openContacts(open: readonly DirectPeer[]): Set<string> {
  return new Set(open.map((p) => p.contactId));
}

/** A signal could not be sent (relay not connected, or no session to encrypt it with). */
export class DirectSignalError extends Error {
  readonly kind = 'direct_signal';
  override readonly name = 'DirectSignalError';
}
