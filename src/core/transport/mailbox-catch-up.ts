/**
 * Whether a connection has caught up with its mailbox: the relay's `ready` says how many
 * envelopes were waiting (`queued`); once that many distinct envelopes delivered on this
 * connection have been acknowledged (each only after its receive commit), everything
 * that waited is on the device. A service worker woken by a push runs the core until
 * then and no longer (src/sw/push-catch-up.ts).
 *
 * Envelopes deposited after `ready` are delivered on the same connection and count too,
 * so the signal can come slightly early when new mail races the catch-up; never late.
 */
import { toHex } from '../bytes.ts';
import { Listeners } from './listeners.ts';

export class MailboxCatchUp {
  private left = -1;
  private readonly acked = new Set<string>();
  private readonly done = new Listeners<void>();

  /** A new connection is ready with `queued` envelopes waiting. */
  ready(queued: number): void {
    this.acked.clear();
    this.left = Math.max(0, Math.floor(queued));
    if (this.left === 0) this.finish();
  }

  /** An envelope delivered on this connection was acknowledged. */
  acknowledged(id: Uint8Array): void {
    if (this.left <= 0) return;
    const key = toHex(id);
    if (this.acked.has(key)) return;
    this.acked.add(key);
    this.left--;
    if (this.left === 0) this.finish();
  }

  /** The connection ended before it caught up: wait for the next `ready`. */
  reset(): void {
    this.left = -1;
    this.acked.clear();
  }

  /** Whether the current connection has caught up. */
  get caughtUp(): boolean {
    return this.left === 0;
  }

  onCaughtUp(listener: () => void): () => void {
    return this.done.add(listener);
  }

  private finish(): void {
    this.acked.clear();
    this.done.emit();
  }
}
