/**
 * Keeps the DeviceListBook current (docs/PROTOCOL.md §13.5): when the relay connection
 * comes up it fetches our account's list and every contact's, and asks the relay to tell
 * it (`devices.watch`) when one of them changes; a `devices.changed` (or a send refused as
 * `device_unlinked`) fetches that account's list again. Each list is judged by the book;
 * a refused one changes nothing and is counted there. A contact's list that adds a device
 * to one we already held is reported (`deviceAdded`): the same identity on one more
 * device, never a key change.
 */
import type { Clock } from '../clock.ts';
import { DeviceError } from '../devices/errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { bytesEqual } from '../bytes.ts';
import { MAX_WATCH_PER_FRAME, type DeviceListBody, type SignedDeviceList } from '../wire/index.ts';
import type { ContactDirectory } from './contact-directory.ts';
import type { DeviceListBook, DeviceListChange } from './device-list-book.ts';

/** What the sync needs of the relay connection. */
export interface DeviceListRelay {
  isOnline(): boolean;
  fetchDeviceList(identityKey: Uint8Array): Promise<SignedDeviceList | undefined>;
  watchDevices(identityKeys: readonly Uint8Array[]): Promise<number>;
}

export interface DeviceSyncEvents {
  /**
   * A known contact's verified list gained `count` devices. `names`: the added devices'
   * names from the signed list, where it names them (none for a first list: which are new is not known).
   */
  deviceAdded(contactId: string, count: number, names?: readonly string[]): void;
  /** A known contact's verified list lost `count` devices (unlinked). */
  deviceRemoved?(contactId: string, count: number): void;
  /** Our own account's verified list changed (a device linked or unlinked). */
  ownListChanged?(list: DeviceListBody): void;
  /** A known contact's verified list changed in any way (a device renamed too): what shows its devices reads them again. */
  contactListChanged?(contactId: string): void;
}

/**
 * Time between two fetches of the connect sweep: the relay's per-IP fetch budget (default
 * 5/s, burst 20) is shared with prekey fetches, which a session start needs at once.
 */
export const DEVICE_SWEEP_GAP_MS = 500;

export class DeviceSync {
  private readonly log: Logger;
  /** Bumped by each sweep and by stop(): an older sweep ends at its next step. */
  private sweep = 0;
  private cancelPause: (() => void) | undefined;

  constructor(
    private readonly deps: {
      readonly account: Uint8Array;
      readonly contacts: ContactDirectory;
      readonly book: DeviceListBook;
      readonly relay: DeviceListRelay;
      readonly clock: Clock;
      readonly metrics: Metrics;
      readonly log: Logger;
      /** Default DEVICE_SWEEP_GAP_MS. */
      readonly sweepGapMs?: number;
    },
    private readonly events: DeviceSyncEvents,
  ) {
    this.log = deps.log.child('device-sync');
  }

  /**
   * The connection is up: watch every contact, then fetch our list and each contact's, one
   * at a time, DEVICE_SWEEP_GAP_MS apart. The fetches share the relay's per-IP fetch budget
   * with prekey fetches, so the sweep stops at the first failed fetch (rate-limited, or the
   * link dropped); the next connection sweeps again, and a newer sweep ends an older one.
   */
  async online(): Promise<void> {
    const run = ++this.sweep;
    const keys = this.deps.contacts.all().map((c) => c.identityKey);
    await this.watch(keys);
    const accounts = [this.deps.account, ...keys];
    for (let i = 0; i < accounts.length; i++) {
      if (i > 0) await this.pause(this.deps.sweepGapMs ?? DEVICE_SWEEP_GAP_MS);
      if (run !== this.sweep) return;
      if ((await this.fetchAndJudge(accounts[i]!)) === 'fetch_failed') return;
    }
  }

