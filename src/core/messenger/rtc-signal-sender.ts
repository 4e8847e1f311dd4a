/**
 * Sends one WebRTC signal straight through the relay's `signal` route (never the mailbox:
 * a signal is useless later). It is encrypted with the contact's current session
 * (session-cipher.ts), the advanced session committed, then sealed and sent. Lost when the
 * contact is offline; the direct path retries on later events. Signals are sent from the
 * serial lane, so they leave in the order they were asked for.
 */
import { encodeContent, mailboxAddress } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { DirectSignalError, type RtcKind } from './direct-path.ts';
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

  async send(contactId: string, kind: RtcKind, data: string): Promise<void> {
    const { ctx } = this;
    const contact = ctx.contacts.byId(contactId);
    if (!contact) throw new UnknownContactError(contactId);
    if (!this.relay.isOnline()) throw new DirectSignalError('relay is not connected');
    await ctx.lane.run(async () => {
      const row = await ctx.store.getSession(contactId);
      if (!row) throw new DirectSignalError('no session with this contact');
      const out = await encryptFor(ctx, decodeSessionSet(row.state), contact.identityKey, encodeContent({ t: 'rtc', kind, data }));
      await ctx.store.commitSession({ contactId, expectedVersion: row.version, state: encodeSessionSet(out.set) });
      this.relay.sendSignal(mailboxAddress(contact.identityKey), out.envelope);
    });
    ctx.metrics.inc('direct.signals.sent', { kind });
  }
}
