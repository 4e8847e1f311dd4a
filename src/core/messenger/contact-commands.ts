/**
 * The user's commands about contacts: add one from an invite, show a safety number, mark
 * it verified, acknowledge a key change. Each commits first, then tells its caller what
 * changed (`ContactEvents`); it never reaches back into the object that created it.
 *
 * An invite never changes an existing contact's key (key-change.ts): a different key under
 * a known name becomes a contact of its own, flagged as claiming the other's name and
 * blocked for sending until acknowledged. The existing contact and its conversation are
 * untouched.
 */
import { bytesEqual, fromHex, toHex } from '../bytes.ts';
import { isValidIdentityKey, safetyNumber, safetyNumberQrPayload } from '../crypto/index.ts';
import type { ContactRecord } from '../store/index.ts';
import type { MessengerContext } from './context.ts';
import { InvalidInviteKeyError, UnknownContactError } from './errors.ts';
import { claimedContact } from './key-change.ts';
import type { Invite, SafetyNumber } from './messenger-api.ts';

export interface ContactEvents {
  /** A contact was added or re-confirmed (committed). */
  added(contactId: string): void;
  /** A contact's key change was acknowledged (committed): its waiting messages may go. */
  keyChangeAcknowledged(contactId: string): void;
  /** What the views show changed. */
  changed(): Promise<void>;
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
    const contact: ContactRecord = known
      ? { ...known, displayName: invite.displayName }
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

  private async reload(contactId: string): Promise<void> {
    const c = await this.ctx.store.getContact(contactId);
    if (c) this.ctx.contacts.remember(c);
    await this.events.changed();
  }
}
