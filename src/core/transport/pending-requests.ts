/**
 * Request/response correlation over one connection: uint32 request ids (`rid`), one
 * pending promise per id, each with its own timeout on the injected clock, all rejected
 * together when the connection drops.
 */
import type { Clock } from '../clock.ts';
import { UINT32_MAX } from '../wire/index.ts';

interface Pending<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  cancelTimer(): void;
}

export class PendingRequests<T> {
  private readonly pending = new Map<number, Pending<T>>();
  private last: number;

  constructor(
    private readonly clock: Clock,
    /** First rid is random-ish per connection so stale responses are unlikely to match. */
    start = 0,
  ) {
    this.last = start >>> 0;
  }

  /** A fresh rid not currently pending (uint32, wraps around). */
  nextRid(): number {
    do this.last = this.last >= UINT32_MAX ? 1 : this.last + 1;
    while (this.pending.has(this.last));
    return this.last;
  }

  /** Waits for the response to `rid`; rejects with `onTimeout()` after `timeoutMs`. */
  wait(rid: number, timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancelTimer = this.clock.setTimeout(() => {
        if (this.pending.delete(rid)) reject(onTimeout());
      }, timeoutMs);
      this.pending.set(rid, { resolve, reject, cancelTimer });
    });
  }

  /** Settles `rid` with its response; false when nothing waits for it (late or forged). */
  resolve(rid: number, value: T): boolean {
    const p = this.take(rid);
    p?.resolve(value);
    return p !== undefined;
  }

  reject(rid: number, err: Error): boolean {
    const p = this.take(rid);
    p?.reject(err);
    return p !== undefined;
  }

  rejectAll(err: () => Error): void {
    for (const rid of [...this.pending.keys()]) this.reject(rid, err());
  }

  get size(): number {
    return this.pending.size;
  }

  private take(rid: number): Pending<T> | undefined {
    const p = this.pending.get(rid);
    if (!p) return undefined;
    this.pending.delete(rid);
    p.cancelTimer();
    return p;
  }
}
