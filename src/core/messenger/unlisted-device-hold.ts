/**
 * Envelopes from a device our verified list does not name (yet), held instead of dropped
 * (docs/PROTOCOL.md §13.5, "A device the list does not name"). A contact links a device and
 * it writes at once: its envelope can reach us before its new signed list does. Such an
 * envelope is kept here, in memory and NOT acknowledged (the relay keeps it; a restart gets
 * it again), while the account's list is fetched again. Then:
 *
 *   - the fresh list names the device: the device's envelopes go back to the pipeline, in
 *     the order they came, and open as any other;
 *   - the fresh list, fetched after an envelope arrived, still does not name it: that
 *     envelope goes back marked `deviceChecked`, and the pipeline records and drops it
 *     (counted: `crypto.failure{unknown_device}`, or `devices.unlinked_sender_dropped` for a
 *     device a list we held once named);
 *   - no fetch succeeded within DEVICE_HOLD_MAX_MS (offline, rate-limited, a refused list):
 *     released unacknowledged (`devices.hold_expired`); the relay delivers them again on
 *     the next connection, and they are judged then. Nothing is committed.
 *
 * While a device has envelopes here, its later envelopes join them (never overtaking an
 * earlier one, which may be the session start). At most DEVICE_HOLD_MAX_ENVELOPES are held
 * in all; one more is left unacknowledged at once (`devices.hold_full`). The sealed box does
 * not authenticate its sender (§6): anyone can name a contact and any device id, so the
 * hold fetches per account, not per device, and no more often than
 * DEVICE_HOLD_REFETCH_GAP_MS.
 */
import { toHex } from '../bytes.ts';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PendingEnvelope } from './receive-batch.ts';

/** Envelopes held at most, over every device. */
export const DEVICE_HOLD_MAX_ENVELOPES = 256;
/** The longest an envelope waits for a list fetch that succeeds. */
export const DEVICE_HOLD_MAX_MS = 60_000;
/** Time between two fetches of one account's list while the last one failed. */
export const DEVICE_HOLD_RETRY_MS = 2_000;
/** The least time between two fetches of one account's list for the hold (the relay's fetch budget is shared with prekey fetches). */
export const DEVICE_HOLD_REFETCH_GAP_MS = 500;

export interface DeviceHoldDeps {
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The time bound (default DEVICE_HOLD_MAX_MS). */
  readonly maxMs?: number;
  /** Fetches `account`'s signed list and judges it; true when the relay answered with a list that is now held (or none). */
  fetchList(account: Uint8Array): Promise<boolean>;
  /** Does the verified list held for `account` name `device`? */
  names(account: Uint8Array, device: Uint8Array): Promise<boolean>;
  /** Envelopes going back to the pipeline, in arrival order, ahead of anything queued. */
  release(envelopes: readonly PendingEnvelope[]): void;
}

interface HeldEnvelope {
  readonly pending: PendingEnvelope;
  /** The device (hex) that sealed it. */
  readonly device: string;
  readonly deviceId: Uint8Array;
  /** Arrival number (the hold's own sequence). */
  readonly seq: number;
  readonly at: number;
}

/** One account's held envelopes, in arrival order, and its one fetch loop. */
interface HeldAccount {
  readonly account: Uint8Array;
  readonly envelopes: HeldEnvelope[];
  running: boolean;
}

export class UnlistedDeviceHold {
  private readonly accounts = new Map<string, HeldAccount>();
  private seq = 0;
  private count = 0;
  private stopped = false;
  private readonly timers = new Map<() => void, () => void>();
  private readonly log: Logger;

  constructor(private readonly deps: DeviceHoldDeps) {
    this.log = deps.log.child('device-hold');
  }

  /** Envelopes held right now. */
  get size(): number {
    return this.count;
  }

  /** Are envelopes of `device` of `account` held (its next ones must join them)? */
  holding(account: Uint8Array, device: Uint8Array): boolean {
    const held = this.accounts.get(toHex(account));
    if (!held) return false;
    const id = toHex(device);
    return held.envelopes.some((e) => e.device === id);
  }

