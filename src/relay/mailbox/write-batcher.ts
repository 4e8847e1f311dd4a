import type { DeviceListVersion, Envelope } from '../../core/wire/index.ts';
import type { DepositOutcome, MailboxStore } from './mailbox-store.ts';

/** Most operations (deposits + ack requests) committed in one transaction. */
export const MAX_BATCH = 512;

type Pending =
  | { readonly kind: 'deposit'; readonly envs: readonly Envelope[]; readonly dl?: DeviceListVersion; readonly resolve: (o: DepositOutcome[]) => void; readonly reject: (e: unknown) => void }
  | { readonly kind: 'ack'; readonly mailbox: Uint8Array; readonly ids: readonly Uint8Array[]; readonly resolve: (t: number[]) => void; readonly reject: (e: unknown) => void };

/**
 * Group commit: deposits and acks that arrive in the same event-loop turn are written in
 * one durable transaction (one fsync under synchronous=FULL), in arrival order; batches
 * are committed one after another, so deposit order is preserved.
 */
export class WriteBatcher {
  private queue: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: MailboxStore,
    private readonly now: () => number,
    private readonly onBatch?: (size: number) => void,
  ) {}

  /** One deposit; with `dl`, refused `stale_devices` in the commit if the recipient account's stored list is newer. */
  deposit(env: Envelope, dl?: DeviceListVersion): Promise<DepositOutcome> {
    return new Promise<DepositOutcome[]>((resolve, reject) => {
      this.queue.push({ kind: 'deposit', envs: [env], ...(dl ? { dl } : {}), resolve, reject });
      this.schedule();
    }).then((outcomes) => outcomes[0]!);
  }

  /**
   * Deposits that must commit together (a `send.multi`: one body for many mailboxes): they
   * are never split across transactions, even past MAX_BATCH. One outcome per envelope.
   */
  depositAll(envs: readonly Envelope[]): Promise<DepositOutcome[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'deposit', envs, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves with the deposit times of the envelopes deleted. */
  ack(mailbox: Uint8Array, ids: readonly Uint8Array[]): Promise<number[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ kind: 'ack', mailbox, ids, resolve, reject });
      this.schedule();
    });
  }

  /** Operations accepted but not yet committed. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Resolves once every submitted operation has been committed (or failed). */
  idle(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  /** Operations for one transaction: up to MAX_BATCH envelopes and ack requests, a group never split (a group larger than that goes alone). */
  private takeBatch(): Pending[] {
    let size = 0;
    let n = 0;
    while (n < this.queue.length) {
      const p = this.queue[n]!;
      const cost = p.kind === 'deposit' ? p.envs.length : 1;
      if (n > 0 && size + cost > MAX_BATCH) break;
      size += cost;
      n++;
    }
    return this.queue.splice(0, n);
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.flushing = true;
    const batch = this.takeBatch();
    const deposits = batch.filter((p) => p.kind === 'deposit');
    const acks = batch.filter((p) => p.kind === 'ack');
    try {
      const lists = deposits.flatMap((p) => p.envs.map(() => p.dl));
      const result = await this.store.commit(
        { deposits: deposits.flatMap((p) => p.envs), ...(lists.some((l) => l) ? { lists } : {}), acks: acks.map((p) => ({ mailbox: p.mailbox, ids: p.ids })) },
        this.now(),
      );
      this.onBatch?.(deposits.reduce((n, p) => n + p.envs.length, acks.length));
      let at = 0;
      for (const p of deposits) {
        p.resolve(result.deposits.slice(at, at + p.envs.length));
        at += p.envs.length;
      }
      acks.forEach((p, i) => p.resolve(result.acks[i]!));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.flushing = false;
      if (this.queue.length > 0) this.schedule();
      else for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
