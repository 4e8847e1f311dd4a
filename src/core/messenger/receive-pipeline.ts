/**
 * ingress → validate → dedup → unseal → decrypt → commit → ack → view.
 *
 * Envelopes from every transport queue here. The pipeline drains them in batches on the
 * serial lane, one step per file:
 *
 *   1. receive-dedup.ts    the ingress guard drops replays of committed envelopes without
 *                          touching storage; the store's dedup marks catch the rest
 *   2. receive-decrypt.ts  unseal, find the sender, decrypt through the session cipher
 *                          against a working copy of the contact's sessions
 *   3. receive-content.ts  what the content adds to the envelope's commit
 *   4. receive-batch.ts    the whole batch — dedup marks, message rows, receipt status
 *                          moves, at most one session update per contact, the prekey pool,
 *                          new contacts and the delivery receipts we owe — in ONE transaction
 *   5. receive-ack.ts      only then are the envelopes acknowledged to the relay or peer
 *
 * An envelope that can never be decrypted (tampered, replay of a consumed key, unknown
 * prekey, garbage) is recorded as processed, counted as `crypto.failure{reason}` and
 * acknowledged, so it is not redelivered forever. A storage failure acknowledges
 * nothing: the envelope comes again and is decrypted again from the unchanged session.
 *
 * An envelope from a device its sender's verified list does not name (yet) is neither:
 * it is held, unacknowledged, while that list is fetched again, then opened, or recorded
 * and dropped if a list fetched after it arrived still does not name the device
 * (unlisted-device-hold.ts).
 */
import { toHex } from '../bytes.ts';
import type { IncomingBatchCommitted } from '../store/index.ts';
import type { IngressGuard, IncomingEnvelope } from '../transport/index.ts';
import type { MessengerContext } from './context.ts';
import { acknowledgeCommitted, receiptMovesOf, type ReceiptMoves, type ReceiveHooks } from './receive-ack.ts';
import { BatchDraft, type Carry, type PendingEnvelope, type Prepared } from './receive-batch.ts';
import { applyContent, decodeReceived } from './receive-content.ts';
import { applyOwnDeviceContent } from './receive-own-device.ts';
import { readDedupMarks, withoutDuplicates } from './receive-dedup.ts';
import { STAGES } from '../stage-trace.ts';
import { openEnvelope, unlistedSender, unsealAll, type Unsealed } from './receive-decrypt.ts';
import { UnlistedDeviceHold } from './unlisted-device-hold.ts';

export type { ReceiveHooks } from './receive-ack.ts';

/** Envelopes committed together at most (one IndexedDB transaction). */
export const RECEIVE_BATCH_MAX = 128;
/**
 * Batches one lane turn processes, pipelined (decrypting the next while the last commits),
 * before it lets a send or another lane user in: a send during a long catch-up waits for
 * at most this many commits, and each turn loses the overlap of one commit.
 */
export const RECEIVE_TURN_BATCHES = 4;
/** A batch that failed to commit (storage trouble) is tried again after this long. */
export const RECEIVE_RETRY_DELAY_MS = 1_000;

type Pending = PendingEnvelope;

/** An envelope of a prepared batch that goes to the device hold instead (once the batch was prepared). */
interface ToHold {
  readonly pending: Pending;
  readonly account: Uint8Array;
  readonly device: Uint8Array;
}

interface InFlight {
  readonly prepared: Prepared;
  readonly commit: Promise<IncomingBatchCommitted>;
  /** Its receipts' status moves, shown before the commit resolved (`ReceiveHooks.authenticated`). */
  readonly moves: readonly ReceiptMoves[];
}

