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
 * A relay that keeps saying "stale" without a newer list that verifies cannot make this
 * loop: the copy fails, with a reason, and is counted.
 */
import { toHex } from '../bytes.ts';
import type { OutboxRecord } from '../store/index.ts';
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
    const contact = ctx.contacts.byId(entry.contactId);
    const messageId = entry.messageId;
    if (!contact || messageId === undefined) throw new StaleCoverError('the copy is not a message to a contact');
    const sentUnder = entry.listVersion ?? 0;
    ctx.metrics.inc('devices.send_stale');
    if (signed) await this.deps.judge(contact.identityKey, signed);
    let list = await this.deps.list(contact.identityKey);
    // The list in the refusal did not verify (or was older than ours): ask the relay for it again.
    if (!list || list.version <= sentUnder) {
      await this.deps.refresh(contact.identityKey);
      list = await this.deps.list(contact.identityKey);
    }
    if (!list || list.version <= sentUnder) {
      ctx.metrics.inc('devices.stale_unverified');
      ctx.log.warn('relay says the device list is newer, but no newer list verifies', { held: list?.version ?? 0, sent: sentUnder });
      await ctx.store.markFailed(entry.envelopeId, "The contact's device list could not be verified");
      return;
    }
    const message = await ctx.store.getMessage(messageId);
    if (!message) throw new StaleCoverError('the message is gone');
    const result = await ctx.store.coverDevices({
      messageId,
      contactId: contact.id,
      listVersion: list.version,
      devices: list.devices.map((d) => ({ device: toHex(d.id), mailbox: deviceMailboxAddress(contact.identityKey, d.id), envelopeId: toHex(ctx.random.bytes(16)) })),
      plaintext: outgoingContent(message),
      refused: entry.envelopeId,
    });
    if (result.added) ctx.metrics.inc('devices.stale_devices_covered', {}, result.added);
    ctx.log.info('copies for devices the message missed', { added: result.added, requeued: result.requeued, dropped: result.dropped, version: list.version });
    this.deps.covered(contact.id);
  }
}

export class StaleCoverError extends Error {
  readonly kind = 'stale_cover';
  override readonly name = 'StaleCoverError';
}
