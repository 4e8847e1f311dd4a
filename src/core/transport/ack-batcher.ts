/**
 * Collects envelope ids acknowledged after the receiver's durable commit and sends them
 * in batches: at most MAX_ACK_IDS per frame, after a short delay so a burst of
 * deliveries costs one ack frame instead of one per envelope. Ids that cannot be sent
 * now (connection down) stay queued until `flush` succeeds.
 */
import type { Clock } from '../clock.ts';
import { MAX_ACK_IDS } from '../wire/index.ts';
import { envelopeKey } from './envelope.ts';

/** How long an ack may wait for company before it is sent alone. */
export const ACK_BATCH_DELAY_MS = 20;
/** Ids queued while disconnected beyond this are dropped (the relay redelivers; the receiver dedups). */
export const MAX_QUEUED_ACKS = 4096;

export class AckBatcher {
  private readonly queue = new Map<string, Uint8Array>();
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    /** Sends one batch; returns false when it could not (the ids stay queued). */
    private readonly sendBatch: (ids: Uint8Array[]) => boolean,
    private readonly delayMs = ACK_BATCH_DELAY_MS,
  ) {}

  add(id: Uint8Array): void {
    if (this.queue.size >= MAX_QUEUED_ACKS) return;
    this.queue.set(envelopeKey({ id }), id);
    if (this.queue.size >= MAX_ACK_IDS) this.flush();
    else this.cancelTimer ??= this.clock.setTimeout(() => {
      this.cancelTimer = undefined;
      this.flush();
    }, this.delayMs);
  }

  /** Sends everything queued, in frames of at most MAX_ACK_IDS. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    while (this.queue.size > 0) {
      const batch = [...this.queue.entries()].slice(0, MAX_ACK_IDS);
      if (!this.sendBatch(batch.map(([, id]) => id))) return;
      for (const [key] of batch) this.queue.delete(key);
    }
  }

  get queued(): number {
    return this.queue.size;
  }

  dispose(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }
}
