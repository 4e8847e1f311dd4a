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

/** Hands out the next protocol seqs of the contacts one commit queues protocol entries for. */
export class ProtocolSeqs {
  private readonly last: Map<string, number | undefined>;

  /** `last`: each contact's highest queued protocol seq as the commit found it (lastProtocolSeq). */
  constructor(last: ReadonlyMap<string, number | undefined>) {
    this.last = new Map(last);
  }

  /** Reads the highest queued protocol seq of each of `contactIds` (one request each, concurrently). */
  static async read(outbox: TxTable<'outbox'>, contactIds: Iterable<string>): Promise<ProtocolSeqs> {
    const unique = [...new Set(contactIds)];
    const lasts = await Promise.all(unique.map((c) => lastProtocolSeq(outbox, c)));
    return new ProtocolSeqs(new Map(unique.map((c, i) => [c, lasts[i]])));
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
