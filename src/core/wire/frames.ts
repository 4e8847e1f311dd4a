/**
 * Every frame between client, relay and peers (docs/PROTOCOL.md §11). On the wire each
 * is a canonical CBOR map with `v: 1` and `t: <type>`; in code the version is implicit.
 * Byte fields are plain `Uint8Array`s of the exact lengths noted.
 */
import type { DeviceCertificate, SignedDeviceList } from './device-list.ts';

/** What the relay stores and forwards. No sender identity in the clear. */
export interface Envelope {
  /** Recipient mailbox address (32 bytes). */
  readonly to: Uint8Array;
  /** Random message id (16 bytes); retries reuse it, the receiver dedups on it. */
  readonly id: Uint8Array;
  /** Sealed end-to-end ciphertext (<= MAX_ENVELOPE_BODY_BYTES). */
  readonly body: Uint8Array;
}

export interface SignedPreKey {
  readonly id: number;
  /** X25519 public key (32 bytes). */
  readonly pub: Uint8Array;
  /** Ed25519(IK, "Petrel_SPK" ‖ pub), 64 bytes. */
  readonly sig: Uint8Array;
}

export interface PqPreKey {
  readonly id: number;
  /** ML-KEM-768 encapsulation key (1184 bytes). */
  readonly pub: Uint8Array;
  /** Ed25519(IK, "Petrel_PQPK" ‖ pub), 64 bytes. */
  readonly sig: Uint8Array;
}

export interface OneTimePreKey {
  readonly id: number;
  /** X25519 public key (32 bytes), unsigned. */
  readonly pub: Uint8Array;
}

/** A bundle as its owner publishes it. */
export interface PublishedBundle {
  /** Identity key (Ed25519 public, 32 bytes). */
  readonly ik: Uint8Array;
  readonly spk: SignedPreKey;
  /** Last-resort ML-KEM-768 key. */
  readonly pqspk: PqPreKey;
  readonly opks: readonly OneTimePreKey[];
  readonly pqopks: readonly PqPreKey[];
}

/** A bundle as one fetch hands it out: at most one of each one-time key. */
export interface FetchedBundle {
  readonly ik: Uint8Array;
  readonly spk: SignedPreKey;
  /** A PQ one-time key, or the last-resort key (`lastResort: true`) when the pool is empty. */
  readonly pq: PqPreKey & { readonly lastResort: boolean };
  /** Absent when the one-time pool is empty. */
  readonly opk?: OneTimePreKey;
}

