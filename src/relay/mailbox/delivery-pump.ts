import type { Logger } from 'pino';
import type { RelayMetrics } from '../metrics.ts';
import { HIGH_WATER_BYTES, type Connection } from '../ws/connection.ts';
import type { Envelope } from '../../core/wire/index.ts';
import type { MailboxStore } from './mailbox-store.ts';

/** Envelopes read from the store per query (at most 16 × 256 KiB in memory at once). */
const PAGE_SIZE = 16;
/** Seqs this pump remembers having pushed (to tell a late offer from one already sent). */
export const RECENTLY_PUSHED = 256;

/**
 * Streams a mailbox to its connected owner in deposit order: the backlog on auth, then
 * each new envelope as it is committed. Envelope by envelope: each is sent only while the
 * socket's output is under HIGH_WATER_BYTES; above it the pump waits for the socket to
 * drain below LOW_WATER_BYTES and goes on from the next envelope (the rest are safe on
 * disk meanwhile). So the output never grows past the mark plus one envelope, and a
 * client that reads is never cut off however large its backlog; one that stops reading
 * is closed by the connection's stall timer (PETREL_SLOW_CONSUMER_SEC). `cursor` is the last seq pushed on THIS
 * connection; unacknowledged envelopes are pushed again on the next connection.
 *
 * Offers can come out of commit order: deposits committed in one transaction are offered
 * by their handlers, and a `send.multi` handler offers after one announcement per
 * recipient, so a single `send` committed after it in the same transaction may be offered
 * (and pushed, moving `cursor`) first. An offer at or below `cursor` that this pump has
 * not pushed is such a LATE envelope: the store is never read below `cursor`, so it is
 * pushed on its own (queued while the socket drains), never lost until the next
 * connection. Issue 18: a group message to a member was lost this way in one run in three.
 */
export class DeliveryPump {
  private cursor = 0;
  private running = false;
  private again = false;
  /** The last run read everything up to `cursor` and nothing was committed since without an offer. */
  private caughtUp = false;
  /** A drain callback is registered (only one at a time, however many kicks arrive). */
  private waitingForDrain = false;
  /** The last RECENTLY_PUSHED seqs pushed on this connection (insertion order). */
  private readonly pushed = new Set<number>();
  /** Late envelopes (offered below `cursor`, not pushed yet), pushed before anything else. */
  private readonly late = new Map<number, Envelope>();

  constructor(
    private readonly conn: Connection,
    private readonly store: MailboxStore,
    private readonly metrics: RelayMetrics,
    private readonly log: Logger,
  ) {}

  /**
   * A deposit for this mailbox just committed with `seq`. When the pump is idle and
   * caught up, the envelope in hand is pushed without reading it back; otherwise the
   * pump reads from the store (commits arrive in seq order, so order is kept).
   * `prev`, the mailbox's previous seq, is given when offers may arrive out of commit
   * order (several nodes notifying through Redis): the envelope is then pushed directly
   * only if it follows the one this pump pushed last, else the pump reads the gap.
   */
  offer(seq: number, env: Envelope, prev?: number): void {
    if (seq <= this.cursor) {
      // Committed before one already pushed, offered after it (see the class comment).
      if (this.pushed.has(seq) || this.late.has(seq)) return;
      this.late.set(seq, env);
      this.kick();
      return;
    }
    const follows = prev === undefined ? true : prev === this.cursor;
    if (!this.running && this.caughtUp && follows && this.late.size === 0 && this.conn.buffered() < HIGH_WATER_BYTES) {
      if (!this.conn.send({ t: 'deliver', env })) return;
      this.cursor = seq;
      this.sent(seq);
      return;
    }
    this.kick();
  }

  private sent(seq: number): void {
    this.pushed.add(seq);
    if (this.pushed.size > RECENTLY_PUSHED) this.pushed.delete(this.pushed.values().next().value!);
    this.metrics.deliveries.inc();
  }

  /** Something new may be waiting: push it (coalesces with a run in progress). */
  kick(): void {
    this.caughtUp = false;
    if (this.waitingForDrain) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.run()
      .catch((err: unknown) => {
        this.metrics.handlerFailures.inc({ where: 'delivery' });
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'delivery failed');
      })
      .finally(() => {
        this.running = false;
        // A kick that arrived after the last check must not be lost.
        if (this.again) this.kick();
      });
  }

  private async run(): Promise<void> {
    const mailbox = this.conn.mailbox;
    if (!mailbox) return;
    do {
      this.again = false;
      this.caughtUp = false;
      for (const [seq, env] of this.late) {
        if (!this.conn.open) return;
        if (this.waitForDrain()) return;
        if (!this.conn.send({ t: 'deliver', env })) return;
        this.late.delete(seq);
        this.sent(seq);
      }
      for (;;) {
        if (!this.conn.open) return;
        if (this.waitForDrain()) return;
        const page = await this.store.pending(mailbox, this.cursor, PAGE_SIZE);
        for (const stored of page) {
          if (!this.conn.open) return;
          // The rest of the page is read again after the drain, from the cursor.
          if (this.waitForDrain()) return;
          if (!this.conn.send({ t: 'deliver', env: stored.env })) return;
          this.cursor = stored.seq;
          this.sent(stored.seq);
        }
        if (page.length < PAGE_SIZE) {
          this.caughtUp = true;
          break;
        }
      }
    } while (this.again);
  }

  /** When the output is at the mark, arranges to continue once it drained; returns whether it is waiting. */
  private waitForDrain(): boolean {
    if (this.conn.buffered() < HIGH_WATER_BYTES) return false;
    this.again = false;
    this.waitingForDrain = true;
    this.conn.whenDrained(() => {
      this.waitingForDrain = false;
      this.kick();
    });
    return true;
  }
}
