/**
 * Delivery receipts to every device of a multi-device contact (docs/PROTOCOL.md §13.5): a
 * message from one of its devices gets its delivery receipt from the receive commit, to
 * that device; the contact's other devices we have a session with get the same receipt
 * here, right after the commit, so the copy each of them holds (its own sent transcript)
 * shows delivered too. One transaction per device: the advanced session and the receipt's
 * outbox entry (store `commitOutgoing`), on the serial lane. A device without a session
 * yet gets none (its status then follows the read receipt, which goes to every device).
 */
import { fromHex, toHex } from '../bytes.ts';
import { sessionKey } from '../store/session-key.ts';
import { deviceMailboxAddress, encodeContent, MAX_ACK_IDS } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import type { DeliveredFrom } from './receive-batch.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

/** Sends the receipts of `from` to the contacts' other devices; returns how many receipts were queued (never throws). */
export async function sendSiblingReceipts(ctx: MessengerContext, from: readonly DeliveredFrom[]): Promise<number> {
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
            const row = await ctx.store.getSession(key);
            if (!row) break;
            const receipt = encodeContent({ t: 'receipt', kind: 'delivered', ids: d.ids.slice(i, i + MAX_ACK_IDS) });
            const { set, envelope } = await encryptFor(ctx, decodeSessionSet(row.state), contact.identityKey, receipt);
            await ctx.store.commitOutgoing({
              sessionUpdate: { contactId: key, expectedVersion: row.version, state: encodeSessionSet(set) },
              outboxEntry: { envelopeId: toHex(ctx.random.bytes(16)), contactId: contact.id, device, mailbox: deviceMailboxAddress(contact.identityKey, fromHex(device)), envelope },
            });
            queued++;
          }
        }
      }
    });
  } catch (err) {
    ctx.metrics.inc('devices.sibling_receipt_failed');
    ctx.log.warn('delivery receipt to a sibling device not queued', { error: err instanceof Error ? err.name : 'unknown' });
  }
  if (queued) ctx.metrics.inc('devices.sibling_receipts', {}, queued);
  return queued;
}