export class ReceivePipeline {
  private queue: Pending[] = [];
  private draining = false;
  /** The drain in progress (what `stop` waits for). */
  private drained: Promise<void> = Promise.resolve();
  private stopped = false;
  private cancelRetry: (() => void) | undefined;
  /** Envelopes from devices their sender's list does not name yet (absent without device routing). */
  private readonly hold: UnlistedDeviceHold | undefined;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly guard: IngressGuard<unknown>,
    private readonly hooks: ReceiveHooks,
    /** The hold's time bound (default DEVICE_HOLD_MAX_MS). */
    deviceHoldMaxMs?: number,
  ) {
    const devices = ctx.devices;
    this.hold = devices
      ? new UnlistedDeviceHold({
          ...(deviceHoldMaxMs !== undefined ? { maxMs: deviceHoldMaxMs } : {}),
          clock: ctx.clock,
          metrics: ctx.metrics,
          log: ctx.log,
          fetchList: (account) => devices.fetchList(account),
          names: (account, device) => devices.names(account, device),
          release: (envelopes) => {
            if (this.stopped) return;
            // They came before anything queued now: ahead of it.
            this.queue.unshift(...envelopes);
            void this.drain();
          },
        })
      : undefined;
  }

  /** Envelopes held for their sender's device list right now (unlisted-device-hold.ts). */
  get held(): number {
    return this.hold?.size ?? 0;
  }

  /** Entry point for every transport's incoming envelopes. */
  accept(incoming: IncomingEnvelope): void {
    if (this.stopped) return; // not acknowledged: the relay delivers it again to the next core
    const admission = this.guard.admit(incoming);
    if (admission.kind !== 'fresh') return;
    this.ctx.trace?.mark(STAGES.receiveAccepted);
    this.queue.push({ incoming, settle: admission.settle });
    void this.drain();
  }

  /** Resolves when everything queued so far has been processed (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.draining || this.queue.length) {
      await new Promise<void>((r) => this.ctx.clock.setTimeout(r, 1));
    }
  }

  /**
   * Takes no more envelopes and commits nothing new; resolves once the commit in flight
   * (if any) has settled. Envelopes still queued are dropped unacknowledged: the relay
   * delivers them again to the next core. Without this, a stopped core's retry could
   * commit an older envelope after the next core committed a newer one (out of order).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.hold?.stop();
    this.queue = [];
    await this.drained;
  }

  private drain(): Promise<void> {
    if (this.draining || this.stopped) return this.drained;
    this.draining = true;
    this.drained = this.drainLoop().finally(() => {
      this.draining = false;
    });
    return this.drained;
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      // Batches are taken inside the lane turn, so envelopes handed in together form one batch.
      const ok = await this.ctx.lane.run(() => this.turn());
      if (!ok && !this.stopped) {
        // Storage trouble: the envelopes are back in the queue (unacknowledged); try again shortly.
        this.cancelRetry?.();
        this.cancelRetry = this.ctx.clock.setTimeout(() => void this.drain(), RECEIVE_RETRY_DELAY_MS);
        return;
      }
    }
  }

  /**
   * One lane turn: up to RECEIVE_TURN_BATCHES batches, pipelined. Batch N+1 is checked
   * against the dedup marks and decrypted (from the state batch N's commit will leave)
   * while batch N's transaction commits; N+1's commit is issued only after N's succeeded.
   * Each batch is still one transaction and is acknowledged only after it. The turn ends
   * with no commit in flight, so the next lane user reads committed sessions.
   *
   * False when something failed (storage): the batch that failed and every later one taken
   * in this turn go back to the front of the queue, unacknowledged, and their decrypted
   * state is dropped (the next turn starts again from the store).
   */
  private async turn(): Promise<boolean> {
    const carry: Carry = { sessions: new Map(), pool: this.ctx.pool, contacts: new Map(), resent: new Set() };
    let next = this.take();
    let inflight: InFlight | undefined;
    let batches = 0;
    while (next) {
      const taken = next;
      next = undefined;
      let pending = taken.batch;
      let prepared: Prepared | undefined;
      const toHold: ToHold[] = [];
      try {
        const [seen, unsealed] = await Promise.all([taken.seen, taken.unsealed]);
        pending = withoutDuplicates(taken.batch, seen);
        const unsealedOf = new Map(taken.batch.map((p, i) => [p, unsealed[i]!]));
        prepared = pending.length ? await this.prepare(pending, pending.map((p) => unsealedOf.get(p)!), carry, toHold) : undefined;
      } catch (err) {
        this.notCommitted(err, pending.length);
        const left = inflight ? await this.finish(inflight) : undefined;
        this.queue.unshift(...(left ?? []), ...pending);
        return false;
      }
      if (inflight) {
        const left = await this.finish(inflight);
        inflight = undefined;
        if (left) {
          this.queue.unshift(...left, ...pending);
          return false;
        }
      }
      for (const h of toHold) this.hold?.hold(h.pending, h.account, h.device);
      // The next batch's dedup read is issued before this batch's commit, so it does not queue behind it.
      if (++batches < RECEIVE_TURN_BATCHES) next = this.take();
      if (prepared?.commits.length) {
        this.ctx.trace?.mark(STAGES.receiveDecrypted);
        const commit = this.ctx.store.commitIncomingBatch(prepared.commits);
        commit.catch(() => undefined); // awaited by finish(); not unhandled meanwhile
        const moves = receiptMovesOf(prepared);
        inflight = { prepared, commit, moves };
        // While the commit runs: the receipts are authentic, so the view may show them.
        if (moves.length) this.hooks.authenticated?.(moves);
      }
    }
    const left = inflight ? await this.finish(inflight) : undefined;
    if (left) this.queue.unshift(...left);
    return !left;
  }

  /**
   * The next batch, its dedup marks read and its sealed boxes opened at the same time:
   * unsealing needs no session and changes no state, so it need not wait for the read
   * (which only saves the ratchet decryption of duplicates).
   */
  private take(): { batch: Pending[]; seen: Promise<ReadonlySet<string>>; unsealed: Promise<Unsealed[]> } | undefined {
    if (!this.queue.length || this.stopped) return undefined;
    const batch = this.queue.splice(0, RECEIVE_BATCH_MAX);
    return {
      batch,
      seen: readDedupMarks(this.ctx.store, batch),
      unsealed: unsealAll(
        this.ctx,
        batch.map((p) => p.incoming.envelope.body),
      ),
    };
  }

  /** Waits for a batch's commit: settles it, or returns its envelopes when the commit failed. */
  private async finish(inflight: InFlight): Promise<readonly Pending[] | undefined> {
    try {
      const committed = await inflight.commit;
      this.ctx.trace?.mark(STAGES.receiveCommitted);
      if (inflight.moves.length) this.hooks.settled?.(inflight.moves, true);
      acknowledgeCommitted(this.ctx, this.hooks, inflight.prepared, committed);
      return undefined;
    } catch (err) {
      if (inflight.moves.length) this.hooks.settled?.(inflight.moves, false);
      this.notCommitted(err, inflight.prepared.batch.length);
      return inflight.prepared.batch;
    }
  }

  private notCommitted(err: unknown, envelopes: number): void {
    this.ctx.log.error('receive batch not committed; will retry', { envelopes, error: err instanceof Error ? err.name : 'unknown' });
    this.ctx.metrics.inc('receive.commit_failure');
  }

  /**
   * Steps 2-4 for one batch (its boxes unsealed in `unsealed`, in order): decrypts it in order against the carried state
   * and assembles its commit. Advances `carry` to the state the commit will leave.
   * Envelopes from a device their sender's list does not name yet go to `toHold`, out of
   * the commit (the caller hands them to the hold once the batch is prepared).
   */
  private async prepare(batch: Pending[], unsealed: readonly Unsealed[], carry: Carry, toHold: ToHold[]): Promise<Prepared> {
    const ctx = this.ctx;
    const draft = new BatchDraft(ctx, carry, ctx.clock.now());
    const kept: Pending[] = [];
    const heldHere = new Set<string>();
    for (const [index, p] of batch.entries()) {
      const u = unsealed[index]!;
      if (this.hold && !p.deviceChecked && !('error' in u) && u.senderDevice) {
        // A device whose earlier envelopes wait (here or in the hold) never overtakes them.
        const key = `${toHex(u.sender)}/${toHex(u.senderDevice)}`;
        const unlisted = heldHere.has(key) || this.hold.holding(u.sender, u.senderDevice) ? { account: u.sender, device: u.senderDevice } : await unlistedSender(ctx, draft, u);
        if (unlisted) {
          heldHere.add(key);
          toHold.push({ pending: p, ...unlisted });
          continue;
        }
      }
      kept.push(p);
      const envelopeId = toHex(p.incoming.envelope.id);
      const transport = p.incoming.transport;
      const commit = draft.open(envelopeId);
      const opened = await openEnvelope(ctx, draft, u);
      switch (opened.kind) {
        case 'undecryptable':
          ctx.metrics.inc('crypto.failure', { reason: opened.reason });
          ctx.log.warn('undecryptable envelope recorded and dropped', { id: envelopeId, reason: opened.reason, transport });
          // The sender still has it: ask for it again under a fresh session (session-repair.ts).
          if (opened.from) draft.requestRetry(commit, opened.from, p.incoming.envelope.id, opened.reason);
          continue;
        case 'unlinked_device':
          // Not a crypto failure: a device its account unlinked, whose late envelope a fresh list refused (§13.5).
          ctx.metrics.inc('devices.unlinked_sender_dropped');
          ctx.log.info('envelope from an unlinked device recorded and dropped', { id: envelopeId, transport });
          continue;
        case 'replayed_session_start':
          ctx.metrics.inc('packet.replay', { transport, kind: 'session_start' });
          ctx.log.warn('replayed session start dropped', { id: envelopeId, transport });
          continue;
        case 'own_device': {
          // What another device of our account sent (a transcript): no receipt goes back.
          const ownSessions = await draft.decrypted(commit, toHex(ctx.identity.publicKey), opened.device, opened.result.set, opened.result.pool);
          const own = decodeReceived(ctx, opened.result.plaintext, envelopeId);
          if (own) await applyOwnDeviceContent(ctx, draft, commit, own, ownSessions);
          continue;
        }
        case 'decrypted':
          break;
      }
      const { result } = opened;
      let contact = opened.contact;
      if (!contact) {
        // A first envelope from someone we do not know: listed nowhere, without a name until
        // its profile says one. It becomes a message request only when it writes to us 1:1
        // (receive-content.ts); a group member's profile, group frames and receipts do not
        // make it one (it is no stranger writing to us, PROTOCOL.md §17.6).
        contact = { id: toHex(opened.sender), displayName: '', unnamed: true, identityKey: opened.sender.slice(), verification: 'unverified', addedAt: draft.now, listing: 'removed' };
        draft.putContact(commit, contact);
      }
      const sessions = await draft.decrypted(commit, contact.id, opened.device, result.set, result.pool);
      if (contact.blocked) {
        // Blocked: the session advances (so later messages still open) and the envelope is
        // recorded and acknowledged, but nothing is kept and nothing goes back — no receipt.
        ctx.metrics.inc('receive.blocked_dropped');
        ctx.log.info('message from a blocked contact dropped', { contact: contact.id.slice(0, 8), id: envelopeId });
        continue;
      }
      const content = decodeReceived(ctx, result.plaintext, envelopeId);
      if (content) await applyContent(ctx, draft, commit, { contact, sessions, content, via: transport });
    }
    return draft.seal(kept);
  }
}
