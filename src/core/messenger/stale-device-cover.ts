/**
 * A send refused as `stale_devices` (docs/PROTOCOL.md §13.5, "A send to a stale device
 * set"), Signal's mismatched-devices answer in Petrel's terms: the copy of a message was
 * fanned out under an older list of the contact's devices than the relay holds, and the
 * refusal carries the current signed list. The list is judged like any other (the device
 * sync: a refused one changes nothing and is counted, and the list is then fetched); with a
 * newer verified list, one store transaction gives each device without a copy a pending
 * job, re-marks the copies still queued with the new version and removes a copy to the
 * account mailbox (store `coverDevices`); the session starter then starts the new devices'
 * sessions and the outbox sends everything, each device once.
 *
 * The same holds for an action copy to a contact's device (an edit, a delete for everyone,
 * a reaction) and for a copy to one of our own other devices (a sent or action
 * transcript, stamped with our own list's version): these have no message row, and the
 * store finds their fan-out through what was kept for resend (`coverCopies`). Receipts and
 * `seen` marks carry no version and are never covered (PROTOCOL.md §13.5 says why).
 *
 * A relay that keeps saying "stale" without a newer list that verifies cannot make this
 * loop: the copy fails, with a reason, and is counted.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import type { DeviceCoverResult, OutboxRecord } from '../store/index.ts';
import { deviceMailboxAddress, type DeviceListBody, type SignedDeviceList } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { outgoingContent } from './message-content.ts';

export interface StaleDeviceCoverDeps {
  readonly ctx: MessengerContext;
  /** Judges a list for `account` (the device sync's rules, lines and counters); true when it was taken or already held. */
  judge(account: Uint8Array, signed: SignedDeviceList): Promise<boolean>;
  /** Fetches `account`'s list from the relay and judges it. */
  refresh(account: Uint8Array): Promise<unknown>;
  /** The verified list held for `account`. */
  list(account: Uint8Array): Promise<DeviceListBody | undefined>;
  /** New copies wait for sessions with `contactId`'s new devices, and queued copies may go again. */
  covered(contactId: string): void;
}

export class StaleDeviceCover {
  constructor(private readonly deps: StaleDeviceCoverDeps) {}

  /** Handles the refusal of `entry` (a copy of a message); never throws. */
  async refused(entry: OutboxRecord, signed: SignedDeviceList | undefined): Promise<void> {
    const { ctx } = this.deps;
    try {
      await this.cover(entry, signed);
    } catch (err) {
      ctx.metrics.inc('devices.stale_cover_failed');
      ctx.log.warn('stale device list not covered', { error: err instanceof Error ? err.name : 'unknown' });
      await ctx.store.markFailed(entry.envelopeId, "Could not reach the contact's new devices").catch(() => undefined);
    }
  }

  private async cover(entry: OutboxRecord, signed: SignedDeviceList | undefined): Promise<void> {
    const { ctx } = this.deps;
    const ownAccount = entry.contactId === toHex(ctx.identity.publicKey);
    const contact = ownAccount ? undefined : ctx.contacts.byId(entry.contactId);
    const account = ownAccount ? ctx.identity.publicKey : contact?.identityKey;
    if (!account) throw new StaleCoverError('the copy is not to a contact or to our own devices');
    const sentUnder = entry.listVersion ?? 0;
    ctx.metrics.inc('devices.send_stale');
    if (signed) await this.deps.judge(account, signed);
    let list = await this.deps.list(account);
    // The list in the refusal did not verify (or was older than ours): ask the relay for it again.
    if (!list || list.version <= sentUnder) {
      await this.deps.refresh(account);
      list = await this.deps.list(account);
    }
    if (!list || list.version <= sentUnder) {
      ctx.metrics.inc('devices.stale_unverified');
      ctx.log.warn('relay says the device list is newer, but no newer list verifies', { held: list?.version ?? 0, sent: sentUnder });
      await ctx.store.markFailed(entry.envelopeId, ownAccount ? 'Our device list could not be verified' : "The contact's device list could not be verified");
      return;
    }
    const version = list.version;
    // Never a copy to this device itself: our own list names it too.
    const self = ownAccount ? ctx.devices?.sealDevice : undefined;
    if (ownAccount && !self) throw new StaleCoverError('this device is not listed');
    if (self && !list.devices.some((d) => bytesEqual(d.id, self))) {
      // Our own new list no longer names this device: it was unlinked, and sends nothing
      // more (the relay refuses it too); no copy is queued for the devices that remain.
      ctx.metrics.inc('devices.stale_cover_unlinked');
      await ctx.store.markFailed(entry.envelopeId, 'This device was unlinked from your account');
      return;
    }
    const devices = list.devices
      .filter((d) => !self || !bytesEqual(d.id, self))
      .map((d) => ({ device: toHex(d.id), mailbox: deviceMailboxAddress(account, d.id), envelopeId: toHex(ctx.random.bytes(16)) }));
    let result: DeviceCoverResult;
    if (entry.messageId !== undefined && contact) {
      const message = await ctx.store.getMessage(entry.messageId);
      if (!message) throw new StaleCoverError('the message is gone');
      result = await ctx.store.coverDevices({ messageId: entry.messageId, contactId: contact.id, listVersion: version, devices, plaintext: outgoingContent(message), refused: entry.envelopeId });
    } else {
      // An action copy, or a copy to our own other device: found through what was kept for resend.
      result = await ctx.store.coverCopies({ refused: entry.envelopeId, listVersion: version, devices });
    }
    if (result.added && entry.messageId !== undefined && contact) ctx.metrics.inc('devices.stale_devices_covered', {}, result.added);
    else if (result.added) ctx.metrics.inc('devices.stale_copies_covered', { kind: ownAccount ? 'own_copy' : 'action' }, result.added);
    ctx.log.info('copies for devices the fan-out missed', { added: result.added, requeued: result.requeued, dropped: result.dropped, version });
    this.deps.covered(entry.contactId);
  }
}

export class StaleCoverError extends Error {
  readonly kind = 'stale_cover';
  override readonly name = 'StaleCoverError';
}
