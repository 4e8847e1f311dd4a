import type { DeviceListVersion, Envelope } from '../../core/wire/index.ts';

/** An envelope as the relay keeps it until its recipient acknowledges it. */
export interface StoredEnvelope {
  /** Deposit order across the store; delivery is in increasing `seq` per mailbox. */
  readonly seq: number;
  readonly env: Envelope;
  readonly depositedAt: number;
}

export type DepositOutcome =
  | {
      readonly ok: true;
      readonly seq: number;
      /** The same (mailbox, id) was already stored: a retry. */
      readonly duplicate: boolean;
      /** For a new envelope, the seq of the mailbox's previous one (0 if none), when the store knows it (shared stores do: see DeliveryPump.offer). */
      readonly prev?: number;
    }
  | { readonly ok: false; readonly reason: 'mailbox_full' | 'storage_full' | 'device_unlinked' }
  /** The deposit's `dl` named an older list of the recipient's account than the one stored (`version`): nothing stored. */
  | { readonly ok: false; readonly reason: 'stale_devices'; readonly version: number };

export interface MailboxLimits {
  /** Per mailbox: envelopes, and bytes of bodies; past either, `mailbox_full`. */
  readonly maxEnvelopes: number;
  readonly maxBytes: number;
  /** Retention in a claimed mailbox (one a device has authenticated on). */
  readonly retentionMs: number;
  /** Retention in a mailbox never claimed (default: retentionMs); claiming extends it to retentionMs. */
  readonly unclaimedRetentionMs?: number;
  /** Bytes of bodies across all mailboxes; past it, `storage_full`. 0 or absent: no cap. */
  readonly maxTotalBytes?: number;
}

/** Acknowledged ids of one mailbox. */
export interface AckRequest {
  readonly mailbox: Uint8Array;
  readonly ids: readonly Uint8Array[];
}

/** Writes committed together (group commit): deposits first, then acks. */
export interface WriteBatch {
  readonly deposits: readonly Envelope[];
  /**
   * Per deposit (same index), the device list version its sender fanned out under: checked
   * against the stored list inside the same transaction (`stale_devices` when older), so
   * a list published while the deposit waits for its commit is never missed.
   */
  readonly lists?: readonly (DeviceListVersion | undefined)[];
  readonly acks: readonly AckRequest[];
}

export interface WriteResult {
  /** One outcome per deposit, in order. */
  readonly deposits: DepositOutcome[];
  /** Per ack request, the deposit times of the envelopes it deleted. */
  readonly acks: number[][];
}

/**
 * Store-and-forward mailboxes. Implementations: SQLite (embedded default); a shared
 * database for several relay nodes later, proven by the same contract tests
 * (tests/relay/mailbox-store.contract.ts).
 */
export interface MailboxStore {
  /**
   * Stores the envelopes in one durable transaction, in order; an outcome per envelope.
   * When the promise resolves, every `ok` envelope is on disk. A mailbox over its count
   * or byte cap refuses further envelopes with `mailbox_full`.
   */
  depositBatch(envs: readonly Envelope[], now: number): Promise<DepositOutcome[]>;
  /** Deposits and acks in ONE durable transaction (the relay's group commit). */
  commit(batch: WriteBatch, now: number): Promise<WriteResult>;
  /** Envelopes for `mailbox` with `seq > afterSeq`, oldest first, at most `limit`. */
  pending(mailbox: Uint8Array, afterSeq: number, limit: number): Promise<StoredEnvelope[]>;
  /** How many envelopes wait in `mailbox`. */
  count(mailbox: Uint8Array): Promise<number>;
  /** Deletes the given ids from `mailbox` (others' mailboxes are untouched); returns the deposit times of what was deleted. */
  ack(mailbox: Uint8Array, ids: readonly Uint8Array[]): Promise<number[]>;
  /** Deletes envelopes whose retention ended at or before `now`; returns how many. */
  expire(now: number): Promise<number>;
  /** Envelopes waiting across all mailboxes (the queue-depth gauge). */
  totalQueued(): Promise<number>;
  /**
   * Records that a device authenticated on `mailbox` (idempotent). The first claim moves the
   * expiry of what already waits there from the unclaimed retention to the full one.
   */
  claim(mailbox: Uint8Array, now: number): Promise<void>;
  /** Bytes of envelope bodies stored across all mailboxes (the global cap's measure). */
  storedBytes(): Promise<number>;
  /** Resolves when the store can serve requests (readiness). */
  check(): Promise<void>;
}