export const ERROR_CODES = [
  'malformed',
  'too_large',
  'unsupported_version',
  'unknown_type',
  'unauthenticated',
  'auth_failed',
  'rate_limited',
  'mailbox_full',
  'not_found',
  'bad_signature',
  'overloaded',
  'internal',
  /** A `prekeys.publish` would grow a one-time prekey pool past the relay's cap (nothing stored). */
  'pool_full',
  /** A `devices.publish` at or below the version the relay holds (nothing stored). */
  'stale',
  /** A device list with more than MAX_DEVICES devices (nothing stored). */
  'too_many_devices',
  /** The target mailbox or device belongs to an unlinked device: fetch the account's device list. */
  'device_unlinked',
  /**
   * A `send` whose `dl` names an older device list than the relay holds for that account
   * (nothing stored): the error carries the current list; cover its new devices, then send again.
   */
  'stale_devices',
  /** A `push.register` whose endpoint or keys the relay will not use (nothing stored). */
  'bad_push_subscription',
  /** A `link.open` for a channel another connection holds, or a `link.join` of one already joined. */
  'link_busy',
  /** A link channel over its budget (channels per connection, bytes or frames per channel): nothing relayed. */
  'link_limit',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

// ---- client → relay -------------------------------------------------------------
export interface AuthFrame { readonly t: 'auth'; readonly ik: Uint8Array; readonly sig: Uint8Array }
/**
 * `dl` (optional): the device-list version of the recipient's account `ik` this copy was
 * fanned out under (0: the account had no list). The relay refuses the deposit as
 * `stale_devices`, carrying the account's current list, when it holds a newer one
 * (docs/PROTOCOL.md §13.5, "A send to a stale device set").
 */
export interface SendFrame { readonly t: 'send'; readonly rid: number; readonly env: Envelope; readonly dl?: DeviceListVersion }
/** Which version of account `ik`'s device list a sender used. */
export interface DeviceListVersion { readonly ik: Uint8Array; readonly v: number }
/**
 * One body for many mailboxes (a group message: the same ciphertext for every member
 * device), stored as one envelope per mailbox, all in ONE transaction. Anonymous like `send`.
 */
export interface SendMultiFrame { readonly t: 'send.multi'; readonly rid: number; readonly id: Uint8Array; readonly to: readonly Uint8Array[]; readonly body: Uint8Array }
export interface AckFrame { readonly t: 'ack'; readonly ids: readonly Uint8Array[] }
export interface PreKeysPublishFrame { readonly t: 'prekeys.publish'; readonly rid: number; readonly bundle: PublishedBundle }
/** `dev` (16 bytes) asks for the bundle of one device of a multi-device account; without it, the account's own (single-device) bundle. */
export interface PreKeysFetchFrame { readonly t: 'prekeys.fetch'; readonly rid: number; readonly ik: Uint8Array; readonly dev?: Uint8Array }
/** Authenticates one device of an account: its certificate from IK, and sig = Ed25519(device key, "Petrel_DeviceAuth" ‖ nonce). */
export interface DeviceAuthFrame { readonly t: 'auth.device'; readonly cert: DeviceCertificate; readonly sig: Uint8Array }
/** Stores a new signed device list for the connection's own account (above the stored version). */
export interface DevicesPublishFrame { readonly t: 'devices.publish'; readonly rid: number; readonly list: SignedDeviceList }
/** Asks for the signed device list of account `ik`. */
export interface DevicesFetchFrame { readonly t: 'devices.fetch'; readonly rid: number; readonly ik: Uint8Array }
/** Asks to be told (`devices.changed`) while this connection lasts whenever one of these accounts' device list changes. */
export interface DevicesWatchFrame { readonly t: 'devices.watch'; readonly rid: number; readonly iks: readonly Uint8Array[] }
/** Client → relay: forward `blob` to the connected owner of mailbox `to`. */
export interface SignalSendFrame { readonly t: 'signal'; readonly to: Uint8Array; readonly blob: Uint8Array }
/**
 * Registers (replacing any earlier one) the Web Push subscription of the connection's own
 * mailbox: the push service's https `endpoint` and the browser's RFC 8291 keys. The relay
 * wakes the device through it when an envelope arrives while no connection is open.
 */
export interface PushRegisterFrame { readonly t: 'push.register'; readonly rid: number; readonly endpoint: string; readonly p256dh: Uint8Array; readonly auth: Uint8Array }
/** Removes the connection's mailbox's push subscription (idempotent). */
export interface PushUnregisterFrame { readonly t: 'push.unregister'; readonly rid: number }
export interface PingFrame { readonly t: 'ping'; readonly rid: number }
/** The existing device holds link channel `ch` (16 bytes, derived from the link secret) and waits for the new device (PROTOCOL.md §13.6). */
export interface LinkOpenFrame { readonly t: 'link.open'; readonly rid: number; readonly ch: Uint8Array }
/** The new device joins link channel `ch`, held by another connection. */
export interface LinkJoinFrame { readonly t: 'link.join'; readonly rid: number; readonly ch: Uint8Array }
/** Opaque bytes for the other end of link channel `ch` (same shape both ways: client → relay → the other client). */
export interface LinkDataFrame { readonly t: 'link.data'; readonly ch: Uint8Array; readonly data: Uint8Array }

// ---- relay → client -------------------------------------------------------------
export interface ChallengeFrame { readonly t: 'challenge'; readonly nonce: Uint8Array }
export interface ReadyFrame { readonly t: 'ready'; readonly mailbox: Uint8Array; readonly queued: number }
/** The envelope `id` is on the relay's disk. */
export interface SentFrame { readonly t: 'sent'; readonly rid: number; readonly id: Uint8Array }
/**
 * `send.multi` is on disk for every mailbox but those listed: `full` (mailbox_full) and
 * `unlinked` (device_unlinked), which stored nothing and will not on a retry of the same frame.
 */
export interface SentMultiFrame { readonly t: 'sent.multi'; readonly rid: number; readonly id: Uint8Array; readonly full: readonly Uint8Array[]; readonly unlinked: readonly Uint8Array[] }
export interface DeliverFrame { readonly t: 'deliver'; readonly env: Envelope }
export interface PreKeysPublishedFrame { readonly t: 'prekeys.published'; readonly rid: number; readonly opks: number; readonly pqopks: number }
export interface PreKeysBundleFrame { readonly t: 'prekeys.bundle'; readonly rid: number; readonly bundle: FetchedBundle }
export interface PreKeysLowFrame { readonly t: 'prekeys.low'; readonly opks: number; readonly pqopks: number }
/** Relay → client: a signaling blob for this connection's mailbox (sender only inside the blob). */
export interface SignalDeliverFrame { readonly t: 'signal'; readonly blob: Uint8Array }
export interface PongFrame { readonly t: 'pong'; readonly rid: number }
export interface DevicesPublishedFrame { readonly t: 'devices.published'; readonly rid: number; readonly version: number }
export interface DevicesListFrame { readonly t: 'devices.list'; readonly rid: number; readonly list: SignedDeviceList }
/** How many accounts this connection now watches. */
export interface DevicesWatchingFrame { readonly t: 'devices.watching'; readonly rid: number; readonly count: number }
/** Account `ik` stored device list `version`: fetch it. Sent to the account's own connections and to its watchers. */
export interface DevicesChangedFrame { readonly t: 'devices.changed'; readonly ik: Uint8Array; readonly version: number }
/** The subscription is stored (`push.register`) or gone (`push.unregister`). */
export interface PushRegisteredFrame { readonly t: 'push.registered'; readonly rid: number }
export interface PushUnregisteredFrame { readonly t: 'push.unregistered'; readonly rid: number }
export interface LinkOpenedFrame { readonly t: 'link.opened'; readonly rid: number }
export interface LinkJoinedFrame { readonly t: 'link.joined'; readonly rid: number }
/** Link channel `ch` ended: the other end left, or the channel expired. */
export interface LinkClosedFrame { readonly t: 'link.closed'; readonly ch: Uint8Array }
/** `list`: with `stale_devices` only, the recipient account's current signed device list. */
export interface ErrorFrame { readonly t: 'error'; readonly code: ErrorCode; readonly rid?: number; readonly msg: string; readonly list?: SignedDeviceList }

// ---- peer ↔ peer (WebRTC data channel) --------------------------------------------
export interface P2pEnvFrame { readonly t: 'p2p.env'; readonly env: Envelope }
export interface P2pAckFrame { readonly t: 'p2p.ack'; readonly ids: readonly Uint8Array[] }
/**
 * Bytes `[off, off + data.length)` of the attachment blob (ciphertext, PROTOCOL.md §14.8)
 * the `file` message `id` will describe; the blob is `total` bytes long.
 */
export interface P2pBlobFrame { readonly t: 'p2p.blob'; readonly id: Uint8Array; readonly total: number; readonly off: number; readonly data: Uint8Array }
/** The receiver of blob `id` holds its first `got` bytes, the first `saved` of them durably. */
export interface P2pBlobAckFrame { readonly t: 'p2p.blob.ack'; readonly id: Uint8Array; readonly got: number; readonly saved: number }

export type ClientFrame =
  | AuthFrame
  | DeviceAuthFrame
  | SendFrame
  | SendMultiFrame
  | AckFrame
  | PreKeysPublishFrame
  | PreKeysFetchFrame
  | DevicesPublishFrame
  | DevicesFetchFrame
  | DevicesWatchFrame
  | SignalSendFrame
  | PushRegisterFrame
  | PushUnregisterFrame
  | LinkOpenFrame
  | LinkJoinFrame
  | LinkDataFrame
  | PingFrame;
export type RelayFrame =
  | ChallengeFrame
  | ReadyFrame
  | SentFrame
  | SentMultiFrame
  | DeliverFrame
  | PreKeysPublishedFrame
  | PreKeysBundleFrame
  | PreKeysLowFrame
  | SignalDeliverFrame
  | PongFrame
  | DevicesPublishedFrame
  | DevicesListFrame
  | DevicesWatchingFrame
  | DevicesChangedFrame
  | PushRegisteredFrame
  | PushUnregisteredFrame
  | LinkOpenedFrame
  | LinkJoinedFrame
  | LinkDataFrame
  | LinkClosedFrame
  | ErrorFrame;
export type PeerFrame = P2pEnvFrame | P2pAckFrame | P2pBlobFrame | P2pBlobAckFrame;
export type Frame = ClientFrame | RelayFrame | PeerFrame;
export type FrameType = Frame['t'];

/** Who sent the bytes being decoded; restricts which frame types are acceptable. */
export type FrameOrigin = 'client' | 'relay' | 'peer';
