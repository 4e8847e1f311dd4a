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
 * in all; one more is left unacknowledged at once (`devices.hold_full`).
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
  /** Arrival number (the hold's own sequence). */
  readonly seq: number;
  readonly at: number;
}

interface HeldDevice {
  readonly account: Uint8Array;
  readonly device: Uint8Array;
  readonly envelopes: HeldEnvelope[];
  running: boolean;
}

export class UnlistedDeviceHold {
  private readonly devices = new Map<string, HeldDevice>();
  private seq = 0;
  private count = 0;
  private stopped = false;
  private readonly timers = new Set<() => void>();
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
    return this.devices.has(keyOf(account, device));
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
    const key = keyOf(account, device);
    let held = this.devices.get(key);
    if (!held) {
      held = { account: account.slice(), device: device.slice(), envelopes: [], running: false };
      this.devices.set(key, held);
    }
    held.envelopes.push({ pending, seq: ++this.seq, at: this.deps.clock.now() });
    this.count++;
    metrics.inc('devices.held');
    if (!held.running) void this.judge(key, held);
  }

  /** Drops everything held, unacknowledged (the core stops; the relay delivers it again to the next one). */
  stop(): void {
    this.stopped = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    for (const held of this.devices.values()) for (const e of held.envelopes) e.pending.settle('failed');
    this.devices.clear();
    this.count = 0;
  }

  /** Fetches the account's list until every envelope of `held` has its answer or its time ran out. */
  private async judge(key: string, held: HeldDevice): Promise<void> {
    held.running = true;
    while (held.envelopes.length && !this.stopped) {
      const startedAfter = this.seq; // envelopes up to this one arrived before the fetch began
      const fetched = await this.deps.fetchList(held.account).catch(() => false);
      if (this.stopped) return;
      if (fetched) {
        const named = await this.deps.names(held.account, held.device).catch(() => false);
        if (this.stopped) return;
        // Named: all of them open now. Not named: only those the fetch came after are judged.
        const out = named ? held.envelopes.splice(0) : spliceWhile(held.envelopes, (e) => e.seq <= startedAfter);
        this.give(out, !named);
        if (!held.envelopes.length) break;
        continue; // later arrivals: one more fetch, begun after them
      }
      const now = this.deps.clock.now();
      const expired = spliceWhile(held.envelopes, (e) => now - e.at >= (this.deps.maxMs ?? DEVICE_HOLD_MAX_MS));
      if (expired.length) {
        this.count -= expired.length;
        this.deps.metrics.inc('devices.hold_expired', {}, expired.length);
        this.log.warn('no device list fetched in time: envelopes left unacknowledged', { envelopes: expired.length });
        for (const e of expired) e.pending.settle('failed');
      }
      if (!held.envelopes.length) break;
      await this.pause(DEVICE_HOLD_RETRY_MS);
    }
    held.running = false;
    if (!held.envelopes.length && this.devices.get(key) === held) this.devices.delete(key);
  }

  private give(out: readonly HeldEnvelope[], checked: boolean): void {
    if (!out.length) return;
    this.count -= out.length;
    this.deps.metrics.inc(checked ? 'devices.hold_refused' : 'devices.hold_opened', {}, out.length);
    this.deps.release(out.map((e) => (checked ? { incoming: e.pending.incoming, settle: (r) => e.pending.settle(r), deviceChecked: true as const } : e.pending)));
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.deps.clock.setTimeout(() => {
        this.timers.delete(cancel);
        resolve();
      }, ms);
      this.timers.add(cancel);
    });
  }
}

function keyOf(account: Uint8Array, device: Uint8Array): string {
  return `${toHex(account)}/${toHex(device)}`;
}

/** Removes and returns the leading elements that satisfy `test`. */
function spliceWhile<T>(items: T[], test: (item: T) => boolean): T[] {
  let n = 0;
  while (n < items.length && test(items[n]!)) n++;
  return items.splice(0, n);
}
