/**
 * Marking a conversation read, and the read receipts that tell the sender. Marking rows
 * read and queueing their receipts is one commit (`store.commitRead`), READ_COMMIT_IDS
 * messages at a time: a receipt that failed to encrypt or commit leaves the messages
 * unread for the next try, instead of read here and never reported to the sender.
 *
 * Receipts are encrypted with the contact's current session (session-cipher.ts), MAX_ACK_IDS
 * ids each; none when there is no session to send them with or sending to the contact is
 * blocked (an unacknowledged key change: nothing goes to a key the user has not accepted),
 * the contact is blocked, or it is a message request (contact-state.ts).
 */
import { fromHex, toHex } from '../bytes.ts';
import { encodeContent, mailboxAddress, MAX_ACK_IDS } from '../wire/index.ts';
import type { ReadCommit } from '../store/index.ts';
import { sessionKey } from '../store/session-key.ts';
import type { MessengerContext } from './context.ts';
import { isAccountTarget, targetDevice } from './device-routing.ts';
import { isRequest, sendsReadReceipts } from './contact-state.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

/** Ids per read commit: a handful of receipt envelopes, well inside the store's list limit. */
export const READ_COMMIT_IDS = 8 * MAX_ACK_IDS;

export class ReadReceipts {
  constructor(private readonly ctx: MessengerContext) {}

  /**
   * Marks the unread incoming messages of `contactId` read, all of them or, with `upTo`,
   * those up to and including that message (the newest the reader has seen on screen;
   * later ones stay unread). An `upTo` that is not an unread incoming message of this
   * contact (already read, ours, unknown) marks nothing. Returns how many were newly read.
   */
  markRead(contactId: string, upTo?: string): Promise<number> {
    const { ctx } = this;
    return ctx.lane.run(async () => {
      // A message request stays unread until accepted: reading it tells the sender nothing,
      // and accepting it later marks it read and sends the receipts then.
      const contact = ctx.contacts.byId(contactId);
      if (contact && isRequest(contact)) return 0;
      const unread = await ctx.store.unreadIncoming(contactId);
      // Oldest first: everything up to the one seen (the older unread ones scrolled past).
      const ids = upTo === undefined ? unread : unread.slice(0, unread.indexOf(upTo) + 1);
      let newlyRead = 0;
      for (let i = 0; i < ids.length; i += READ_COMMIT_IDS) {
        const messageIds = ids.slice(i, i + READ_COMMIT_IDS);
        const receipts = await this.receipts(contactId, messageIds);
        newlyRead += (await ctx.store.commitRead({ contactId, at: ctx.clock.now(), messageIds, ...receipts })).length;
      }
      return newlyRead;
    });
  }

  /**
   * The receipt(s) of one `commitRead`: one to a single-device contact, one per device
   * session of a multi-device one, and a `seen` mark to each of our own other devices we
   * have a session with (reading here clears unread there). Runs inside the lane.
   */
  private async receipts(contactId: string, messageIds: readonly string[]): Promise<Pick<ReadCommit, 'receipt' | 'deviceReceipts' | 'ownAccount'>> {
    const { ctx } = this;
    const contact = ctx.contacts.byId(contactId);
    if (!contact) return {};
    const all = ctx.devices ? await ctx.devices.targets(contact.identityKey) : [];
    const targets = all.filter((t) => !t.own);
    const deviceReceipts = [];
    let receipt;
    if (sendsReadReceipts(contact)) {
      const content = (ids: Uint8Array[]) => encodeContent({ t: 'receipt', kind: 'read', ids });
      if (!targets.some((t) => !isAccountTarget(t))) receipt = await this.encrypt(contact.id, contact.identityKey, undefined, mailboxAddress(contact.identityKey), messageIds, content);
      else {
        for (const t of targets) {
          const r = await this.encrypt(contact.id, contact.identityKey, targetDevice(t), t.mailbox, messageIds, content);
          if (r) deviceReceipts.push(r);
        }
      }
    }
    const ownAccount = toHex(ctx.identity.publicKey);
    for (const t of all.filter((x) => x.own)) {
      const r = await this.encrypt(ownAccount, ctx.identity.publicKey, targetDevice(t), t.mailbox, messageIds, (ids) => encodeContent({ t: 'seen', to: contact.identityKey, ids }));
      if (r) deviceReceipts.push(r);
    }
    return { ...(receipt ? { receipt } : {}), ...(deviceReceipts.length ? { deviceReceipts, ownAccount } : {}) };
  }

  /** The session update and outbox entries of one receipt to one session (none without a session). */
  private async encrypt(contactId: string, identityKey: Uint8Array, device: string | undefined, mailbox: Uint8Array, messageIds: readonly string[], encode: (ids: Uint8Array[]) => Uint8Array) {
    const { ctx } = this;
    const key = sessionKey(contactId, device);
    const row = await ctx.store.getSession(key);
    if (!row) return undefined;
    let set = decodeSessionSet(row.state);
    const outboxEntries = [];
    for (let i = 0; i < messageIds.length; i += MAX_ACK_IDS) {
      const content = encode(messageIds.slice(i, i + MAX_ACK_IDS).map(fromHex));
      const out = await encryptFor(ctx, set, identityKey, content);
      set = out.set;
      outboxEntries.push({ envelopeId: toHex(ctx.random.bytes(16)), contactId, ...(device ? { device } : {}), mailbox, envelope: out.envelope });
    }
    return { sessionUpdate: { contactId: key, expectedVersion: row.version, state: encodeSessionSet(set) }, outboxEntries };
  }
}
