import type { Envelope, SignalSendFrame } from '../../core/wire/index.ts';
import type { PreKeyCounts } from '../prekeys/prekey-store.ts';
import type { SignalOutcome } from '../signaling.ts';
import type { Connection } from '../ws/connection.ts';

/**
 * How events for a mailbox reach its connections: on this node only (one relay on
 * SQLite), or on every node (several relays sharing PostgreSQL, told through Redis).
 * The stores stay the source of truth; fan-out only says "look now".
 */
export interface Fanout {
  /** An authenticated connection now owns its mailbox; resolves once events for it will reach this node. */
  bind(conn: Connection): Promise<void>;
  /** The connection closed. */
  unbind(conn: Connection): void;
  /**
   * Tells the OTHER nodes that an envelope is durable, before its `sent` goes out: a node
   * that dies after acknowledging has then announced everything it acknowledged. For a
   * duplicate (a retry, perhaps of a deposit whose node died before announcing it) the
   * other nodes are told to re-read. Never rejects: a failed announcement is made up for
   * by polling or a resync (see RedisFanout). Resolves true when another node said it holds
   * a connection of the mailbox (false when none did, or when that is unknown).
   */
  announce(env: Envelope, seq: number, prev: number | undefined, duplicate: boolean): Promise<boolean>;
  /** Does this node hold an authenticated connection of `mailbox`? (`key`: its mailboxKey, when the caller has it.) */
  hasLocalOwner(mailbox: Uint8Array, key?: string): boolean;
  /** A new envelope is durable: offer it to this node's connections of its mailbox (`prev` as for DeliveryPump.offer; `key` as for hasLocalOwner). */
  deposited(env: Envelope, seq: number, prev: number | undefined, key?: string): void;
  /** Forwards a signaling blob to the recipient's connections wherever they are. */
  signal(frame: SignalSendFrame): Promise<SignalOutcome>;
  /** Tells the owner's connections, wherever they are, that a one-time pool runs low. */
  prekeysLow(mailbox: Uint8Array, counts: PreKeyCounts): void;
  /** `conn` wants to hear of account `account`'s device-list changes, wherever they are published; resolves once it will. */
  watch(conn: Connection, account: Uint8Array): Promise<void>;
  /**
   * Account `account` stored device list `version`: every watcher, wherever it is, gets
   * `devices.changed`, and the connections of the `removed` devices are closed.
   */
  devicesChanged(account: Uint8Array, version: number, removed: readonly Uint8Array[]): Promise<void>;
  /** Resolves when fan-out works (readiness); rejects saying why not. */
  check(): Promise<void>;
  close(): Promise<void>;
}
