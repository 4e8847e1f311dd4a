/**
 * Covering the devices a message missed (docs/PROTOCOL.md §13.5, "A send to a stale device
 * set"): the relay refused a copy because the contact's device list moved on since the
 * message was fanned out. In ONE transaction: every device of the contact's current list
 * that the message has no copy for yet — none queued (outbox) and none already sent (the
 * copies kept for resend, `resendable`, written with each copy) — gets a `pending_session`
 * job in the message's place in the contact's queue; every copy of the message still
 * queued for the contact is marked with the new list version (so it goes again at once); a
 * copy to the contact's account mailbox is removed (an account with a list reads device
 * mailboxes only). A device that already has a copy never gets a second one.
 */
import type { BackendTx } from './backend.ts';
import { InvalidStoreInputError, RecordNotFoundError } from './errors.ts';
import { withoutFailedAccountCopy } from './failed-devices.ts';
import { resendableRecord } from './outgoing-commit.ts';
import type { OutboxRecord, ResendableRecord } from './records.ts';
import { checkDeviceHex } from './session-key.ts';
import { checkListVersion } from './validate-commits.ts';
import { checkArray, checkBytes, checkContactId, checkId128, checkObject } from './validate.ts';

export const DEVICE_COVER_STORES = ['messages', 'outbox', 'resendable'] as const;
/** A device list names at most 10 devices (§13.3). */
const COVER_DEVICES_MAX = 10;

export interface DeviceCoverCommit {
  readonly messageId: string;
  readonly contactId: string;
  /** The version of the contact's verified list the devices come from. */
  readonly listVersion: number;
  /** Every device of that list, each with a fresh envelope id for the copy it may need. */
  readonly devices: readonly { readonly device: string; readonly mailbox: Uint8Array; readonly envelopeId: string }[];
  /** The message's content, for when no copy's kept record holds it as first encrypted (which is used when there). */
  readonly plaintext: Uint8Array;
  /**
   * The envelope id of the copy the relay refused. Its kept record names when the message's
   * copies were kept, even when the copy itself has left the outbox since (its device's
   * receipt, or the direct path, took it) and no other copy is queued.
   */
  readonly refused?: string;
}

export interface DeviceCoverResult {
  /** Devices that got a new copy (a pending job). */
  readonly added: number;
  /** Copies still queued that now carry the new version. */
  readonly requeued: number;
  /** Copies to the account mailbox removed. */
  readonly dropped: number;
}

export function checkDeviceCover(c: DeviceCoverCommit): void {
  checkObject('commit', c);
  checkId128('messageId', c.messageId);
  checkContactId('contactId', c.contactId);
  checkListVersion('listVersion', c.listVersion);
  checkCoverDevices(c.devices);
  checkBytes('plaintext', c.plaintext);
  if (c.refused !== undefined) checkId128('refused', c.refused);
}

/** The devices a cover adds (this file's and copy-cover-commit.ts's): at most one list's worth, each once, each well formed. */
export function checkCoverDevices(devices: DeviceCoverCommit['devices']): void {
  checkArray<DeviceCoverCommit['devices'][number]>('devices', devices, COVER_DEVICES_MAX).forEach((d, i) => {
    checkObject(`devices[${i}]`, d);
    checkDeviceHex(`devices[${i}].device`, d.device);
    checkBytes(`devices[${i}].mailbox`, d.mailbox, 32);
    checkId128(`devices[${i}].envelopeId`, d.envelopeId);
  });
  if (new Set(devices.map((d) => d.device)).size !== devices.length) throw new InvalidStoreInputError('devices', 'a device appears twice');
}

export async function applyDeviceCover(tx: BackendTx, c: DeviceCoverCommit, now: number): Promise<DeviceCoverResult> {
  const outbox = tx.table('outbox');
  const resendable = tx.table('resendable');
  const m = await tx.table('messages').get(c.messageId);
  if (!m || m.contactId !== c.contactId || m.direction !== 'out') throw new RecordNotFoundError('messages', c.messageId);
  const queued = (await outbox.query({ index: 'byContactSeq', lower: [c.contactId, m.order], upper: [c.contactId, m.order] })).filter((e) => e.messageId === m.id);
  // The copies already sent are known by what was kept for resend: every copy of one message
  // is kept under the time its first copies were queued. That time is read from the kept
  // record of any copy still known by its id — the refused one (which may have left the
  // outbox since), each one queued, the first one (its id is the message's) — as one alone
  // may be gone: the first copy's record moves to a new id when its device asks for it again.
  const candidates = [...new Set([...(c.refused !== undefined ? [c.refused] : []), ...queued.map((e) => e.envelopeId), m.id])];
  const kept = (await Promise.all(candidates.map((id) => resendable.get(id)))).filter((r): r is ResendableRecord => r !== undefined && isCopyOf(r, m.id, c.contactId));
  const keptAt = [...new Set(kept.map((r) => r.at))];
  const sent = (await Promise.all(keptAt.map((at) => resendable.query({ index: 'byAt', lower: at, upper: at })))).flat().filter((r) => isCopyOf(r, m.id, c.contactId));
  const keptFor = kept[0];
  // The content as the other copies carried it when first encrypted: the row may have been
  // edited since (the edit follows as its own copy, and must not find the text already changed).
  const plaintext = keptFor?.plaintext ?? c.plaintext;
  const covered = new Set<string>([...queued.map((e) => e.device ?? ''), ...sent.map((r) => r.device ?? '')]);
  const fresh = await Promise.all(c.devices.map((d) => outbox.get(d.envelopeId)));
  if (fresh.some((e) => e)) throw new InvalidStoreInputError('devices.envelopeId', 'an outbox entry with this id exists');
  const jobs: OutboxRecord[] = c.devices
    .filter((d) => !covered.has(d.device))
    .map((d) => ({
      envelopeId: d.envelopeId,
      messageId: m.id,
      contactId: c.contactId,
      device: d.device,
      mailbox: d.mailbox,
      listVersion: c.listVersion,
      state: 'pending_session',
      plaintext,
      seq: m.order,
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    }));
  // Never the last copy: the account-mailbox copy goes only when device copies take its place.
  const toAccount = jobs.length + queued.filter((e) => e.device !== undefined).length > 0 ? queued.filter((e) => e.device === undefined) : [];
  const requeued = queued.filter((e) => e.device !== undefined);
  const at = keptFor?.at ?? now;
  await Promise.all([
    ...jobs.map((j) => outbox.put(j)),
    ...jobs.map((j) => resendable.put(resendableRecord(j, m.id, plaintext, at))),
    ...requeued.map((e) => outbox.put({ ...e, listVersion: c.listVersion, nextAttemptAt: now })),
    ...toAccount.map((e) => outbox.delete(e.envelopeId)),
    // A failed account-mailbox copy removed is no longer one to retry: the row stops naming it.
    ...(toAccount.length && m.failedAccountCopy ? [tx.table('messages').put({ ...withoutFailedAccountCopy(m), updatedAt: now })] : []),
  ]);
  return { added: jobs.length, requeued: requeued.length, dropped: toAccount.length };
}

/** A kept copy of message `messageId` to `contactId` (an edit or reaction of it, kept under its id too, is not one). */
function isCopyOf(r: ResendableRecord, messageId: string, contactId: string): boolean {
  return r.messageId === messageId && r.contactId === contactId && r.action !== true;
}
