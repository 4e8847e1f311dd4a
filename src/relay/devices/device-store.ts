import type { DeviceEntry } from '../../core/wire/index.ts';

/** An account's device list as the relay keeps it: the signed bytes, verified before they were stored. */
export interface StoredDeviceList {
  readonly version: number;
  readonly body: Uint8Array;
  readonly sig: Uint8Array;
}

/** A verified list to store, with the devices its body names. */
export interface DeviceListUpdate extends StoredDeviceList {
  readonly devices: readonly DeviceEntry[];
}

export type DeviceListPublishOutcome =
  /** Stored; `removed` are the device ids of the previous list that this one no longer has (unlinked). */
  | { readonly ok: true; readonly removed: readonly Uint8Array[] }
  /** Another list at this version or a newer one was stored first (a race, or a replay): nothing changed. */
  | { readonly ok: false; readonly reason: 'stale'; readonly version: number };

/**
 * Signed device lists per account, the keys of the devices they name, and the mailboxes of
 * unlinked devices. Signatures are checked before `publish` is called (judgeDeviceList);
 * the store keeps versions strictly increasing under concurrency and applies an unlink
 * atomically. An account with no list is a single-device account: its one mailbox is
 * mailboxAddress(IK), as before devices existed.
 */
export interface DeviceStore {
  get(account: Uint8Array): Promise<StoredDeviceList | undefined>;
  /**
   * In ONE transaction: refuses (`stale`) unless `update.version` is above the stored one;
   * stores the list; and for every device of the previous list missing from this one,
   * deletes what waits in its mailbox, deletes its prekeys, and records its mailbox as
   * closed (a device's mailbox and prekey key: deviceMailboxAddress(IK, device id)).
   */
  publish(account: Uint8Array, update: DeviceListUpdate, now: number): Promise<DeviceListPublishOutcome>;
  /** The device key the current list gives `deviceId` of `account`, or undefined (never listed, or unlinked). */
  deviceKey(account: Uint8Array, deviceId: Uint8Array): Promise<Uint8Array | undefined>;
  /** Was `mailbox` the mailbox of a device since unlinked? (Closed mailboxes never reopen: device ids are not reused.) */
  isClosed(mailbox: Uint8Array): Promise<boolean>;
}
