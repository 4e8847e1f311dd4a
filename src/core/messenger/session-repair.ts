/**
 * Session repair (docs/PROTOCOL.md §12.8): a message this device cannot decrypt is asked
 * for again, and a message a contact could not decrypt is sent again from the copy kept
 * when it was queued.
 *
 *   requester  An envelope from a known contact that fails for a reason a new session
 *              mends (no session, a session that lost step, a prekey we no longer hold)
 *              is recorded as processed as before, and in the same commit a retry request
 *              `retry{ids}` naming its envelope id is queued for the sending device as a
 *              `repair` job. The session starter encrypts it under a FRESH session started
 *              from that device's published bundle (the session we hold is what failed),
 *              unless the current session is one we started that has had no answer yet.
 *   sender     A retry request from a contact device is answered, for each id, from the
 *              kept copy (store `resendable`) if that copy went to this contact (and this
 *              device, or the account mailbox), is younger than RESEND_RETENTION_MS, was
 *              sent again fewer than MAX_RESENDS times and its message was not deleted for
 *              everyone. The copy is encrypted with the session the request came on (it is
 *              the requester's fresh session, now current) under a NEW envelope id (the
 *              requester's dedup marks hold the old one) with the SAME content, so the same
 *              message id: it shows once. The kept copy moves to the new envelope id with
 *              `resends` + 1, in the batch's one transaction.
 *
 * No loops: a retry request is never kept for resend, so one that cannot be read is not
 * answered by another; a copy is sent again at most MAX_RESENDS times; each failed envelope
 * is asked for once (it is dedup-marked with the request). Every refusal is counted.
 */
import { fromHex, toHex } from '../bytes.ts';
import { MAX_RESENDS, RESEND_RETENTION_MS, type ContactRecord, type RepairJob, type ResendableRecord } from '../store/index.ts';
import { deviceOfSessionKey } from '../store/session-key.ts';
import { deviceMailboxAddress, encodeContent, mailboxAddress, MAX_ACK_IDS } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';

/**
 * Failure kinds a fresh session mends: the message is intact, our state is what is missing
 * or out of step. (A replay, garbage, a foreign or superseded identity are never asked for.)
 */
export const REPAIRABLE_FAILURES: ReadonlySet<string> = new Set([
  'no_session',
  'authentication_failed',
  'invalid_header',
  'skip_limit_exceeded',
  'session_mismatch',
  'unknown_prekey',
]);

/** The sending device of an envelope we could not decrypt. */
export interface RepairTarget {
  readonly contact: ContactRecord;
  /** Hex device id of a multi-device contact; absent for a single-device one. */
  readonly device?: string;
}

/** The retry requests one batch queues, per sending device. */
export class RetryRequests {
  private readonly byTarget = new Map<string, { readonly target: RepairTarget; readonly ids: Uint8Array[] }>();

  /** Asks `target` for `envelopeId` again, if `reason` is one a fresh session mends. True when asked. */
  add(ctx: MessengerContext, target: RepairTarget, envelopeId: Uint8Array, reason: string): boolean {
    if (!REPAIRABLE_FAILURES.has(reason) || target.contact.blocked) return false;
    const key = `${target.contact.id}:${target.device ?? ''}`;
    let entry = this.byTarget.get(key);
    if (!entry) this.byTarget.set(key, (entry = { target, ids: [] }));
    entry.ids.push(envelopeId);
    ctx.metrics.inc('repair.requested', { reason });
    return true;
  }

  /** The contacts asked in this batch. */
  contacts(): string[] {
    return [...new Set([...this.byTarget.values()].map((e) => e.target.contact.id))];
  }

  /** The `repair` jobs: one `retry` content per device per MAX_ACK_IDS ids. */
  jobs(ctx: MessengerContext): RepairJob[] {
    const jobs: RepairJob[] = [];
    for (const { target, ids } of this.byTarget.values()) {
      const { contact, device } = target;
      const mailbox = device ? deviceMailboxAddress(contact.identityKey, fromHex(device)) : mailboxAddress(contact.identityKey);
      for (let i = 0; i < ids.length; i += MAX_ACK_IDS) {
        const plaintext = encodeContent({ t: 'retry', ids: ids.slice(i, i + MAX_ACK_IDS) });
        jobs.push({ envelopeId: toHex(ctx.random.bytes(16)), contactId: contact.id, ...(device ? { device } : {}), mailbox, plaintext });
      }
    }
    return jobs;
  }
}

export type ResendRefusal = 'not_retained' | 'not_yours' | 'expired' | 'limit' | 'deleted';

/**
 * The kept copies a contact device's retry request may have again (the checks of the file
 * comment); each refusal counted as `repair.resend_refused{reason}`. `claimed` holds the
 * ids already answered in this lane turn (their move is not committed yet) and is extended.
 */
export async function admitRetryRequest(
  ctx: MessengerContext,
  request: { readonly contactId: string; readonly sessionKey: string; readonly ids: readonly Uint8Array[]; readonly now: number },
  claimed: Set<string>,
): Promise<ResendableRecord[]> {
  const device = deviceOfSessionKey(request.sessionKey);
  const ids = [...new Set(request.ids.map(toHex))];
  const kept = new Map((await ctx.store.resendable(ids.filter((id) => !claimed.has(id)))).map((r) => [r.envelopeId, r]));
  const admitted: ResendableRecord[] = [];
  for (const id of ids) {
    const record = kept.get(id);
    const refusal = await refusalOf(ctx, record, request.contactId, device, request.now);
    if (refusal) {
      ctx.metrics.inc('repair.resend_refused', { reason: refusal });
      ctx.log.info('retry request not answered', { contact: request.contactId.slice(0, 8), reason: refusal });
      continue;
    }
    claimed.add(id);
    admitted.push(record!);
  }
  return admitted;
}

async function refusalOf(ctx: MessengerContext, record: ResendableRecord | undefined, contactId: string, device: string | undefined, now: number): Promise<ResendRefusal | undefined> {
  if (!record) return 'not_retained';
  if (record.contactId !== contactId || (record.device !== undefined && record.device !== device)) return 'not_yours';
  if (now - record.at > RESEND_RETENTION_MS) return 'expired';
  if (record.resends >= MAX_RESENDS) return 'limit';
  // A deleted message is not sent again; an action on it is (the delete itself may be what failed).
  if (!record.action && (await ctx.store.getMessage(record.messageId))?.deleted) return 'deleted';
  return undefined;
}