  /** Ends a running sweep (the core stops). */
  stop(): void {
    this.sweep++;
    this.cancelPause?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.deps.clock.setTimeout(() => {
        this.cancelPause = undefined;
        resolve();
      }, ms);
      this.cancelPause = () => {
        cancel();
        this.cancelPause = undefined;
        resolve();
      };
    });
  }

  /** A contact was added: watch and fetch it. */
  async contactAdded(identityKey: Uint8Array): Promise<void> {
    await this.watch([identityKey]);
    await this.refresh(identityKey);
  }

  /**
   * Fetches and judges `account`'s list (after `devices.changed`, or a send refused as
   * stale). Undefined when offline, when the account has no list, or when the list was
   * refused (typed and counted by the book); never throws.
   */
  async refresh(account: Uint8Array): Promise<DeviceListChange | undefined> {
    const outcome = await this.fetchAndJudge(account);
    return outcome === 'fetch_failed' || outcome === 'refused' ? undefined : outcome;
  }

  /**
   * Fetches and judges `account`'s list for an envelope from a device the held list does not
   * name (unlisted-device-hold.ts): true when the relay answered and what the book holds now
   * is its answer (a newer list, the same one, or none at all); false when the fetch failed
   * or the list it brought was refused. Never throws.
   */
  async fetchList(account: Uint8Array): Promise<boolean> {
    const outcome = await this.fetchAndJudge(account);
    return outcome !== 'fetch_failed' && outcome !== 'refused';
  }

  private async fetchAndJudge(account: Uint8Array): Promise<DeviceListChange | 'fetch_failed' | 'refused' | undefined> {
    const { relay, metrics } = this.deps;
    if (!relay.isOnline()) return 'fetch_failed';
    let signed: SignedDeviceList | undefined;
    try {
      signed = await relay.fetchDeviceList(account);
    } catch (err) {
      metrics.inc('devices.fetch_failed');
      this.log.warn('device list fetch failed', { error: err instanceof Error ? err.name : 'unknown', code: codeOf(err) });
      return 'fetch_failed';
    }
    if (!signed) return undefined;
    return (await this.judge(account, signed)) ?? 'refused';
  }

  /**
   * Judges a list of `account` that arrived some other way (a send refused as
   * `stale_devices` carries one): the same rules, lines and counters as a fetched one.
   * Undefined when it was refused (typed and counted by the book).
   */
  async judge(account: Uint8Array, signed: SignedDeviceList): Promise<DeviceListChange | undefined> {
    const { book, contacts, metrics } = this.deps;
    let change: DeviceListChange;
    try {
      change = await book.accept(account, signed);
    } catch (err) {
      if (err instanceof DeviceError) return undefined; // counted by the book; the held list stays
      throw err;
    }
    if (change.kind === 'changed' && bytesEqual(account, this.deps.account)) this.events.ownListChanged?.(change.list);
    const contact = change.kind === 'changed' ? contacts.byKey(account) : undefined;
    if (contact && change.kind === 'changed') {
      // A first list issued after we added the contact: a single-device account linked
      // devices meanwhile (all but one are new). One issued before: how they already were.
      const added = change.first ? (change.list.issuedAt > contact.addedAt ? change.list.devices.length - 1 : 0) : change.added.length;
      if (added > 0) {
        metrics.inc('devices.contact_device_added', {}, added);
        this.events.deviceAdded(contact.id, added, change.first ? [] : change.added.flatMap((d) => (d.name !== undefined ? [d.name] : [])));
      }
      if (contact && change.removed.length) {
        metrics.inc('devices.contact_device_removed', {}, change.removed.length);
        this.events.deviceRemoved?.(contact.id, change.removed.length);
      }
      this.events.contactListChanged?.(contact.id);
    }
    return change;
  }

  private async watch(keys: readonly Uint8Array[]): Promise<void> {
    for (let i = 0; i < keys.length; i += MAX_WATCH_PER_FRAME) {
      try {
        await this.deps.relay.watchDevices(keys.slice(i, i + MAX_WATCH_PER_FRAME));
      } catch (err) {
        // Without a watch we still refetch on every reconnect; nothing else depends on it.
        this.log.warn('device watch failed', { error: err instanceof Error ? err.name : 'unknown' });
        return;
      }
    }
  }
}

function codeOf(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}
