/**
 * What a receipt (delivered, read) does to one of our message rows, as a pure function:
 * the receive commit applies it (incoming-batch.ts), and the view projection shows the
 * same move while that commit is still in flight (view-projection.ts `preview`).
 *
 * Receipts only move our own messages to the sender, and only forward; anything else is a
 * harmless no-op. The sending device's own state (a multi-device contact) is kept even
 * when the message's best state is already past it.
 */
import { bestStatus, withDeviceReceipt } from './device-receipts.ts';
import { withoutFailedAccountCopy, withoutFailedDevice } from './failed-devices.ts';
import { isForwardStatus } from './message-status.ts';
import type { MessageRecord } from './records.ts';
import type { StatusUpdate } from './store-api.ts';

export interface ReceiptMoved {
  readonly row: MessageRecord;
  /**
   * The row's outbox entry, to remove: delivered while still queued (the relay's ack was
   * lost) or after it was given up on. Only for a message that went as one copy (a receipt
   * without a device): the row's envelope id names the copy to that contact.
   */
  readonly dequeue?: string;
  /**
   * A receipt from one device of a multi-device contact for a message still queued or
   * failed: only that device's copy is done (removed if still in the outbox). The row's
   * envelope id names the copy to the first device of the fan-out, which may still be
   * waiting its turn: removing that one lost the message on its device (chaos scenario 11).
   * Also, whatever the message's state, for a device whose copy was given up on
   * (`failedDevices`): it has the message, so its failed copy is done; and for the failed
   * copy to the account mailbox (`failedAccountCopy`, `device` undefined) when the receipt
   * names no device (it came from the contact's account, the reader of that mailbox).
   */
  readonly dequeueCopy?: { readonly contactId: string; readonly seq: number; readonly messageId: string; readonly device: string | undefined };
}

/** `row` after receipt `u` from `sender` at `at`; undefined when the receipt changes nothing. */
export function receiptMove(row: MessageRecord, u: StatusUpdate, sender: string | undefined, at: number): ReceiptMoved | undefined {
  if (row.direction !== 'out' || (sender !== undefined && row.contactId !== sender)) return undefined;
  const deviceReceipts = u.device !== undefined && u.status !== 'sent' ? withDeviceReceipt(row.deviceReceipts, u.device, u.status, at) : row.deviceReceipts;
  // A device whose copy was given up on has the message after all (its ack was lost): that
  // copy is done, whatever the message's best state (failed-devices.ts).
  const recovered = u.device !== undefined && u.status !== 'sent' && row.failedDevices?.includes(u.device) === true ? u.device : undefined;
  // The same for the copy to the account mailbox: a receipt naming no device came from the account that reads it.
  const accountRecovered = u.device === undefined && u.status !== 'sent' && row.failedAccountCopy === true;
  const base = recovered !== undefined ? withoutFailedDevice(row, recovered) : accountRecovered ? withoutFailedAccountCopy(row) : row;
  const copyDone = (device: string | undefined) => ({ dequeueCopy: { contactId: row.contactId, seq: row.order, messageId: row.id, device } });
  const recoveredCopy = recovered !== undefined || accountRecovered ? copyDone(recovered) : {};
  if (!isForwardStatus(row.status, u.status)) {
    if (deviceReceipts === row.deviceReceipts && recovered === undefined && !accountRecovered) return undefined;
    return { row: { ...base, ...(deviceReceipts ? { deviceReceipts } : {}), updatedAt: at }, ...recoveredCopy };
  }
  const { failure: _failure, queuedElsewhere: _elsewhere, ...rest } = base;
  const moved: MessageRecord = { ...rest, status: bestStatus(u.status, deviceReceipts), ...(deviceReceipts ? { deviceReceipts } : {}), updatedAt: at };
  if (!(row.status === 'queued' || row.status === 'failed')) return { row: moved, ...recoveredCopy };
  if (u.device !== undefined) return { row: moved, ...copyDone(u.device) };
  return row.envelopeId ? { row: moved, dequeue: row.envelopeId, ...recoveredCopy } : { row: moved, ...recoveredCopy };
}
