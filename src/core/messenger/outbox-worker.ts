/**
 * outbox → router → transport ack → `sent`.
 *
 * The durable outbox is the only source of truth for what still has to go: this worker
 * keeps nothing about a message in memory that a crash could lose. Each round reads the
 * head of every contact's queue (`outboxHeads`: its lowest compose sequence still to
 * send, whatever the next attempt times; one message in flight per contact, so a
 * recipient sees one sender's messages in the order they were written; a head still
 * waiting for a session holds its queue), and hands each due head to the router for ONE round over the
 * transports. The outcome is committed before the next round: `markSent`, a failed
 * attempt with its next attempt time (full-jitter backoff, from the router), or `failed`
 * with a reason once the retry budget is spent. A message whose earlier sibling is still
 * in the relay's mailbox (sent, no delivery receipt yet) skips a live direct channel
 * (`RelayOrderHold`), so it cannot overtake it. Rounds in which no transport was
 * available at all (offline) spend no attempt and are not written; the worker wakes when
 * a transport comes back or at the router's retry time.
 */
import { fromHex, toHex } from '../bytes.ts';
import type { OutboxRecord } from '../store/index.ts';
import { OUTBOX_DUE_MAX } from '../store/index.ts';
import type { AttemptOutcome, Router } from '../transport/index.ts';
import type { DeviceListVersion, SignedDeviceList } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { RelayOrderHold } from './relay-order-hold.ts';
import { STAGES } from '../stage-trace.ts';

/** Heads sent at the same time at most (different contacts). */
export const OUTBOX_CONCURRENCY = 16;

export function failureText(outcome: Extract<AttemptOutcome, { final: true }>): string {
  switch (outcome.reason) {
    case 'retry_budget_exhausted':
      return 'Not delivered after repeated attempts';
    case 'no_transport':
      return 'No connection for too long';
    case 'rejected':
      return outcome.detail === 'mailbox_full'
        ? "The recipient's mailbox on the relay is full"
        : outcome.detail === 'too_large'
          ? 'Too large to send'
          : `Refused by the relay (${outcome.detail ?? 'rejected'})`;
  }
}

export class OutboxWorker {
  private running = false;
  private again = false;
  private stopped = false;
  private readonly inFlight = new Set<string>();
  /**
   * Contacts whose head found no transport at all: not written to storage (being offline
   * spends no attempt) but parked here until the router's retry time or a retry
   * opportunity (a transport came back), so the worker never spins.
   */
  private readonly parked = new Map<string, number>();
  private cancelTimer: (() => void) | undefined;
  private timerAt = Infinity;
  /** Keeps a contact's messages behind its earlier ones still in the relay's mailbox. */
  private readonly order: RelayOrderHold;

