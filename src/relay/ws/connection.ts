import type { WebSocket } from 'ws';
import { encodeFrame, type RelayFrame } from '../../core/wire/index.ts';
import { fullBucket, type BucketState, type RateRule } from '../limits/token-bucket.ts';

/** Output queued below this lets paused work (deliveries, reads) continue. */
export const LOW_WATER_BYTES = 256 * 1024;
/** Output queued above this stops deliveries and reading from this client. */
export const HIGH_WATER_BYTES = 1024 * 1024;

/** WebSocket close codes the relay uses (RFC 6455 §7.4.1). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TRY_AGAIN_LATER = 1013;

/**
 * Why a connection ended (`petrel_connections_closed_total{reason}`): `peer` when the client
 * or the network closed it, otherwise the relay's reason.
 */
export type CloseReason =
  | 'peer'
  | 'too_large'
  | 'protocol_error'
  | 'refused_frames'
  | 'auth_failed'
  | 'slow_consumer'
  | 'heartbeat_timeout'
  | 'auth_timeout'
  | 'device_unlinked'
  | 'internal_error'
  | 'shutdown';

let nextConnectionId = 1;

/**
 * One client's WebSocket and what the relay knows about it: its pending challenge,
 * the mailbox it proved it owns, its frame budget, and its output backlog.
 * Node-local by nature (a socket lives on one node); protocol state lives in the stores.
 */
export class Connection {
  readonly id = nextConnectionId++;
  /** Mailbox address proven by `auth`, and its identity key. */
  mailbox: Uint8Array | undefined;
  mailboxKey: string | undefined;
  identityKey: Uint8Array | undefined;
  /** Set when a device of a multi-device account authenticated (`auth.device`): its id. */
  deviceId: Uint8Array | undefined;
  /** Accounts (hex of IK) this connection is told about when their device list changes. */
  readonly watching = new Set<string>();
  /** The one challenge this connection may answer; cleared by the first `auth`. */
  nonce: Uint8Array | undefined;
  /** Heartbeat: set by pong or any frame, cleared by each ping round. */
  alive = true;
  readonly frameBucket: BucketState;
  /** This connection's deposit budgets (count and bytes), created with its first deposit. */
  depositBucket: BucketState | undefined;
  depositByteBucket: BucketState | undefined;
  /** Refused frames so far (invalid or over budget); the connection is closed past a limit. */
  strikes = 0;
  /** Deposits accepted but not yet durable. */
  inflight = 0;
  /**
   * Settles once the latest deposit has been handed to the write batcher (or refused). The
   * next deposit waits on it, so one connection's deposits are stored in the order they
   * arrived even when their budget checks (a Redis round trip each) finish out of order.
   */
  depositTurn: Promise<void> = Promise.resolve();
  /** Set by the first relay-side close; undefined means the peer closed. */
  private relayCloseReason: CloseReason | undefined;
  private readPaused = false;
  private readonly drainListeners: Array<() => void> = [];
  /** When a queued frame last reached the kernel (the client is reading, however slowly). */
  private lastWriteAt = Date.now();
  private stallTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    frameRule: RateRule,
    now: number,
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: (conn: Connection) => void,
    private readonly stallTimeoutMs: number,
  ) {
    this.frameBucket = fullBucket(frameRule, now);
  }

  get open(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get authenticated(): boolean {
    return this.mailbox !== undefined;
  }

  buffered(): number {
    return this.ws.bufferedAmount;
  }

  /**
   * Sends a frame unless the connection is closed. A client that lets more than
   * `maxBufferedBytes` pile up is a slow consumer and is closed (its envelopes stay in
   * its mailbox). Deliveries never get there: the pump sends one envelope at a time while
   * the output is under HIGH_WATER_BYTES, so this cap only stops other output running away.
   * Returns whether the frame was queued.
   */
  send(frame: RelayFrame): boolean {
    if (!this.open) return false;
    const bytes = encodeFrame(frame);
    if (this.ws.bufferedAmount + bytes.length > this.maxBufferedBytes) {
      this.onSlowConsumer(this);
      return false;
    }
    this.ws.send(bytes, { binary: true }, () => {
      this.lastWriteAt = Date.now();
      this.checkDrained();
    });
    return true;
  }

  /** Why the connection ended (or is ending). */
  get closeReason(): CloseReason {
    return this.relayCloseReason ?? 'peer';
  }

  /** Records why the relay is ending the connection; the first reason wins. */
  markClosing(reason: Exclude<CloseReason, 'peer'>): void {
    this.relayCloseReason ??= reason;
  }

  /** Starts the close handshake with `code` (RFC 6455 §7.4.1), remembering why. */
  closeFor(reason: Exclude<CloseReason, 'peer'>, code: number, text: string): void {
    this.markClosing(reason);
    this.ws.close(code, text);
  }

  /** Drops the socket without a handshake (dead or hostile peers), remembering why. */
  terminateFor(reason: Exclude<CloseReason, 'peer'>): void {
    this.markClosing(reason);
    this.ws.terminate();
  }

  /**
   * Runs `fn` once the output backlog is below LOW_WATER_BYTES (at once if it already is).
   * While anything waits, a client that takes none of its output for `stallTimeoutMs`
   * (no queued frame reached the kernel in that time) is closed as a slow consumer; one
   * that reads, however slowly, is not.
   */
  whenDrained(fn: () => void): void {
    if (this.ws.bufferedAmount < LOW_WATER_BYTES) {
      fn();
      return;
    }
    this.drainListeners.push(fn);
    this.watchStall();
  }

  private checkDrained(): void {
    if (this.drainListeners.length === 0 || this.ws.bufferedAmount >= LOW_WATER_BYTES) return;
    const listeners = this.drainListeners.splice(0);
    for (const fn of listeners) fn();
  }

  private watchStall(): void {
    if (this.stallTimer) return;
    const check = () => {
      this.stallTimer = undefined;
      if (this.drainListeners.length === 0 || !this.open) return;
      const idle = Date.now() - this.lastWriteAt;
      if (idle >= this.stallTimeoutMs) {
        this.drainListeners.length = 0;
        this.onSlowConsumer(this);
        return;
      }
      this.stallTimer = setTimeout(check, this.stallTimeoutMs - idle);
      this.stallTimer.unref();
    };
    // Waiting starts now: quiet time before it (nothing to send) is not held against the client.
    this.lastWriteAt = Date.now();
    this.stallTimer = setTimeout(check, this.stallTimeoutMs);
    this.stallTimer.unref();
  }

  /** Stops reading frames from this client (TCP backpressure reaches the sender). */
  pauseReading(): boolean {
    if (this.readPaused || !this.open) return false;
    this.readPaused = true;
    this.ws.pause();
    return true;
  }

  resumeReading(): void {
    if (!this.readPaused) return;
    this.readPaused = false;
    if (this.open) this.ws.resume();
  }

  get readingPaused(): boolean {
    return this.readPaused;
  }
}
