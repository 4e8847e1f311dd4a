/**
 * The copies of one of our messages that were given up on (issue 16), kept on the message
 * row beside its best status: a message delivered to one device still says that another
 * never got it, and still offers Retry. A copy to a device of a multi-device contact is
 * named by its device (`MessageRecord.failedDevices`); a copy to the contact's account
 * mailbox (an outbox entry without `device`) that was not the message's only copy is
 * `MessageRecord.failedAccountCopy`. The outbox's `failed` copies are the truth; the row
 * mirrors them in the same transactions that change them: a copy failing names it, a
 * retry (which requeues every failed copy) clears them all, and a device's receipt (it has
 * the message after all) takes that device out, a receipt naming no device (the account's)
 * the account-mailbox copy (receipt-move.ts).
 */
import type { MessageRecord, OutboxRecord } from './records.ts';

/** `row` with `device` among its failed devices; the same row when it is already there. */
export function withFailedDevice(row: MessageRecord, device: string): MessageRecord {
  const failed = row.failedDevices ?? [];
  if (failed.includes(device)) return row;
  return { ...row, failedDevices: [...failed, device] };
}

/** `row` with its copy to `device` (undefined: to the account mailbox) named as given up on; the same row when it already is. */
export function withFailedCopy(row: MessageRecord, device: string | undefined): MessageRecord {
  if (device !== undefined) return withFailedDevice(row, device);
  return row.failedAccountCopy ? row : { ...row, failedAccountCopy: true };
}

/** `row` without `device` among its failed devices (the field dropped when none is left); the same row when it was not there. */
export function withoutFailedDevice(row: MessageRecord, device: string): MessageRecord {
  if (!row.failedDevices?.includes(device)) return row;
  const rest = row.failedDevices.filter((d) => d !== device);
  const { failedDevices: _all, ...others } = row;
  return rest.length ? { ...others, failedDevices: rest } : others;
}

/** `row` without its account-mailbox copy named as given up on (that copy is gone). */
export function withoutFailedAccountCopy(row: MessageRecord): MessageRecord {
  const { failedAccountCopy: _account, ...rest } = row;
  return rest;
}

/** `row` with no failed copy named (every failed copy requeued). */
export function withoutFailedCopies(row: MessageRecord): MessageRecord {
  const { failedDevices: _devices, failedAccountCopy: _account, ...rest } = row;
  return rest;
}

/**
 * Message row `m` once its copy `entry` was given up on, `others` being its other copies
 * still in the outbox (they share its seq). The row fails only when no copy of it is left
 * that could still go: while another is queued (waiting its turn, or its session) it stays
 * `queued`, and a row past `queued` keeps its best status. The copy is named on the row
 * whatever its status: a copy to a device always, a copy to the account mailbox unless it
 * was the message's only copy and none went out (then `failed` says it all).
 */
export function withCopyFailed(m: MessageRecord, entry: Pick<OutboxRecord, 'device'>, others: readonly Pick<OutboxRecord, 'state'>[], failure: string): MessageRecord {
  const waiting = m.status === 'queued' || m.status === 'failed';
  const row: MessageRecord = m.status === 'queued' && others.every((e) => e.state === 'failed') ? { ...m, status: 'failed', failure } : m;
  if (entry.device === undefined && waiting && !others.length) return row;
  return withFailedCopy(row, entry.device);
}
