/**
 * Fan-out: which mailboxes one message goes to (docs/PROTOCOL.md §13.5). Every device of
 * the recipient, and every OTHER device of the sender (so what is sent on one device
 * appears on all of them). An account without a device list is one device on its account
 * mailbox. Pure: the caller passes device lists it has already verified.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import { deviceMailboxAddress, mailboxAddress, type DeviceListBody } from '../wire/index.ts';
import { ForeignDeviceListError } from './errors.ts';

/** One copy of a message: to whose device, at which mailbox. `deviceId` absent: a single-device account. */
export interface FanOutTarget {
  readonly account: Uint8Array;
  readonly deviceId?: Uint8Array;
  readonly mailbox: Uint8Array;
  /** True for a copy to one of the sender's own other devices. */
  readonly own: boolean;
}

export interface FanOutInput {
  /** The sender's account identity key and this device's id (undefined on a single-device account). */
  readonly ownAccount: Uint8Array;
  readonly ownDeviceId?: Uint8Array;
  /** The sender's verified device list, if the account has one. */
  readonly ownList?: DeviceListBody;
  readonly contactAccount: Uint8Array;
  /** The contact's verified device list, if the contact has one. */
  readonly contactList?: DeviceListBody;
}

/**
 * The targets of one message, contact's devices first (in list order), then the sender's
 * other devices; each mailbox once (a note to self does not go twice to a device, and
 * never to the sending device). ForeignDeviceListError if a list is not the account's.
 */
export function fanOutTargets(input: FanOutInput): FanOutTarget[] {
  const { ownAccount, ownDeviceId, ownList, contactAccount, contactList } = input;
  if (ownList && !bytesEqual(ownList.account, ownAccount)) throw new ForeignDeviceListError('own device list names another account');
  if (contactList && !bytesEqual(contactList.account, contactAccount)) throw new ForeignDeviceListError('contact device list names another account');
  const sender = ownDeviceId ? deviceMailboxAddress(ownAccount, ownDeviceId) : mailboxAddress(ownAccount);
  const seen = new Set<string>([toHex(sender)]);
  const out: FanOutTarget[] = [];
  const add = (t: FanOutTarget) => {
    const key = toHex(t.mailbox);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(t);
  };
  for (const t of accountTargets(contactAccount, contactList, false)) add(t);
  if (ownList) for (const t of accountTargets(ownAccount, ownList, true)) add(t);
  return out;
}

function accountTargets(account: Uint8Array, list: DeviceListBody | undefined, own: boolean): FanOutTarget[] {
  if (!list) return [{ account, mailbox: mailboxAddress(account), own }];
  return list.devices.map((d) => ({ account, deviceId: d.id, mailbox: deviceMailboxAddress(account, d.id), own }));
}
