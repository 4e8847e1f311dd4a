/**
 * Keeps the messages to one device of a contact in order across the two paths (each
 * device has its own mailbox and its own channel, docs/PROTOCOL.md §13.5; a single-device
 * contact is one device on its account mailbox).
 *
 * A relay send is confirmed when the relay has stored the envelope, a direct send only
 * when the peer has committed it. So right after a data channel opens, a message sent on
 * it could reach the contact before an earlier one still waiting in the relay's mailbox,
 * and be shown above it. The rule: while a message to a contact went through the relay
 * and the contact has not confirmed it (no delivery receipt yet: status still `sent`),
 * later messages to that contact go through the relay too, behind it (the mailbox is
 * first in, first out). Once the receipts are in, the direct channel is used again. For
 * one device of a multi-device contact the same holds with that device's own receipt
 * (the message's `deviceReceipts`): another device's receipt says nothing about what is
 * still in this device's mailbox.
 *
 * What it knows lives in memory; after a restart it is rebuilt from the newest messages
 * of a conversation the first time it matters (a direct channel to that contact is up).
 * A hold never outlasts RELAY_ORDER_HOLD_MAX_MS of diverting messages from a live
 * channel (a receipt that never comes must not keep the channel unused for good): by
 * then a contact online enough to hold a channel has long had its mailbox delivered.
 */
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { MessageRecord, PetrelStore } from '../store/index.ts';

/** The longest a hold keeps messages off a live direct channel. */
export const RELAY_ORDER_HOLD_MAX_MS = 60_000;
/** Newest messages of a conversation looked at to rebuild a hold after a restart. */
export const RELAY_ORDER_SEED_MESSAGES = 50;

interface Hold {
  /** Message ids sent through the relay and not yet confirmed by the contact. */
  readonly relayed: Set<string>;
  /** Since when this hold has been keeping messages off a live channel (undefined: not yet). */
  divertingSince: number | undefined;
}

export class RelayOrderHold {
  private readonly holds = new Map<string, Hold>();
  private readonly seeded = new Set<string>();

  constructor(
    private readonly store: Pick<PetrelStore, 'getMessage' | 'pageMessages'>,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {}

  /** The relay stored message `messageId` to `contactId` (to its device `device`, hex, for a multi-device contact). */
  relayed(contactId: string, messageId: string, device?: string): void {
    this.hold(holdKey(contactId, device)).relayed.add(messageId);
  }

  /**
   * True when the next message to `contactId` must not take the direct channel (call it
   * only when one is up: it may read the store). Counts each diverted message.
   */
  async keepsOffDirect(contactId: string, device?: string): Promise<boolean> {
    const key = holdKey(contactId, device);
    if (!this.seeded.has(key)) await this.seed(contactId, device);
    const hold = this.holds.get(key);
    if (!hold) return false;
    for (const id of [...hold.relayed]) {
      const m = await this.store.getMessage(id);
      if (!m || !inMailbox(m, device)) hold.relayed.delete(id);
    }
    const now = this.clock.now();
    if (hold.relayed.size > 0 && hold.divertingSince !== undefined && now - hold.divertingSince >= RELAY_ORDER_HOLD_MAX_MS) {
      this.log.warn('relay order hold released unconfirmed', { waiting: hold.relayed.size });
      this.metrics.inc('direct.order_hold.expired');
      hold.relayed.clear();
    }
    if (hold.relayed.size === 0) {
      this.holds.delete(key);
      return false;
    }
    hold.divertingSince ??= now;
    this.metrics.inc('direct.order_hold.diverted');
    return true;
  }

  private hold(contactId: string): Hold {
    let hold = this.holds.get(contactId);
    if (!hold) {
      hold = { relayed: new Set(), divertingSince: undefined };
      this.holds.set(contactId, hold);
    }
    return hold;
  }

  private async seed(contactId: string, device: string | undefined): Promise<void> {
    const page = await this.store.pageMessages(contactId, { limit: RELAY_ORDER_SEED_MESSAGES });
    // Marked only after the read: a failed read is tried again next time.
    this.seeded.add(holdKey(contactId, device));
    for (const m of page.messages) if (m.direction === 'out' && m.via === 'relay' && m.status !== 'queued' && inMailbox(m, device)) this.relayed(contactId, m.id, device);
  }
}

function holdKey(contactId: string, device: string | undefined): string {
  return device === undefined ? contactId : `${contactId}/${device}`;
}

/**
 * Is our message (sent through the relay) still waiting in the recipient's mailbox? For a
 * single-device contact: no receipt yet (`queued`: its `sent` is being committed right
 * now). For one device of a multi-device contact: no receipt from that device yet, and its
 * copy not given up on.
 */
function inMailbox(m: Pick<MessageRecord, 'status' | 'deviceReceipts' | 'failedDevices'>, device: string | undefined): boolean {
  if (device === undefined) return m.status === 'sent' || m.status === 'queued';
  // A copy given up on for that device never reached its mailbox.
  return m.status !== 'failed' && m.deviceReceipts?.[device] === undefined && !m.failedDevices?.includes(device);
}
