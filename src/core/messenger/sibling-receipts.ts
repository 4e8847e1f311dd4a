/**
 * Delivery receipts to every device of a multi-device contact (docs/PROTOCOL.md §13.5): a
 * message from one of its devices gets its delivery receipt from the receive commit, to
 * that device; the contact's other devices we have a session with get the same receipt
 * here, right after the commit, so the copy each of them holds (its own sent transcript)
 * shows delivered too. One transaction per device and chunk of ids: the advanced session
 * and the receipt's outbox entry (store `commitOutgoing`), on the serial lane. A device
 * without a session yet gets none (its status then follows the read receipt, which goes
 * to every device).
 *
 * They are not part of the receive transaction (that commit holds one session update per
 * envelope), so a failed one is tried again: the receipts not yet queued, after
 * SIBLING_RECEIPT_RETRY_MS, doubling, SIBLING_RECEIPT_ATTEMPTS times in all
 * (`devices.sibling_receipt_failed` each time, `devices.sibling_receipt_given_up` at the
 * end). Only a stop (or a crash) between the receive commit and these loses them: those
 * messages then show delivered on the contact's other devices once read.
 */
import { fromHex, toHex } from '../bytes.ts';
import { sessionKey } from '../store/session-key.ts';
import { deviceMailboxAddress, encodeContent, MAX_ACK_IDS } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import type { DeliveredFrom } from './receive-batch.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

/** Tries at most, the first included. */
export const SIBLING_RECEIPT_ATTEMPTS = 4;
/** Wait before the first retry (doubled before each next one). */
export const SIBLING_RECEIPT_RETRY_MS = 1_000;

export class SiblingReceipts {
  private readonly timers = new Set<() => void>();
  private stopped = false;

  constructor(
    private readonly ctx: MessengerContext,
    /** Receipts were queued: the outbox sends them. */
    private readonly queued: () => void,
  ) {}

  /** Queues the receipts of `from` to the contacts' other devices; resolves with how many this attempt queued (never throws). */
  send(from: readonly DeliveredFrom[]): Promise<number> {
    return this.attempt(from, new Set(), 1);
  }

  /** No retries after this (the core stops). */
  stop(): void {
    this.stopped = true;
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  /** One attempt; `done` names the (device, chunk) receipts already queued by an earlier one. */
  private async attempt(from: readonly DeliveredFrom[], done: Set<string>, attempt: number): Promise<number> {
    const ctx = this.ctx;
    let queued = 0;
    try {
      await ctx.lane.run(async () => {
        for (const d of from) {
          const contact = ctx.contacts.byId(d.contactId);
          if (!contact || !ctx.devices) continue;
          const siblings = (await ctx.devices.targets(contact.identityKey)).filter((t) => !t.own && t.deviceId && toHex(t.deviceId) !== d.device);
          for (const t of siblings) {
            const device = toHex(t.deviceId!);
            const key = sessionKey(contact.id, device);
            for (let i = 0; i < d.ids.length; i += MAX_ACK_IDS) {
              const job = `${d.device}>${key}#${i}`;
              if (done.has(job)) continue;
              const row = await ctx.store.getSession(key);
              if (!row) break;
              const receipt = encodeContent({ t: 'receipt', kind: 'delivered', ids: d.ids.slice(i, i + MAX_ACK_IDS) });
              const { set, envelope } = await encryptFor(ctx, decodeSessionSet(row.state), contact.identityKey, receipt);
              await ctx.store.commitOutgoing({
                sessionUpdate: { contactId: key, expectedVersion: row.version, state: encodeSessionSet(set) },
                outboxEntry: { envelopeId: toHex(ctx.random.bytes(16)), contactId: contact.id, device, mailbox: deviceMailboxAddress(contact.identityKey, fromHex(device)), envelope },
              });
              done.add(job);
              queued++;
            }
          }
        }
      });
    } catch (err) {
      ctx.metrics.inc('devices.sibling_receipt_failed');
      const error = err instanceof Error ? err.name : 'unknown';
      if (attempt < SIBLING_RECEIPT_ATTEMPTS && !this.stopped) {
        ctx.log.warn('delivery receipt to a sibling device not queued; will retry', { error, attempt });
        const cancel = ctx.clock.setTimeout(() => {
          this.timers.delete(cancel);
          if (!this.stopped) void this.attempt(from, done, attempt + 1);
        }, SIBLING_RECEIPT_RETRY_MS * 2 ** (attempt - 1));
        this.timers.add(cancel);
      } else {
        ctx.metrics.inc('devices.sibling_receipt_given_up');
        ctx.log.warn('delivery receipt to a sibling device given up', { error, attempt });
      }
    }
    if (queued) {
      ctx.metrics.inc('devices.sibling_receipts', {}, queued);
      this.queued();
    }
    return queued;
  }
}