  private readonly unsubscribe: () => void;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly router: Router,
    private readonly changed: () => void,
    /** A copy refused `stale_devices` (stale-device-cover.ts); without it such a copy fails. */
    private readonly staleDevices?: (entry: OutboxRecord, list: SignedDeviceList | undefined) => Promise<void>,
  ) {
    this.unsubscribe = router.onRetryOpportunity(() => this.wake());
    this.order = new RelayOrderHold(ctx.store, ctx.clock, ctx.metrics, ctx.log.child('order'));
  }

  /** A transport came back: parked heads may go now. */
  wake(): void {
    this.parked.clear();
    this.kick();
  }

  /** Something may be due: an entry was queued, a transport came back, a retry was asked for. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.round();
  }

  /**
   * `entry` was just committed as its contact's head of line (the store said so in the
   * same transaction: OutgoingCommitted.head): it goes to the router now, without a round
   * reading every queue's head again. Exactly as a round would take it: only when nothing
   * of its contact is in flight or parked, the contact is not blocked and there is room;
   * otherwise a round decides (it reads the entry from storage like any other). The
   * in-flight mark is taken synchronously, so a round that read the entry too skips it,
   * and the outcome is committed the same way. A crash before this runs loses nothing:
   * the entry is durable and the next round sends it.
   */
  offer(entry: OutboxRecord): void {
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    const free =
      entry.state === 'ready' &&
      entry.nextAttemptAt <= now &&
      !this.inFlight.has(entry.contactId) &&
      !this.parked.has(entry.contactId) &&
      this.inFlight.size < OUTBOX_CONCURRENCY &&
      !this.ctx.contacts.byId(entry.contactId)?.blocked;
    if (!free) return this.kick();
    this.ctx.metrics.inc('outbox.handed_at_commit');
    this.send(entry);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    this.cancelTimer?.();
  }

  private async round(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        await this.runOnce();
      } while (this.again && !this.stopped);
    } catch (err) {
      this.ctx.log.error('outbox round failed', { error: err instanceof Error ? err.name : 'unknown' });
      this.schedule(this.ctx.clock.now() + 1_000);
    } finally {
      this.running = false;
    }
  }

  private async runOnce(): Promise<void> {
    const { store, clock, metrics } = this.ctx;
    // Only a contact's head of line may go (its lowest seq still to send): a later message
    // never overtakes an earlier one, whatever their next attempt times.
    const heads = await store.outboxHeads(OUTBOX_DUE_MAX);
    const now = clock.now();
    let nextWake = Infinity;
    const due: OutboxRecord[] = [];
    for (const h of heads) {
      // A head waiting for a session (the starter kicks when it is ready) holds its contact's queue.
      if (h.state !== 'ready' || this.inFlight.has(h.contactId)) continue;
      // Nothing goes to a blocked contact (its queue waits; unblocking kicks the worker).
      if (this.ctx.contacts.byId(h.contactId)?.blocked) continue;
      const at = Math.max(h.nextAttemptAt, this.parked.get(h.contactId) ?? 0);
      if (at <= now) due.push(h);
      else nextWake = Math.min(nextWake, at);
    }
    if (nextWake < Infinity) this.schedule(nextWake);
    for (const entry of due.slice(0, OUTBOX_CONCURRENCY - this.inFlight.size)) this.send(entry);
    // Counted after the sends left: a read transaction before them delayed every message.
    metrics.set('queue.depth', await store.queueDepth());
  }

  /** One attempt at `entry`, its contact in flight until the outcome is committed; then a round looks at what is next. */
  private send(entry: OutboxRecord): void {
    this.inFlight.add(entry.contactId);
    void this.attempt(entry).finally(() => {
      this.inFlight.delete(entry.contactId);
      this.kick();
    });
  }

  private async attempt(entry: OutboxRecord): Promise<void> {
    const { store, clock, log } = this.ctx;
    if (!entry.envelope) return;
    const envelope = { to: entry.mailbox, id: fromHex(entry.envelopeId), body: entry.envelope };
    // A message (receipts have no place in the conversation to keep) must not overtake an
    // earlier one still in the relay's mailbox: see RelayOrderHold.
    const deviceList = this.deviceListOf(entry);
    const directUp = this.router.isAvailable('direct', entry.mailbox);
    const staleForDirect = directUp && (await this.fannedOutUnderOlderList(entry, deviceList));
    if (staleForDirect) this.ctx.metrics.inc('devices.direct_skipped_stale_list');
    const offDirect = staleForDirect || (directUp && entry.messageId !== undefined && (await this.order.keepsOffDirect(entry.contactId, entry.device).catch(() => false)));
    const state = { firstAttemptAt: entry.firstAttemptAt ?? entry.createdAt, attempts: entry.attempts };
    this.ctx.trace?.mark(STAGES.outboxHandoff);
    const outcome = await this.router.attempt(envelope, state, { ...(offDirect ? { skip: ['direct'] as const } : {}), ...(deviceList ? { deviceList } : {}) });
    if (outcome.ok && outcome.transport === 'relay' && entry.messageId !== undefined) this.order.relayed(entry.contactId, entry.messageId, entry.device);
    try {
      if (outcome.ok || outcome.final) this.parked.delete(entry.contactId);
      else this.parked.set(entry.contactId, outcome.retryAt);
      if (outcome.ok) {
        await store.markSent(entry.envelopeId, { at: clock.now(), via: outcome.transport });
      } else if (!outcome.final) {
        if (outcome.reason !== 'no_transport') {
          await store.recordAttemptFailure(entry.envelopeId, outcome.retryAt, outcome.reason);
        }
        this.schedule(outcome.retryAt);
      } else if (outcome.detail === 'stale_devices' && this.staleDevices) {
        // The contact's list moved on since this message was fanned out: cover its new devices, then send again (§13.5).
        await this.staleDevices(entry, outcome.deviceList);
        this.parked.delete(entry.contactId);
      } else if (outcome.detail === 'device_unlinked' && entry.device !== undefined) {
        // That device of the contact was unlinked: its copy is dropped, the message stands
        // on its other copies, and the contact's list is fetched again (§13.5).
        log.info('copy to an unlinked device dropped', { id: entry.envelopeId, device: entry.device.slice(0, 8) });
        this.ctx.metrics.inc('devices.copy_dropped_unlinked');
        await store.dropOutboxEntry(entry.envelopeId, "The contact's device was unlinked");
        const contact = this.ctx.contacts.byId(entry.contactId);
        if (contact) this.ctx.devices?.refetch(contact.identityKey);
      } else {
        log.warn('message failed', { id: entry.envelopeId, reason: outcome.reason, detail: outcome.detail ?? null });
        await store.markFailed(entry.envelopeId, failureText(outcome));
      }
    } catch (err) {
      // The entry may be gone (e.g. acknowledged twice); the next round reads the truth again.
      log.warn('outbox outcome not recorded', { id: entry.envelopeId, error: err instanceof Error ? err.name : 'unknown' });
    }
    this.changed();
  }

  /**
   * The device-list version a copy was fanned out under, for the relay to check (§13.5, "A
   * send to a stale device set"): the stamped version of a copy to a device — of the
   * contact's list for a message or an action to the contact, of our own list for a copy
   * to our own other device — and 0 for a message's copy to an account mailbox (composed
   * while the contact had no list). Nothing for receipts and other protocol entries (they
   * are not covered, see PROTOCOL.md) and for entries from before the stamp.
   */
  private deviceListOf(entry: OutboxRecord): DeviceListVersion | undefined {
    if (!this.staleDevices || !this.ctx.devices) return undefined;
    const account = this.accountOf(entry.contactId);
    if (!account) return undefined;
    const v = entry.listVersion ?? (entry.messageId !== undefined && entry.device === undefined ? 0 : undefined);
    return v === undefined ? undefined : { ik: account, v };
  }

  /** The identity key of the account `contactId` names: a contact's, or ours (copies to our own other devices queue under our account). */
  private accountOf(contactId: string): Uint8Array | undefined {
    const { identity, contacts } = this.ctx;
    if (contactId === toHex(identity.publicKey)) return identity.publicKey;
    return contacts.byId(contactId)?.identityKey;
  }

  /**
   * The direct path (a data channel to one device) never reaches the relay's check, so a
   * copy may take it only while the list it was fanned out under is still the one held
   * here (§13.5): once a newer list is held (a `devices.changed` push, a fetch), the copy
   * goes to the relay instead, which refuses it as stale and the sender covers the new
   * devices (stale-device-cover.ts).
   */
  private async fannedOutUnderOlderList(entry: OutboxRecord, dl: DeviceListVersion | undefined): Promise<boolean> {
    if (!dl || !this.ctx.devices) return false;
    return (await this.ctx.devices.listVersion(dl.ik).catch(() => dl.v)) !== dl.v;
  }

  private schedule(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    this.cancelTimer?.();
    this.timerAt = at;
    this.cancelTimer = this.ctx.clock.setTimeout(
      () => {
        this.timerAt = Infinity;
        this.cancelTimer = undefined;
        this.kick();
      },
      Math.max(0, at - this.ctx.clock.now()),
    );
  }
}
