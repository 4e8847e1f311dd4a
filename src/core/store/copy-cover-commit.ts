/**
 * Covering the devices a copy without a message row of its own missed (docs/PROTOCOL.md
 * §13.5, "A send to a stale device set"): an action copy (our edit, delete or reaction) to
 * a contact's device, or a copy to one of our own other devices (a sent transcript, an
 * action transcript), refused because the account's device list moved on since it was
 * fanned out. A message's copies to a contact are covered by `coverDevices`
 * (device-cover-commit.ts), which finds them through the message row; these have none, so
 * they are found through what was kept for resend (§12.8): every copy of one fan-out is
 * kept under the same time, the same account, the same message (an action: its target)
 * and the same content.
 *
 * In ONE transaction: every device of the account's current list without a copy — none
 * queued and none already sent, as the kept records say — gets a `pending_session` job
 * with the kept content at the refused copy's place in its queue (and a kept record of its
 * own, under the same time); every copy still queued is marked with the new list version,
 * so it goes again at once; an action's copy to the contact's account mailbox (sent while
 * it had no list, version 0) is removed once device copies take its place. A refused copy that nothing was kept for (pruned) is only
 * marked: its devices cannot be known, and it must not be refused for ever.
 */
import { bytesEqual } from '../bytes.ts';
import type { BackendTx } from './backend.ts';
import { checkCoverDevices, type DeviceCoverResult } from './device-cover-commit.ts';
import { InvalidStoreInputError } from './errors.ts';
import type { OutboxRecord, ResendableRecord } from './records.ts';
import { checkListVersion } from './validate-commits.ts';
import { checkId128, checkObject } from './validate.ts';

export const COPY_COVER_STORES = ['outbox', 'resendable'] as const;

export interface CopyCoverCommit {
  /** The envelope id of the refused copy (an action copy, or a copy to our own device). */
  readonly refused: string;
  /** The version of the account's verified list the devices come from. */
  readonly listVersion: number;
  /** Every device of that list that should hold a copy (for our own account: not this one), each with a fresh envelope id. */
  readonly devices: readonly { readonly device: string; readonly mailbox: Uint8Array; readonly envelopeId: string }[];
}

export function checkCopyCover(c: CopyCoverCommit): void {
  checkObject('commit', c);
  checkId128('refused', c.refused);
  checkListVersion('listVersion', c.listVersion);
  checkCoverDevices(c.devices);
}

export async function applyCopyCover(tx: BackendTx, c: CopyCoverCommit, now: number): Promise<DeviceCoverResult> {
  const outbox = tx.table('outbox');
  const resendable = tx.table('resendable');
  const [entry, kept, fresh] = await Promise.all([outbox.get(c.refused), resendable.get(c.refused), Promise.all(c.devices.map((d) => outbox.get(d.envelopeId)))]);
  // Gone meanwhile (its device's receipt, or a second refusal's cover, took it): nothing to cover.
  if (!entry) return { added: 0, requeued: 0, dropped: 0 };
  if (entry.messageId !== undefined) throw new InvalidStoreInputError('refused', "a message's copy to a contact is covered by coverDevices");
  if (fresh.some((e) => e)) throw new InvalidStoreInputError('devices.envelopeId', 'an outbox entry with this id exists');
  const siblings = kept ? (await resendable.query({ index: 'byAt', lower: kept.at, upper: kept.at })).filter((r) => sameFanOut(r, kept, entry.contactId)) : [];
  const queued = [entry, ...(await Promise.all(siblings.filter((r) => r.envelopeId !== entry.envelopeId).map((r) => outbox.get(r.envelopeId)))).filter((e): e is OutboxRecord => e !== undefined && e.contactId === entry.contactId && e.state !== 'failed')];
  const covered = new Set<string>([...queued.map((e) => e.device ?? ''), ...siblings.map((r) => r.device ?? '')]);
  const jobs: OutboxRecord[] = kept
    ? c.devices
        .filter((d) => !covered.has(d.device))
        .map((d) => ({
          envelopeId: d.envelopeId,
          contactId: entry.contactId,
          device: d.device,
          mailbox: d.mailbox,
          listVersion: c.listVersion,
          state: 'pending_session',
          plaintext: kept.plaintext,
          seq: entry.seq,
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
        }))
    : [];
  // An action's copy to the account mailbox (the contact had no list): an account with a list
  // reads only device mailboxes, so it goes once device copies take its place, never before.
  const toAccount = jobs.length + queued.filter((e) => e.device !== undefined).length > 0 ? queued.filter((e) => e.device === undefined) : [];
  const requeued = queued.filter((e) => !toAccount.includes(e));
  await Promise.all([
    ...jobs.map((j) => outbox.put(j)),
    ...jobs.map((j) => resendable.put({ ...kept!, envelopeId: j.envelopeId, device: j.device!, resends: 0 })),
    ...requeued.map((e) => outbox.put({ ...e, listVersion: c.listVersion, nextAttemptAt: now })),
    ...toAccount.map((e) => outbox.delete(e.envelopeId)),
  ]);
  return { added: jobs.length, requeued: requeued.length, dropped: toAccount.length };
}

/** A kept copy of the same fan-out as `kept`: same account, same message or target, the same kind and content. */
function sameFanOut(r: ResendableRecord, kept: ResendableRecord, contactId: string): boolean {
  return r.contactId === contactId && r.messageId === kept.messageId && r.action === kept.action && bytesEqual(r.plaintext, kept.plaintext);
}
