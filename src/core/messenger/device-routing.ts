/**
 * What the pipelines ask about devices (docs/PROTOCOL.md §13.5), answered from the device
 * lists this core believes (device-list-book.ts): where one message to a contact goes, and
 * whether a device that writes to us is one the contact's list names.
 */
import { toHex } from '../bytes.ts';
import type { FanOutTarget } from '../devices/fan-out.ts';
import type { OwnDevice } from '../devices/own-device.ts';
import { shownDeviceName } from '../devices/device-name.ts';
import { findDevice, type DeviceListBody } from '../wire/index.ts';
import type { ChatDevice } from './messenger-api.ts';
import type { MessengerContext } from './context.ts';
import type { DeviceListBook } from './device-list-book.ts';

export interface DeviceRouting {
  /** This device's id while our account's list names it (it is then sealed into every box we send). */
  readonly sealDevice?: Uint8Array;
  /** The copies of one message to `contactKey`: its devices (or its account mailbox), our other devices. */
  targets(contactKey: Uint8Array): Promise<FanOutTarget[]>;
  /** The version of `account`'s verified list held here (0: none, a single-device account as far as we know). */
  listVersion(account: Uint8Array): Promise<number>;
  /** Does `account`'s verified list name `deviceId`? (Our own account's list for `account` = us.) */
  names(account: Uint8Array, deviceId: Uint8Array): Promise<boolean>;
  /** Did a list of `account` we held once name `deviceId` (a device since unlinked)? */
  wasListed(account: Uint8Array, deviceId: Uint8Array): Promise<boolean>;
  /** Forget a contact's list-derived routing after a send was refused `device_unlinked` (its list is fetched again). */
  refetch(account: Uint8Array): void;
  /** Fetches `account`'s list again and judges it; true when the relay answered (DeviceSync.fetchList). */
  fetchList(account: Uint8Array): Promise<boolean>;
  /** `account`'s verified list held here (with each device's signed name), if any. */
  list(account: Uint8Array): Promise<DeviceListBody | undefined>;
}

export function deviceRouting(book: DeviceListBook, own: { readonly account: Uint8Array; readonly device: OwnDevice; readonly listed: boolean }, fetchList: (account: Uint8Array) => Promise<boolean>): DeviceRouting {
  return {
    wasListed: (account, deviceId) => book.wasListed(account, deviceId),
    refetch: (account) => void fetchList(account),
    fetchList,
    ...(own.listed ? { sealDevice: own.device.id } : {}),
    targets: (contactKey) => book.targets({ account: own.account, ...(own.listed ? { device: own.device } : {}) }, contactKey),
    listVersion: async (account) => (await book.get(account))?.version ?? 0,
    list: (account) => book.get(account),
    names: async (account, deviceId) => {
      const list = await book.get(account);
      return !!list && !!findDevice(list, deviceId);
    },
  };
}

/** Is this target the account mailbox of a single-device contact (today's one copy)? */
export function isAccountTarget(t: FanOutTarget): boolean {
  return t.deviceId === undefined && !t.own;
}

/** The device of a target as the store keeps it (hex), undefined for an account mailbox. */
export function targetDevice(t: FanOutTarget): string | undefined {
  return t.deviceId ? toHex(t.deviceId) : undefined;
}

/** The devices (hex) contact `contactId`'s list names, in order; undefined for a single-device (or unknown) contact. */
export async function contactDevices(ctx: Pick<MessengerContext, 'contacts' | 'devices'>, contactId: string): Promise<string[] | undefined> {
  const contact = ctx.contacts.byId(contactId);
  if (!contact || !ctx.devices) return undefined;
  const devices = (await ctx.devices.targets(contact.identityKey)).filter((t) => !t.own && t.deviceId).map((t) => toHex(t.deviceId!));
  return devices.length ? devices : undefined;
}

/**
 * The devices a 1:1 chat with `contactId` names (for a message's Details): the contact's
 * devices when it has several, else undefined. The core's own window and every other tab's
 * window (platform/core-protocol/chat-reader.ts) take them from here, so each tab shows the same.
 */
export async function chatDevices(ctx: Pick<MessengerContext, 'contacts' | 'devices'>, contactId: string): Promise<ChatDevice[] | undefined> {
  const devices = await contactDevices(ctx, contactId);
  const contact = ctx.contacts.byId(contactId);
  if (!devices || devices.length < 2 || !contact || !ctx.devices) return undefined;
  const listed = (await ctx.devices.list(contact.identityKey))?.devices ?? [];
  const names = new Map(listed.map((d, i) => [toHex(d.id), shownDeviceName(d.name, i)]));
  return devices.map((id, i) => ({ id, name: names.get(id) ?? shownDeviceName(undefined, i) }));
}
