/**
 * Sends one WebRTC signal straight through the relay's `signal` route (never the mailbox:
 * a signal is useless later) to ONE device of a contact: it is encrypted with that
 * device's session (session-key.ts: the contact's, or the contact's and the device's) by
 * the session cipher, the advanced session committed, then sealed and sent to that
 * device's mailbox. Lost when the device is offline; the direct path retries on later
 * events. Signals are sent from the serial lane, so they leave in the order they were
 * asked for.
 */
import { fromHex } from '../bytes.ts';
import { sessionKey } from '../store/session-key.ts';
import { deviceMailboxAddress, encodeContent, mailboxAddress } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { DirectSignalError, type DirectPeer, type RtcKind } from './direct-path.ts';
import { UnknownContactError } from './errors.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

export interface SignalRoute {
  isOnline(): boolean;
  sendSignal(to: Uint8Array, blob: Uint8Array): void;
}

export class RtcSignalSender {
  constructor(
    private readonly ctx: MessengerContext,
    private readonly relay: SignalRoute,
  ) {}

  async send(peer: DirectPeer, kind: RtcKind, data: string): Promise<void> {
    const { ctx } = this;
    const contact = ctx.contacts.byId(peer.contactId);
    if (!contact) throw new UnknownContactError(peer.contactId);
    if (!this.relay.isOnline()) throw new DirectSignalError('relay is not connected');
    const key = sessionKey(peer.contactId, peer.device);
    const to = peer.device === undefined ? mailboxAddress(contact.identityKey) : deviceMailboxAddress(contact.identityKey, fromHex(peer.device));
    await ctx.lane.run(async () => {
      const row = await ctx.store.getSession(key);
      if (!row) throw new DirectSignalError('no session with this device');
      const out = await encryptFor(ctx, decodeSessionSet(row.state), contact.identityKey, encodeContent({ t: 'rtc', kind, data }));
      await ctx.store.commitSession({ contactId: key, expectedVersion: row.version, state: encodeSessionSet(out.set) });
      this.relay.sendSignal(to, out.envelope);
    });
    ctx.metrics.inc('direct.signals.sent', { kind });
  }
}
