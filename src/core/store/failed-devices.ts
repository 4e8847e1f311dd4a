/**
 * The devices of a multi-device contact whose copy of one of our messages was given up on
 * (issue 16): kept on the message row (`MessageRecord.failedDevices`) beside its best
 * status, so a message delivered to one device still says that another never got it, and
 * still offers Retry. The outbox's `failed` copies are the truth; this set mirrors them in
 * the same transactions that change them: a copy failing adds its device, a retry (which
 * requeues every failed copy) empties it, and that device's receipt (it has the message
 * after all) takes it out.
 */
import type { MessageRecord } from './records.ts';

/** `row` with `device` among its failed devices; the same row when it is already there. */
export function withFailedDevice(row: MessageRecord, device: string): MessageRecord {
  const failed = row.failedDevices ?? [];
  if (failed.includes(device)) return row;
  return { ...row, failedDevices: [...failed, device] };
}

/** `row` without `device` among its failed devices (the field dropped when none is left); the same row when it was not there. */
export function withoutFailedDevice(row: MessageRecord, device: string): MessageRecord {
  if (!row.failedDevices?.includes(device)) return row;
  const rest = row.failedDevices.filter((d) => d !== device);
  const { failedDevices: _all, ...others } = row;
  return rest.length ? { ...others, failedDevices: rest } : others;
}

/** `row` with no failed devices (every failed copy requeued). */
export function withoutFailedDevices(row: MessageRecord): MessageRecord {
  const { failedDevices: _all, ...rest } = row;
  return rest;
}
