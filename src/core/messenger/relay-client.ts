/**
 * What the messenger needs of its relay connection beyond the `Transport` contract: the
 * prekey directory, signaling and the connection state. The browser's WebSocket adapter
 * (src/platform/ws-relay-transport.ts) satisfies it; tests can use it against a relay
 * on loopback.
 */
import type { FrameCheck, RelayConnectionState, Transport } from '../transport/index.ts';
import type { DeviceCertificate, FetchedBundle, Frame, PublishedBundle, SignedDeviceList } from '../wire/index.ts';
import type { PushSubscriptionKeys } from './push-registration.ts';

/** The device-link channel on the relay (docs/PROTOCOL.md §13.6): a rendezvous by channel id, opaque bytes both ways. */
export interface LinkChannelRelay {
  /** Holds channel `ch` (the existing device); rejects with the relay's refusal (`link_busy`, `link_limit`). */
  openLinkChannel(ch: Uint8Array): Promise<void>;
  /** Joins channel `ch` held by another connection (the new device); `not_found` when nobody waits there. */
  joinLinkChannel(ch: Uint8Array): Promise<void>;
  /** Sends opaque bytes to the channel's other end. */
  sendLinkData(ch: Uint8Array, data: Uint8Array): void;
  onLinkData(listener: (ch: Uint8Array, data: Uint8Array) => void): () => void;
  /** The channel ended on the relay (the other end left, or it expired). */
  onLinkClosed(listener: (ch: Uint8Array) => void): () => void;
}

export interface RelayClient extends Transport, LinkChannelRelay {
  readonly state: RelayConnectionState;
  onConnectionState(listener: (state: RelayConnectionState) => void): () => void;
  start(): void;
  stop(): void;
  /**
   * Skips the wait of a scheduled reconnect (the user's "Retry now"): connects at once.
   * Does nothing unless it is waiting to reconnect (online, connecting, or the browser offline).
   */
  reconnectNow(): void;
  publishPrekeys(bundle: PublishedBundle): Promise<{ opks: number; pqopks: number }>;
  /** A contact's bundle; with `deviceId`, that device's of a multi-device contact. */
  fetchPrekeys(identityKey: Uint8Array, deviceId?: Uint8Array): Promise<FetchedBundle>;
  /** Publishes our account's signed device list; resolves with the version the relay holds. */
  publishDeviceList(list: SignedDeviceList): Promise<number>;
  /** An account's signed device list as the relay holds it (unverified), or undefined: a single-device account. */
  fetchDeviceList(identityKey: Uint8Array): Promise<SignedDeviceList | undefined>;
  /** `devices.changed` for these accounts while the connection lasts. */
  watchDevices(identityKeys: readonly Uint8Array[]): Promise<number>;
  onDevicesChanged(listener: (change: { ik: Uint8Array; version: number }) => void): () => void;
  sendSignal(to: Uint8Array, blob: Uint8Array): void;
  /**
   * One body deposited to every mailbox of `to` under envelope id `id` (`send.multi`, at most
   * 1,000, one relay transaction); resolves once the relay holds it, with the mailboxes it
   * refused (`full`, `unlinked`). A resend with the same id stores nothing twice.
   */
  sendMulti(id: Uint8Array, to: readonly Uint8Array[], body: Uint8Array): Promise<{ readonly full: readonly Uint8Array[]; readonly unlinked: readonly Uint8Array[] }>;
  onSignal(listener: (blob: Uint8Array) => void): () => void;
  onPrekeysLow(listener: (counts: { opks: number; pqopks: number }) => void): () => void;
  /** Stores this device's Web Push subscription on the relay (`push.register`); rejects with the relay's refusal. */
  registerPush(sub: PushSubscriptionKeys): Promise<void>;
  /** Removes it (`push.unregister`). */
  unregisterPush(): Promise<void>;
}

/**
 * Creates the relay connection once the identity exists (it signs the relay's challenge).
 * `ingress` is the core's one decode point for incoming frames: the transport hands every
 * frame it receives to `ingress.checkFrame`.
 */
export type RelayClientFactory = (auth: {
  readonly identityKey: Uint8Array;
  sign(payload: Uint8Array): Promise<Uint8Array>;
  readonly ingress: FrameCheck<Frame>;
  /** Present once our account's list names this device: authenticate as it (`auth.device`, docs/PROTOCOL.md §13.5). */
  readonly device?: RelayDeviceAuth;
}) => RelayClient;

/** This device's certificate and a signer with its device key (for `auth.device`). */
export interface RelayDeviceAuth {
  readonly cert: DeviceCertificate;
  sign(payload: Uint8Array): Promise<Uint8Array>;
}