  /** Holds `pending` (from `device` of `account`) until that account's list is fetched again. */
  hold(pending: PendingEnvelope, account: Uint8Array, device: Uint8Array): void {
    const { metrics } = this.deps;
    if (this.stopped) return; // not acknowledged: the next core gets it again
    if (this.count >= DEVICE_HOLD_MAX_ENVELOPES) {
      metrics.inc('devices.hold_full');
      this.log.warn('device hold full: envelope left unacknowledged', { held: this.count });
      pending.settle('failed');
      return;
    }
    const key = toHex(account);
    let held = this.accounts.get(key);
    if (!held) {
      held = { account: account.slice(), envelopes: [], running: false };
      this.accounts.set(key, held);
    }
    held.envelopes.push({ pending, device: toHex(device), deviceId: device.slice(), seq: ++this.seq, at: this.deps.clock.now() });
    this.count++;
    metrics.inc('devices.held');
    if (!held.running) void this.judge(key, held);
  }

  /** Drops everything held, unacknowledged (the core stops; the relay delivers it again to the next one). */
  stop(): void {
    this.stopped = true;
    for (const [cancel, wake] of this.timers) {
      cancel();
      wake();
    }
    this.timers.clear();
    for (const held of this.accounts.values()) for (const e of held.envelopes) e.pending.settle('failed');
    this.accounts.clear();
    this.count = 0;
  }

  /**
   * One loop per account (however many devices its envelopes name, so forged device ids
   * cost one fetch, not one each): fetches the list until every envelope has its answer
   * or its time ran out, at most one fetch per DEVICE_HOLD_REFETCH_GAP_MS.
   */
  private async judge(key: string, held: HeldAccount): Promise<void> {
    held.running = true;
    let first = true;
    while (held.envelopes.length && !this.stopped) {
      if (!first) await this.pause(DEVICE_HOLD_REFETCH_GAP_MS);
      first = false;
      if (this.stopped) return;
      const startedAfter = this.seq; // envelopes up to this one arrived before the fetch began
      const fetched = await this.deps.fetchList(held.account).catch(() => false);
      if (this.stopped) return;
      if (fetched) {
        const named = new Map<string, boolean>();
        for (const e of held.envelopes) if (!named.has(e.device)) named.set(e.device, await this.deps.names(held.account, e.deviceId).catch(() => false));
        if (this.stopped) return;
        // Named: they open now. Not named: judged only if the fetch came after them.
        const out: PendingEnvelope[] = [];
        let opened = 0;
        const keep: HeldEnvelope[] = [];
        for (const e of held.envelopes) {
          if (named.get(e.device)) {
            out.push(e.pending);
            opened++;
          } else if (e.seq <= startedAfter) out.push({ incoming: e.pending.incoming, settle: (r) => e.pending.settle(r), deviceChecked: true });
          else keep.push(e);
        }
        held.envelopes.splice(0, held.envelopes.length, ...keep);
        this.count -= out.length;
        if (opened) this.deps.metrics.inc('devices.hold_opened', {}, opened);
        if (out.length > opened) this.deps.metrics.inc('devices.hold_refused', {}, out.length - opened);
        if (out.length) this.deps.release(out);
        continue; // later arrivals: one more fetch, begun after them
      }
      const now = this.deps.clock.now();
      const maxMs = this.deps.maxMs ?? DEVICE_HOLD_MAX_MS;
      const expired = held.envelopes.filter((e) => now - e.at >= maxMs);
      if (expired.length) {
        held.envelopes.splice(0, held.envelopes.length, ...held.envelopes.filter((e) => now - e.at < maxMs));
        this.count -= expired.length;
        this.deps.metrics.inc('devices.hold_expired', {}, expired.length);
        this.log.warn('no device list fetched in time: envelopes left unacknowledged', { envelopes: expired.length });
        for (const e of expired) e.pending.settle('failed');
      }
      if (held.envelopes.length) await this.pause(DEVICE_HOLD_RETRY_MS - DEVICE_HOLD_REFETCH_GAP_MS);
    }
    held.running = false;
    if (!held.envelopes.length && this.accounts.get(key) === held) this.accounts.delete(key);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.deps.clock.setTimeout(() => {
        this.timers.delete(cancel);
        resolve();
      }, ms);
      this.timers.set(cancel, resolve);
    });
  }
}
