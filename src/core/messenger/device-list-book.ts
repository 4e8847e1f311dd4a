/**
 * The device lists this device believes (docs/PROTOCOL.md §13.3, §13.5): the account's own
 * and each contact's, each the last signed list that verified under the identity we know
 * for that account. A list from the relay is judged by the same `verifyDeviceList` the
 * relay uses, against the version held here: an unsigned, foreign, malformed, oversized or
 * stale list is refused with its typed DeviceError, counted in `devices.refused{kind}`,
 * and changes nothing. The same bytes fetched again are `unchanged`, not a refusal.
 *
 * Kept in the store's meta rows (`devices.list.<IK hex>` → body ‖ sig), one row per
 * account, written in one transaction; re-verified when read back.
 */
import { bytesEqual, concatBytes, toHex } from '../bytes.ts';
import { verifyDeviceList } from '../devices/device-list.ts';
import { DeviceError } from '../devices/errors.ts';
import { fanOutTargets, type FanOutTarget } from '../devices/fan-out.ts';
import type { OwnDevice } from '../devices/own-device.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PetrelStore } from '../store/index.ts';
import { SIGNATURE_BYTES, findDevice, type DeviceEntry, type DeviceListBody, type SignedDeviceList } from '../wire/index.ts';

export const META_DEVICE_LIST_PREFIX = 'devices.list.';
/** Meta key prefix: the devices a held list of the account once named and a newer one dropped (hex ids, comma-separated). */
export const META_UNLINKED_DEVICES_PREFIX = 'devices.unlinked.';
/** Unlinked device ids remembered per account (the newest). */
export const UNLINKED_DEVICES_KEPT = 32;

/** What accepting a list changed (`unchanged`: the same list was already held). */
export type DeviceListChange =
  | { readonly kind: 'unchanged'; readonly list: DeviceListBody }
  | { readonly kind: 'changed'; readonly list: DeviceListBody; readonly added: readonly DeviceEntry[]; readonly removed: readonly DeviceEntry[]; readonly first: boolean };

interface Held {
  readonly signed: SignedDeviceList;
  readonly list: DeviceListBody;
}

export class DeviceListBook {
  private readonly held = new Map<string, Held | null>();
  /** Per account (hex): device ids (hex) a held list named and a newer one dropped, oldest first. */
  private readonly unlinked = new Map<string, string[]>();
  private readonly log: Logger;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: PetrelStore,
    private readonly metrics: Metrics,
    log: Logger,
  ) {
    this.log = log.child('devices');
  }

  /** The verified list held for `account`, or undefined (a single-device account, as far as we know). */
  async get(account: Uint8Array): Promise<DeviceListBody | undefined> {
    return (await this.load(account))?.list;
  }

  /**
   * Judges `signed` for `account` against the list held; stores it if it is newer and
   * valid. Throws the DeviceError of the refusal (counted), storing nothing.
   */
  accept(account: Uint8Array, signed: SignedDeviceList): Promise<DeviceListChange> {
    // One judgement at a time: two lists racing for one account are judged in turn, never both against the same old version.
    const next = this.queue.then(() => this.judge(account, signed));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async judge(account: Uint8Array, signed: SignedDeviceList): Promise<DeviceListChange> {
    const held = await this.load(account);
    if (held && bytesEqual(held.signed.body, signed.body) && bytesEqual(held.signed.sig, signed.sig)) return { kind: 'unchanged', list: held.list };
    let list: DeviceListBody;
    try {
      list = verifyDeviceList(signed, account, held?.list.version);
    } catch (err) {
      if (err instanceof DeviceError) {
        this.metrics.inc('devices.refused', { kind: err.kind });
        this.log.warn('device list refused', { kind: err.kind });
      }
      throw err;
    }
    await this.store.setMeta(metaKey(account), concatBytes(signed.body, signed.sig));
    this.held.set(toHex(account), { signed: { body: signed.body.slice(), sig: signed.sig.slice() }, list });
    const before = held?.list.devices ?? [];
    const added = list.devices.filter((d) => !findDevice({ ...list, devices: before }, d.id));
    const removed = before.filter((d) => !findDevice(list, d.id));
    if (removed.length) await this.rememberUnlinked(account, removed);
    this.metrics.inc('devices.list_accepted');
    return { kind: 'changed', list, added, removed, first: held === undefined };
  }

  /** Did a list of `account` held here once name `deviceId`, which a newer one dropped (an unlinked device)? */
  async wasListed(account: Uint8Array, deviceId: Uint8Array): Promise<boolean> {
    return (await this.unlinkedOf(account)).includes(toHex(deviceId));
  }

  private async unlinkedOf(account: Uint8Array): Promise<string[]> {
    const key = toHex(account);
    let ids = this.unlinked.get(key);
    if (!ids) {
      const stored = await this.store.getMeta(META_UNLINKED_DEVICES_PREFIX + key);
      ids = typeof stored === 'string' && stored ? stored.split(',') : [];
      this.unlinked.set(key, ids);
    }
    return ids;
  }

  /** Remembers the devices a newer list dropped (after that list is stored: a lost row only makes a late envelope count as unknown). */
  private async rememberUnlinked(account: Uint8Array, removed: readonly DeviceEntry[]): Promise<void> {
    const ids = await this.unlinkedOf(account);
    for (const d of removed) {
      const id = toHex(d.id);
      if (!ids.includes(id)) ids.push(id);
    }
    ids.splice(0, Math.max(0, ids.length - UNLINKED_DEVICES_KEPT));
    await this.store.setMeta(META_UNLINKED_DEVICES_PREFIX + toHex(account), ids.join(','));
  }

  /**
   * The copies one message to `contact` goes to (fanOutTargets with the lists held here):
   * every device of the contact and this account's other devices. This device counts as
   * one of a multi-device account only while the account's own list names it.
   */
  async targets(own: { readonly account: Uint8Array; readonly device?: OwnDevice }, contact: Uint8Array): Promise<FanOutTarget[]> {
    const ownList = await this.get(own.account);
    const contactList = await this.get(contact);
    const listed = own.device && ownList && findDevice(ownList, own.device.id) ? own.device.id : undefined;
    return fanOutTargets({
      ownAccount: own.account,
      ...(listed ? { ownDeviceId: listed } : {}),
      ...(ownList && listed ? { ownList } : {}),
      contactAccount: contact,
      ...(contactList ? { contactList } : {}),
    });
  }

  private async load(account: Uint8Array): Promise<Held | undefined> {
    const key = toHex(account);
    const cached = this.held.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const stored = await this.store.getMeta(metaKey(account));
    let held: Held | null = null;
    if (stored instanceof Uint8Array && stored.length > SIGNATURE_BYTES) {
      const signed = { body: stored.slice(0, stored.length - SIGNATURE_BYTES), sig: stored.slice(stored.length - SIGNATURE_BYTES) };
      try {
        held = { signed, list: verifyDeviceList(signed, account) };
      } catch (err) {
        // A stored row that no longer verifies is not believed (and is replaced by the next good list).
        this.log.error('stored device list does not verify', { kind: err instanceof DeviceError ? err.kind : 'unknown' });
      }
    }
    this.held.set(key, held);
    return held ?? undefined;
  }
}

function metaKey(account: Uint8Array): string {
  return META_DEVICE_LIST_PREFIX + toHex(account);
}
