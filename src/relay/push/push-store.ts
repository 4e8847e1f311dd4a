/** The relay's VAPID key pair (RFC 8292), base64url as the `web-push` library takes it. */
export interface VapidKeys {
  /** Uncompressed P-256 public key (65 bytes), base64url: the `applicationServerKey` browsers subscribe with. */
  readonly publicKey: string;
  /** P-256 private scalar (32 bytes), base64url. Never leaves the relay. */
  readonly privateKey: string;
}

/** A device's Web Push subscription, as its browser's PushManager made it. */
export interface PushSubscriptionRecord {
  /** The push service URL the relay POSTs to (checked by checkPushEndpoint). */
  readonly endpoint: string;
  /** The browser's P-256 public key, uncompressed (65 bytes). */
  readonly p256dh: Uint8Array;
  /** The RFC 8291 authentication secret (16 bytes). */
  readonly auth: Uint8Array;
}

/**
 * Web Push state: the relay's VAPID key pair (made once, shared by every node) and at most
 * one subscription per mailbox (a device). Both implementations pass
 * tests/relay/contracts/push-store.contract.ts.
 */
export interface PushStore {
  /**
   * The stored key pair; the first call anywhere stores `generate()`'s. Concurrent first
   * calls (several nodes starting together) all return the one pair that was stored.
   */
  vapidKeys(generate: () => VapidKeys): Promise<VapidKeys>;
  /** Stores `sub` as the mailbox's subscription, replacing any earlier one. */
  register(mailbox: Uint8Array, sub: PushSubscriptionRecord, now: number): Promise<void>;
  subscription(mailbox: Uint8Array): Promise<PushSubscriptionRecord | undefined>;
  /** The subscriptions of several mailboxes in one look-up (a group message's recipients): one entry per mailbox, in order. */
  subscriptions(mailboxes: readonly Uint8Array[]): Promise<Array<PushSubscriptionRecord | undefined>>;
  /**
   * Deletes the mailbox's subscription; with `endpoint`, only if it is still that one (a
   * push service's "gone" must not delete a newer registration). Returns whether a row went.
   */
  remove(mailbox: Uint8Array, endpoint?: string): Promise<boolean>;
  /** How many subscriptions are stored (a metric). */
  count(): Promise<number>;
}
