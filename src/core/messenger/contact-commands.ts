/**
 * The user's commands about contacts: add one from an invite, show a safety number, mark
 * it verified, acknowledge a key change, rename, block or unblock, accept a message
 * request, delete a conversation (rules: contact-state.ts). Each commits first, then tells its caller what
 * changed (`ContactEvents`); it never reaches back into the object that created it.
 *
 * An invite never changes an existing contact's key (key-change.ts): a different key under
 * a known name becomes a contact of its own, flagged as claiming the other's name and
 * blocked for sending until acknowledged. The existing contact and its conversation are
 * untouched.
 */
import { bytesEqual, fromHex, toHex } from '../bytes.ts';
import { compareScannedSafetyNumber, isValidIdentityKey, MalformedSafetyNumberError, safetyNumber, safetyNumberQrPayload } from '../crypto/index.ts';
import { LOCAL_NAME_MAX_CHARS } from '../store/limits.ts';
import type { ContactChange, ContactRecord } from '../store/index.ts';
import { isRequest } from './contact-state.ts';
import type { MessengerContext } from './context.ts';
import { InvalidContactChangeError, InvalidInviteKeyError, UnknownContactError } from './errors.ts';
import { claimedContact } from './key-change.ts';
import type { Invite, SafetyNumber } from './messenger-api.ts';

export interface ContactEvents {
  /** A contact was added or re-confirmed (committed). */
  added(contactId: string): void;
  /** A contact's key change was acknowledged (committed): its waiting messages may go. */
  keyChangeAcknowledged(contactId: string): void;
  /** A contact was unblocked or accepted (committed): its waiting messages may go. */
  sendingAllowed(contactId: string): void;
  /** What the views show changed. */
  changed(): Promise<void>;
}

function withoutListing(c: ContactRecord): ContactRecord {
  const { listing: _listing, ...rest } = c;
  return rest;
}

export class ContactCommands {
  constructor(
    private readonly ctx: MessengerContext,
    private readonly events: ContactEvents,
  ) {}

  async add(invite: Invite): Promise<string> {
    const { ctx } = this;
    if (bytesEqual(invite.identityKey, ctx.identity.publicKey)) throw new UnknownContactError('that is your own invite');
    if (!isValidIdentityKey(invite.identityKey)) throw new InvalidInviteKeyError('the invite does not carry a usable identity key');
    const now = ctx.clock.now();
    const known = ctx.contacts.byKey(invite.identityKey);
    const claimed = known ? undefined : claimedContact(ctx.contacts.all(), invite.displayName, invite.identityKey);
    // Adding someone from their invite is accepting them: a request (or a deleted
    // conversation's contact) moves to the list.
    const contact: ContactRecord = known
      ? { ...withoutListing(known), displayName: invite.displayName }
      : {
          id: toHex(invite.identityKey),
          displayName: invite.displayName,
          identityKey: invite.identityKey.slice(),
          verification: 'unverified',
          addedAt: now,
          ...(claimed ? { possibleKeyChangeOf: { contactId: claimed.id, detectedAt: now, acknowledged: false } } : {}),
        };
    await ctx.lane.run(async () => {
      await ctx.store.putContact(contact);
      ctx.contacts.remember(contact);
    });
    if (claimed) ctx.metrics.inc('contacts.claimed_name');
    ctx.log.info('contact added', { contact: contact.id.slice(0, 8), claimsNameOf: claimed ? claimed.id.slice(0, 8) : null });
    this.events.added(contact.id);
    await this.events.changed();
    return contact.id;
  }

  /** For a contact id, or the hex identity key of someone not added yet (an invite under review). */
  safetyNumber(contactId: string): SafetyNumber {
    const { ctx } = this;
    const key = ctx.contacts.byId(contactId)?.identityKey ?? (/^[0-9a-f]{64}$/.test(contactId) ? fromHex(contactId) : undefined);
    if (!key) throw new UnknownContactError(contactId);
    return { digits: safetyNumber(ctx.identity.publicKey, key), qr: safetyNumberQrPayload(ctx.identity.publicKey, key) };
  }

