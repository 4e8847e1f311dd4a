/**
 * The head of line of every contact's outbox queue, read from the `byContactSeq`
 * ([contactId, seq]) index: per contact, its lowest-seq entry still to send (`ready` or
 * `pending_session`). `failed` entries wait for a manual retry and hold nobody back.
 *
 * A contact's later entries may go only after its head, whatever their next attempt
 * times: a head pushed back by failures, or still waiting for a session, keeps every
 * later message of that contact waiting (reading "the earliest due entries" instead
 * would let a later message overtake an earlier one that was pushed back).
 *
 * The scan skips from one contact to the next (lower bound [contactId, +∞), open), so
 * it costs about one request per contact with queued entries, however long its queue.
 * Protocol entries (receipts, profile, retry requests) take seqs in [0, 1), in the order
 * they were queued (protocol-seq.ts): only the first of them (seq 0, with a conversation's
 * first message) and the copies of one message to several devices (fan-out) can share a
 * seq with another entry,
 * so a page may end inside a group of equal keys: the next page then restarts at that
 * key, inclusively, skipping the entries already seen.
 */
import type { TxTable } from './backend.ts';
import type { OutboxRecord } from './records.ts';

/** Entries read per request while looking for a contact's head. */
export const HEAD_SCAN_PAGE = 16;

type Cursor = { readonly key: [string, number]; readonly open: true } | { readonly key: [string, number]; readonly open: false; readonly seen: ReadonlySet<string> };

export async function queueHeads(outbox: TxTable<'outbox'>, maxHeads: number): Promise<OutboxRecord[]> {
  const heads: OutboxRecord[] = [];
  let from: Cursor | undefined;
  for (;;) {
    const seen = from && !from.open ? from.seen : undefined;
    const limit = HEAD_SCAN_PAGE + (seen?.size ?? 0);
    const page = await outbox.query({ index: 'byContactSeq', ...(from ? { lower: from.key, lowerOpen: from.open } : {}), limit });
    for (const e of page) {
      if (seen?.has(e.envelopeId) || e.state === 'failed') continue;
      const last = heads.at(-1);
      if (last?.contactId === e.contactId) {
        // Copies of one message to several devices share its seq: one still waiting for its
        // device's session does not hold a copy that is ready (both are the head).
        if (last.state === 'pending_session' && e.state === 'ready' && last.seq === e.seq && last.messageId !== undefined && last.messageId === e.messageId) heads[heads.length - 1] = e;
        continue;
      }
      heads.push(e);
      if (heads.length >= maxHeads) return heads;
    }
    if (page.length < limit) return heads;
    const last = page.at(-1)!;
    if (heads.at(-1)?.contactId === last.contactId) {
      from = { key: [last.contactId, Infinity], open: true };
    } else {
      // No head yet for this contact: go on from its last seq, inclusively (equal keys may follow).
      const key: [string, number] = [last.contactId, last.seq];
      const group = new Set(seen && from!.key[0] === key[0] && from!.key[1] === key[1] ? seen : []);
      for (const e of page) if (e.contactId === key[0] && e.seq === key[1]) group.add(e.envelopeId);
      from = { key, open: false, seen: group };
    }
  }
}
