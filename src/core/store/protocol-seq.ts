/**
 * The place of a protocol entry (a delivery receipt, a read mark, a re-sent copy, a retry
 * request: no message row) in its contact's queue (`byContactSeq`, queue-heads.ts).
 *
 * Protocol entries take seqs in [0, 1): ahead of every message copy from order 1 on (they
 * hold no compose order, and wait for no one), and in the order they were queued among
 * themselves. The first one queued while none of the contact's are waiting takes 0 (as
 * every protocol entry once did, and entries stored before this rule still have); each
 * later one the contact's highest queued protocol seq plus PROTOCOL_SEQ_STEP. Every
 * commit that queues them reads that highest seq in its own transaction, so the entries
 * of one device's session leave in the order they were encrypted (sessions change only
 * through commits that check their version, one after another), and the ratchet on the
 * other side skips no keys. A seq of 0 ties with a message at order 0 (a conversation's
 * first): there envelope ids decide, as before.
 *
 * No index changes (the seq stays a number): no migration.
 */
import type { TxTable } from './backend.ts';
import { readyOutboxRecord } from './outgoing-commit.ts';
import type { OutboxRecord } from './records.ts';
import type { NewOutboxEntry, PendingProtocolJob } from './store-api.ts';

/** 2^-32: exact in a double below 1, so 2^32 protocol entries of a contact may wait at once. */
export const PROTOCOL_SEQ_STEP = 2 ** -32;

/**
 * The highest protocol seq of `contactId`'s queue (undefined when none is queued). Above 0
 * only protocol entries lie below 1; at 0 also the copies of a conversation's first
 * message (order 0), which do not count.
 */
export async function lastProtocolSeq(outbox: TxTable<'outbox'>, contactId: string): Promise<number | undefined> {
  const [[above], atZero] = await Promise.all([
    outbox.query({ index: 'byContactSeq', lower: [contactId, 0], lowerOpen: true, upper: [contactId, 1], upperOpen: true, direction: 'prev', limit: 1 }),
    outbox.query({ index: 'byContactSeq', lower: [contactId, 0], upper: [contactId, 0] }),
  ]);
  if (above) return above.seq;
  return atZero.some((e) => e.messageId === undefined) ? 0 : undefined;
}

/** A protocol entry's seq counts; a message copy at seq 0 (a conversation's first message) does not. */
function isProtocolSeq(e: OutboxRecord): boolean {
  return e.seq < 1 && (e.seq > 0 || e.messageId === undefined);
}

/**
 * lastProtocolSeq from the start of the contact's queue as a commit already read it
 * (`byContactSeq`, lowest first, at most `limit` entries): protocol entries come first, so
 * the page tells whenever it holds the whole queue or reaches a message copy past seq 0.
 * `unknown` when the page ended among protocol entries.
 */
export function lastProtocolSeqIn(page: readonly OutboxRecord[], limit: number): number | undefined | 'unknown' {
  if (page.length >= limit && page.every((e) => e.seq < 1)) return 'unknown';
  const protocol = page.filter(isProtocolSeq);
  return protocol.length ? Math.max(...protocol.map((e) => e.seq)) : undefined;
}

/** Hands out the next protocol seqs of the contacts one commit queues protocol entries for. */
export class ProtocolSeqs {
  private readonly last: Map<string, number | undefined>;

  /** `last`: each contact's highest queued protocol seq as the commit found it (lastProtocolSeq). */
  constructor(last: ReadonlyMap<string, number | undefined>) {
    this.last = new Map(last);
  }

  /**
   * Reads the highest queued protocol seq of each of `contactIds` (concurrently). `known`:
   * the start of some of those queues the commit read already (at most `limit` entries
   * each): they are judged from it, and read again only when it cannot tell.
   */
  static async read(outbox: TxTable<'outbox'>, contactIds: Iterable<string>, known?: { readonly queues: ReadonlyMap<string, readonly OutboxRecord[] | undefined>; readonly limit: number }): Promise<ProtocolSeqs> {
    const unique = [...new Set(contactIds)];
    const lasts = await Promise.all(
      unique.map((c) => {
        const page = known?.queues.get(c);
        const last = page ? lastProtocolSeqIn(page, known!.limit) : 'unknown';
        return last === 'unknown' ? lastProtocolSeq(outbox, c) : last;
      }),
    );
    return new ProtocolSeqs(new Map(unique.map((c, i) => [c, lasts[i]])));
  }

  /** `e` as a ready protocol entry of its contact, behind the ones queued so far. */
  record(e: NewOutboxEntry, now: number): OutboxRecord {
    return { ...readyOutboxRecord(e, now), seq: this.next(e.contactId) };
  }

  /** `job` as a `pending_session` protocol entry of its contact (content waiting for a session), behind the ones queued so far. */
  pending(job: PendingProtocolJob, now: number): OutboxRecord {
    return {
      envelopeId: job.envelopeId,
      contactId: job.contactId,
      ...(job.device !== undefined ? { device: job.device } : {}),
      mailbox: job.mailbox.slice(),
      state: 'pending_session',
      plaintext: job.plaintext.slice(),
      ...(job.keep ? { keep: true as const } : {}),
      seq: this.next(job.contactId),
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
    };
  }

  /** The next entry of `contactId`, behind every protocol entry of it queued so far. */
  next(contactId: string): number {
    const last = this.last.get(contactId);
    // Past 1 - STEP (never in practice: 2^32 entries waiting) the seq stays put: equal seqs go in envelope-id order.
    const seq = last === undefined ? 0 : Math.min(last + PROTOCOL_SEQ_STEP, 1 - PROTOCOL_SEQ_STEP);
    this.last.set(contactId, seq);
    return seq;
  }
}
