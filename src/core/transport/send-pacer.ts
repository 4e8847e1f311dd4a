/**
 * Paces sends over one link: a token bucket (sustained rate and burst) and a cap on
 * sends awaiting their acknowledgement, granted in FIFO order. It keeps a client below
 * the relay's per-connection frame budget (which refuses excess frames and eventually
 * closes the link) and bounds what sits in the socket's send buffer when the far side
 * stops reading, so a 200-message outbox flush neither gets rate-limited nor buffers
 * megabytes.
 */
import type { Clock } from '../clock.ts';

export interface PacePolicy {
  /** Sustained sends per second. */
  readonly ratePerSec: number;
  /** Sends allowed at once after a quiet period. */
  readonly burst: number;
  /** Sends awaiting their acknowledgement at any time. */
  readonly maxInFlight: number;
}

/**
 * Below the relay's defaults (100 frames/s, burst 200 per connection), leaving room for
 * acks, heartbeats and prekey requests on the same connection.
 */
export const RELAY_SEND_PACE: PacePolicy = { ratePerSec: 80, burst: 150, maxInFlight: 64 };

interface Waiter {
  grant(release: () => void): void;
  fail(err: Error): void;
}

export class SendPacer {
  private tokens: number;
  private refilledAt: number;
  private inFlight = 0;
  private readonly queue: Waiter[] = [];
  private cancelTimer: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly policy: PacePolicy = RELAY_SEND_PACE,
  ) {
    if (!(policy.ratePerSec > 0) || !(policy.burst >= 1) || !(policy.maxInFlight >= 1)) throw new RangeError('SendPacer: rate, burst and maxInFlight must be positive');
    this.tokens = policy.burst;
    this.refilledAt = clock.now();
  }

  /** Resolves with a `release` to call once the send is acknowledged or failed. */
  acquire(): Promise<() => void> {
    return new Promise<() => void>((resolve, reject) => {
      this.queue.push({ grant: resolve, fail: reject });
      this.pump();
    });
  }

  /** Fails every waiting send (the link went down); sends already granted are unaffected. */
  rejectWaiting(err: () => Error): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const w of this.queue.splice(0)) w.fail(err());
  }

  get waiting(): number {
    return this.queue.length;
  }

  get active(): number {
    return this.inFlight;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.policy.burst, this.tokens + ((now - this.refilledAt) * this.policy.ratePerSec) / 1000);
    this.refilledAt = now;
  }

  private pump(): void {
    this.refill();
    while (this.queue.length > 0 && this.inFlight < this.policy.maxInFlight && this.tokens >= 1) {
      this.tokens -= 1;
      this.inFlight++;
      let released = false;
      this.queue.shift()!.grant(() => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.pump();
      });
    }
    // Waiting only for a token (not a slot): come back when the next one is due.
    if (this.queue.length > 0 && this.inFlight < this.policy.maxInFlight && !this.cancelTimer) {
      const dueMs = Math.ceil(((1 - this.tokens) * 1000) / this.policy.ratePerSec);
      this.cancelTimer = this.clock.setTimeout(() => {
        this.cancelTimer = undefined;
        this.pump();
      }, Math.max(1, dueMs));
    }
  }
}
