/**
 * Our new display name to the people who already have us (docs/PROTOCOL.md §12.9): after
 * a rename in Settings, a `profile{name}` content goes to our own other devices (which take
 * it as their own name) and to every listed contact we have a
 * session with (each of its devices when it has several), encrypted like any message. A
 * contact without a session yet learns the name when the session starts (the session
 * starter's introduction says the current name). Blocked contacts, message requests and
 * deleted conversations are not told.
 *
 * Each copy is one commit: the advanced session and its outbox entry together (as a
 * receipt is), so the name is durable in the outbox before anything is sent. No message
 * row: a profile shows nowhere in the chat.
 *
 * The receiver (receive-content.ts) applies it idempotently as the contact's own name;
 * a local name the user gave the contact (Rename) still wins.
 */
import { toHex } from '../bytes.ts';
import type { ContactRecord } from '../store/index.ts';
import { sessionKey } from '../store/session-key.ts';
import { encodeContent, mailboxAddress } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { isAccountTarget, targetDevice } from './device-routing.ts';
import { sendBlocked } from './key-change.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

/** Whether `c` is told our new name: listed (not a request, not deleted), not blocked, no unacknowledged key change. */
function told(c: ContactRecord): boolean {
  return c.listing === undefined && !c.blocked && !sendBlocked(c);
}

/** Queues `profile{name}` to every contact told and to our own other devices; returns how many copies were queued. */
export async function sendProfileUpdate(ctx: MessengerContext, name: string): Promise<number> {
  const content = encodeContent({ t: 'profile', name });
  let toContacts = 0;
  for (const contact of ctx.contacts.all().filter(told)) {
    const targets = ctx.devices ? (await ctx.devices.targets(contact.identityKey)).filter((t) => !t.own) : [];
    const copies = targets.some((t) => !isAccountTarget(t)) ? targets.map((t) => ({ device: targetDevice(t), mailbox: t.mailbox })) : [{ device: undefined, mailbox: mailboxAddress(contact.identityKey) }];
    for (const { device, mailbox } of copies) if (await queueCopy(ctx, contact.id, contact.identityKey, device, mailbox, content)) toContacts++;
  }
  // Our own other devices: the same name, so each says it (receive-own-device.ts).
  const ownAccount = toHex(ctx.identity.publicKey);
  // (Asked as a "contact", our own account lists our other devices, never this one, each once; a single-device account has none.)
  const ownTargets = ctx.devices ? (await ctx.devices.targets(ctx.identity.publicKey)).filter((t) => t.deviceId !== undefined) : [];
  let toOwn = 0;
  for (const t of ownTargets) if (await queueCopy(ctx, ownAccount, ctx.identity.publicKey, targetDevice(t), t.mailbox, content)) toOwn++;
  ctx.metrics.inc('contacts.profile_sent', {}, toContacts);
  ctx.metrics.inc('devices.own_profile_sent', {}, toOwn);
  return toContacts + toOwn;
}

/** One copy over the session with `contactId`'s `device` (its account session when undefined): session and outbox entry in one commit. False without a session. */
function queueCopy(ctx: MessengerContext, contactId: string, identityKey: Uint8Array, device: string | undefined, mailbox: Uint8Array, content: Uint8Array): Promise<boolean> {
  return ctx.lane.run(async () => {
    const key = sessionKey(contactId, device);
    const row = await ctx.store.getSession(key);
    if (!row) return false;
    const out = await encryptFor(ctx, decodeSessionSet(row.state), identityKey, content);
    await ctx.store.commitOutgoing({
      sessionUpdate: { contactId: key, expectedVersion: row.version, state: encodeSessionSet(out.set) },
      outboxEntry: { envelopeId: toHex(ctx.random.bytes(16)), contactId, ...(device ? { device } : {}), mailbox, envelope: out.envelope },
    });
    return true;
  });
}