  /**
   * Compares the payload scanned from the contact's safety-number code with ours (counted);
   * MalformedSafetyNumberError (counted) for bytes that are no such payload.
   */
  compareSafetyNumber(contactId: string, scanned: Uint8Array): 'match' | 'mismatch' {
    const { ctx } = this;
    const key = ctx.contacts.byId(contactId)?.identityKey;
    if (!key) throw new UnknownContactError(contactId);
    try {
      const result = compareScannedSafetyNumber(ctx.identity.publicKey, key, scanned);
      ctx.metrics.inc(`verify.scan_${result}`);
      return result;
    } catch (err) {
      if (err instanceof MalformedSafetyNumberError) ctx.metrics.inc('verify.scan_malformed');
      throw err;
    }
  }

  async setVerified(contactId: string, verified: boolean): Promise<void> {
    await this.ctx.store.setVerification(contactId, verified ? 'verified' : 'unverified');
    await this.reload(contactId);
  }

  async acknowledgeKeyChange(contactId: string): Promise<void> {
    await this.ctx.store.acknowledgeKeyChange(contactId);
    await this.reload(contactId);
    // Messages that waited for the acknowledgement are encrypted for the new key now.
    this.events.keyChangeAcknowledged(contactId);
  }

  /**
   * Gives the contact a local name shown instead of theirs; an empty (or all white space)
   * name removes it, and their own name shows again. Setting the same name twice is a no-op.
   */
  async rename(contactId: string, name: string): Promise<void> {
    if (typeof name !== 'string') throw new InvalidContactChangeError('the name must be text');
    const trimmed = name.normalize('NFC').trim();
    if ([...trimmed].length > LOCAL_NAME_MAX_CHARS) throw new InvalidContactChangeError(`a name can be at most ${LOCAL_NAME_MAX_CHARS} characters`);
    await this.change(contactId, { localName: trimmed || null });
    this.ctx.log.info('contact renamed', { contact: contactId.slice(0, 8), cleared: !trimmed });
  }

  /** Blocks (drops its messages on arrival, sends it nothing) or unblocks a contact. Blocking a request decides it: it leaves the requests. */
  async setBlocked(contactId: string, blocked: boolean): Promise<void> {
    if (typeof blocked !== 'boolean') throw new InvalidContactChangeError('blocked must be true or false');
    const current = this.known(contactId);
    await this.change(contactId, blocked ? { blocked, ...(isRequest(current) ? { listing: null } : {}) } : { blocked });
    this.ctx.metrics.inc(blocked ? 'contacts.blocked' : 'contacts.unblocked');
    if (!blocked) this.events.sendingAllowed(contactId);
  }

  /** Accepts a message request: the contact joins the list, read receipts and replies may go. Accepting an accepted contact is a no-op. */
  async acceptRequest(contactId: string): Promise<void> {
    const c = this.known(contactId);
    if (c.listing === undefined) return;
    await this.change(contactId, { listing: null });
    this.ctx.metrics.inc('contacts.request_accepted');
    this.events.sendingAllowed(contactId);
  }

  /**
   * Deletes the conversation: its messages, outbox entries and conversation row go in one
   * transaction and the contact leaves the list (its next message comes as a request).
   * Deleting an already deleted conversation changes nothing.
   */
  async deleteConversation(contactId: string): Promise<void> {
    const { ctx } = this;
    if (this.known(contactId).listing === 'removed') return;
    const deleted = await ctx.lane.run(async () => {
      const result = await ctx.store.deleteConversation(contactId);
      const c = await ctx.store.getContact(contactId);
      if (c) ctx.contacts.remember(c);
      return result;
    });
    ctx.metrics.inc('contacts.conversation_deleted');
    ctx.log.info('conversation deleted', { contact: contactId.slice(0, 8), messages: deleted.messages, outboxEntries: deleted.outboxEntries });
    await this.events.changed();
  }

  private known(contactId: string): ContactRecord {
    const c = typeof contactId === 'string' ? this.ctx.contacts.byId(contactId) : undefined;
    if (!c) throw new UnknownContactError(typeof contactId === 'string' ? contactId : 'not a contact id');
    return c;
  }

  /** One contact change on the serial lane (so a receive commit never writes back an older copy). */
  private async change(contactId: string, change: ContactChange): Promise<void> {
    this.known(contactId);
    await this.ctx.lane.run(async () => {
      const c = await this.ctx.store.changeContact(contactId, change);
      this.ctx.contacts.remember(c);
    });
    await this.events.changed();
  }

  private async reload(contactId: string): Promise<void> {
    const c = await this.ctx.store.getContact(contactId);
    if (c) this.ctx.contacts.remember(c);
    await this.events.changed();
  }
}
