/**
 * Receive step 5, acknowledgement: only after a batch's transaction committed does its
 * state become the running core's (prekey pool, contacts) and are its envelopes settled
 * with the ingress guard, which acknowledges them to the relay or peer. Then the
 * decrypted signals go to the direct path and the owner hears what the batch changed.
 */
import type { IncomingBatchCommitted, OutboxRecord, StatusUpdate } from '../store/index.ts';
import type { RtcContent } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import type { DirectPeer } from './direct-path.ts';
import type { Prepared } from './receive-batch.ts';

/** One received envelope's receipt status moves, from contact `from`, as its commit applies them at `at` (store receipt-move.ts). */
export interface ReceiptMoves {
  readonly from: string | undefined;
  readonly at: number;
  readonly updates: readonly StatusUpdate[];
}

/** The receipts' status moves a prepared batch's commit carries. */
export function receiptMovesOf(prepared: Prepared): ReceiptMoves[] {
  return prepared.commits.flatMap((c) => (c.statusUpdates?.length ? [{ from: c.from ?? c.sessionUpdate?.contactId ?? c.message?.contactId, at: c.receivedAt, updates: c.statusUpdates }] : []));
}

export interface ReceiveHooks {
  /**
   * A batch's receipts are authenticated (decrypted under the sender's session) and its
   * commit was issued, not yet durable: the view may show their status moves now. Nothing
   * leaves the device on this: the envelopes are acknowledged only after the commit.
   * Followed by `settled` with the same `moves`, once the commit resolved or failed.
   */
  authenticated?(moves: readonly ReceiptMoves[]): void;
  /** The commit of `moves` (from `authenticated`) is durable (`committed` true) or failed, and nothing of it is stored. */
  settled?(moves: readonly ReceiptMoves[], committed: boolean): void;
  /**
   * After each committed batch (refresh the view, kick the outbox for receipts).
   * `delivered`: our messages a delivery receipt of this batch named, with the time the
   * batch committed them (for the delivery latency).
   */
  committed(summary: {
    /** Envelopes newly committed (dedup marks written); duplicates not counted. */
    readonly envelopes: number;
    readonly messages: number;
    readonly receipts: number;
    readonly delivered: readonly { readonly messageId: string; readonly at: number }[];
    /** Contacts asked to send envelopes again: their repair jobs wait for a fresh session. */
    readonly repairs: readonly string[];
    /** Our display name, renamed on another device of ours (now stored). */
    readonly ownName?: string;
    /**
     * Outbox entries the batch queued (delivery receipts) that are their contact's head of
     * line now that the commit is durable (IncomingBatchCommitted.heads): for the outbox
     * to hand over at once.
     */
    readonly heads: readonly OutboxRecord[];
    /**
     * Accounts (contacts, or our own) one of whose devices started a session towards us
     * that this commit stored: what waited for a session with them (pending jobs, our
     * group chains owed to them) can go now, without a start of ours.
     */
    readonly sessionsAccepted: readonly string[];
  }): void;
  /** A decrypted WebRTC signaling payload from one device of a contact (after its commit). */
  rtc?(from: DirectPeer, content: RtcContent): void;
  /** The batch put group frames in the group inbox (store/group-inbox.ts): the group parts take them now. */
  groupInbox?(): void;
  /** Contacts this batch created (a first message from someone unknown: a message request), after its commit. */
  contactsAppeared?(identityKeys: readonly Uint8Array[]): void;
}

/** After a batch's commit: its state becomes the context's, its envelopes are acknowledged. */
export function acknowledgeCommitted(ctx: MessengerContext, hooks: ReceiveHooks, prepared: Prepared, { results, heads }: IncomingBatchCommitted): void {
  if (prepared.pool) ctx.pool = prepared.pool;
  const appeared = prepared.contacts.filter((c) => !ctx.contacts.byId(c.id)).map((c) => c.identityKey);
  for (const c of prepared.contacts) ctx.contacts.remember(c);
  ctx.metrics.inc('receive.envelopes', undefined, prepared.batch.length);
  prepared.batch.forEach((p, i) => p.settle(results[i]!));
  for (const [from, content] of prepared.rtc) hooks.rtc?.(from, content);
  if (prepared.groupFrames) hooks.groupInbox?.();
  if (appeared.length) hooks.contactsAppeared?.(appeared);
  const delivered = prepared.commits.flatMap((c, i) =>
    results[i] === 'committed' ? (c.statusUpdates ?? []).filter((u) => u.status === 'delivered').map((u) => ({ messageId: u.messageId, at: c.receivedAt })) : [],
  );
  // Delivery receipts to the other devices of a multi-device sender, queued by the commit itself.
  if (prepared.siblingReceipts && results.includes('committed')) ctx.metrics.inc('devices.sibling_receipts', {}, prepared.siblingReceipts);
  hooks.committed({ envelopes: results.filter((r) => r === 'committed').length, messages: prepared.messages, receipts: prepared.receipts, delivered, repairs: prepared.repairs, heads, sessionsAccepted: results.includes('committed') ? prepared.sessionsAccepted : [], ...(prepared.ownName ? { ownName: prepared.ownName } : {}) });
}
