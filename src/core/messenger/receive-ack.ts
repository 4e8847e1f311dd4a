/**
 * Receive step 5, acknowledgement: only after a batch's transaction committed does its
 * state become the running core's (prekey pool, contacts) and are its envelopes settled
 * with the ingress guard, which acknowledges them to the relay or peer. Then the
 * decrypted signals go to the direct path and the owner hears what the batch changed.
 */
import type { IncomingResult } from '../store/index.ts';
import type { RtcContent } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import type { DirectPeer } from './direct-path.ts';
import type { Prepared } from './receive-batch.ts';

export interface ReceiveHooks {
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
  }): void;
  /** A decrypted WebRTC signaling payload from one device of a contact (after its commit). */
  rtc?(from: DirectPeer, content: RtcContent): void;
  /** The batch put group frames in the group inbox (store/group-inbox.ts): the group parts take them now. */
  groupInbox?(): void;
  /** Contacts this batch created (a first message from someone unknown: a message request), after its commit. */
  contactsAppeared?(identityKeys: readonly Uint8Array[]): void;
}

/** After a batch's commit: its state becomes the context's, its envelopes are acknowledged. */
export function acknowledgeCommitted(ctx: MessengerContext, hooks: ReceiveHooks, prepared: Prepared, results: readonly IncomingResult[]): void {
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
  hooks.committed({ envelopes: results.filter((r) => r === 'committed').length, messages: prepared.messages, receipts: prepared.receipts, delivered, repairs: prepared.repairs, ...(prepared.ownName ? { ownName: prepared.ownName } : {}) });
}
