/**
 * Delivery and read state per device of a multi-device contact (issue 16, docs/PROTOCOL.md
 * §13.5): an outgoing message fans out to every device of the contact, and each device's
 * receipt is kept on the message row under that device's id (hex), with the time it came.
 * A device's state moves forward only (delivered → read); a replayed or late receipt is a
 * no-op. The message's own `status` is the best state across the devices: the first
 * device that has it delivered makes the message delivered, the first that read it makes
 * it read (never backwards, see message-status.ts).
 */
import { isForwardStatus, type MessageStatus } from './message-status.ts';

export type DeviceReceiptStatus = 'delivered' | 'read';

/** One device's state of one of our messages, and when its receipt was committed (ms since epoch). */
export interface DeviceReceipt {
  readonly status: DeviceReceiptStatus;
  readonly at: number;
}

/** Per device id (32 hex chars). */
export type DeviceReceipts = Readonly<Record<string, DeviceReceipt>>;

/** At most this many devices per message row (a contact lists at most 10; a few removed ones may linger). */
export const MAX_DEVICE_RECEIPTS = 32;

/** The best state: `status` moved forward by the best state any device reports. */
export function bestStatus(status: MessageStatus, receipts: DeviceReceipts | undefined): MessageStatus {
  let best = status;
  for (const r of Object.values(receipts ?? {})) if (isForwardStatus(best, r.status)) best = r.status;
  return best;
}

/**
 * `receipts` with `device`'s receipt `status` taken at `at`; the same object when it moves
 * nothing (the device already has that state or a later one, or the row is full).
 */
export function withDeviceReceipt(receipts: DeviceReceipts | undefined, device: string, status: DeviceReceiptStatus, at: number): DeviceReceipts | undefined {
  const current = receipts?.[device];
  if (current && !isForwardStatus(current.status, status)) return receipts;
  if (!current && Object.keys(receipts ?? {}).length >= MAX_DEVICE_RECEIPTS) return receipts;
  return { ...receipts, [device]: { status, at } };
}
