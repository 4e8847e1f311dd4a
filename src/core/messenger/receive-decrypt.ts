/**
 * Receive step 2, decryption: unseal each envelope (sealed sender, concurrently: it needs
 * no session, and WebCrypto's X25519 runs off the main thread), then, in order, find its
 * sender among our contacts and open it with that contact's sessions through the session
 * cipher (session-cipher.ts: trial decryption over the session set, or a new session
 * from our prekey pool). The outcome says what the batch does with the envelope; nothing
 * is committed here.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import { CryptoError, DuplicateMessageError, messageType, unseal } from '../crypto/index.ts';
import type { ContactRecord } from '../store/index.ts';
import { sessionKey } from '../store/session-key.ts';
import { ownAccountContact } from './contact-directory.ts';
import type { MessengerContext } from './context.ts';
import { MessengerError, ReplayedSessionStartError } from './errors.ts';
import type { BatchDraft } from './receive-batch.ts';
import { decryptWith, type Decrypted } from './session-cipher.ts';
import { EMPTY_SESSION_SET, promote, type SessionSet } from './session-set.ts';
import type { RepairTarget } from './session-repair.ts';

export type Unsealed = { readonly sender: Uint8Array; readonly senderDevice?: Uint8Array; readonly inner: Uint8Array } | { readonly error: unknown };

export type Opened =
  /**
   * Never decryptable (tampered, unknown prekey, garbage): recorded as processed and
   * acknowledged. `from`: the known contact device that sent it (the seal proved it), which
   * may be asked to send it again (session-repair.ts).
   */
  | { readonly kind: 'undecryptable'; readonly reason: string; readonly from?: RepairTarget }
  /** A copy of a session start already accepted from this contact, under a new envelope id. */
  | { readonly kind: 'replayed_session_start' }
  /**
   * From a device a list of the sender's we held once named and a newer one dropped (an
   * unlinked device; its list fetched after the envelope arrived): recorded and dropped.
   */
  | { readonly kind: 'unlinked_device' }
  /** From another device of our own account (a sent transcript). */
  | { readonly kind: 'own_device'; readonly device: string; readonly result: Decrypted }
  /** `contact` is undefined for a sender we do not know yet (its first message). */
  | {
      readonly kind: 'decrypted';
      readonly sender: Uint8Array;
      /** The sending device (hex) of a multi-device contact; absent for a single-device one. */
      readonly device?: string;
      readonly contact: ContactRecord | undefined;
      readonly result: Decrypted;
    };

/** Unseals every envelope body of a batch, concurrently. */
export function unsealAll(ctx: MessengerContext, bodies: readonly Uint8Array[]): Promise<Unsealed[]> {
  return Promise.all(
    bodies.map((body): Promise<Unsealed> =>
      unseal(ctx.identity, body, ctx.crypto).then(
        ({ senderIdentityPublic, senderDevice, inner }) => ({ sender: senderIdentityPublic, ...(senderDevice ? { senderDevice } : {}), inner }),
        (error: unknown) => ({ error }),
      ),
    ),
  );
}

/**
 * The account and device of an envelope from a device its sender's verified list does not
 * name, when the sender is known (a contact, or our own account) and sealed its device:
 * such an envelope is held while that list is fetched again (unlisted-device-hold.ts).
 */
export async function unlistedSender(ctx: MessengerContext, batch: BatchDraft, unsealed: Unsealed): Promise<{ readonly account: Uint8Array; readonly device: Uint8Array } | undefined> {
  if ('error' in unsealed || !unsealed.senderDevice || !ctx.devices) return undefined;
  const { sender, senderDevice } = unsealed;
  if (!bytesEqual(sender, ctx.identity.publicKey) && !batch.contactByKey(sender)) return undefined;
  return (await ctx.devices.names(sender, senderDevice)) ? undefined : { account: sender, device: senderDevice };
}

/** An envelope from a device the sender's list does not name: an unlinked one, or one never listed (typed, counted). */
async function refusedDevice(ctx: MessengerContext, sender: Uint8Array, senderDevice: Uint8Array, reason: 'unknown_device' | 'unknown_own_device'): Promise<Opened> {
  const own = reason === 'unknown_own_device';
  ctx.metrics.inc('devices.unknown_sender_device', own ? { own: 'true' } : undefined);
  if (await ctx.devices?.wasListed(sender, senderDevice)) return { kind: 'unlinked_device' };
  return { kind: 'undecryptable', reason };
}

/** Decrypts one unsealed envelope against the sessions as `batch` leaves them so far. */
export async function openEnvelope(ctx: MessengerContext, batch: BatchDraft, unsealed: Unsealed): Promise<Opened> {
  if ('error' in unsealed) return { kind: 'undecryptable', reason: unsealed.error instanceof CryptoError ? unsealed.error.kind : 'sealed_sender_failed' };
  const { sender, senderDevice, inner } = unsealed;
  if (!messageType(inner)) return { kind: 'undecryptable', reason: 'malformed_message' };
  // Another device of our own account: only one our verified list names, with its own session.
  if (bytesEqual(sender, ctx.identity.publicKey)) return openFromOwnDevice(ctx, batch, sender, senderDevice, inner);
  const contact = batch.contactByKey(sender);
  // The key a contact had before a key change (its id is that first key): the old
  // device still writing. Never a new contact under the same id, nor a session with it.
  if (!contact && batch.contactById(toHex(sender))) return { kind: 'undecryptable', reason: 'superseded_identity' };
  // A device of a known contact writes only if the contact's verified list names it: then
  // silently (a new device under the known identity is no key change); otherwise refused.
  // (The pipeline gets here with an unnamed device only once its list was fetched again
  // after the envelope arrived: unlisted-device-hold.ts.)
  if (contact && senderDevice && !(await ctx.devices?.names(sender, senderDevice))) return refusedDevice(ctx, sender, senderDevice, 'unknown_device');
  const device = senderDevice ? toHex(senderDevice) : undefined;
  let set = EMPTY_SESSION_SET;
  // (A damaged stored set never gets here: the store answers "no session" for it, session-row-check.ts.)
  if (contact) set = (await batch.sessionsOf(sessionKey(contact.id, device))).set;
  try {
    const result = await decryptWith({ identity: ctx.identity, crypto: ctx.crypto, pool: batch.currentPool }, set, sender, inner);
    return { kind: 'decrypted', sender, ...(device ? { device } : {}), contact, result };
  } catch (err) {
    if (err instanceof ReplayedSessionStartError) return { kind: 'replayed_session_start' };
    // The device that was the single-device account before its list: it still writes under
    // the session we kept with the account (keyed by the contact alone); that session moves to the device.
    const inherited = contact && device && messageType(inner) !== 'prekey' && !(err instanceof DuplicateMessageError) ? await fromAccountSession(ctx, batch, contact.id, set, sender, inner) : undefined;
    if (inherited) return { kind: 'decrypted', sender, device: device!, contact, result: inherited };
    const reason = err instanceof CryptoError || err instanceof MessengerError ? err.kind : 'no_session';
    return { kind: 'undecryptable', reason, ...(contact ? { from: { contact, ...(device ? { device } : {}) } } : {}) };
  }
}

/**
 * Decrypts with the sessions kept under the contact's account (from before its device list)
 * and, when one opens the message, returns the device's set with that session in it (as
 * current, as any session the contact writes under becomes). Undefined when none opens it.
 */
async function fromAccountSession(ctx: MessengerContext, batch: BatchDraft, contactId: string, deviceSet: SessionSet, sender: Uint8Array, inner: Uint8Array): Promise<Decrypted | undefined> {
  let account: SessionSet;
  try {
    account = (await batch.sessionsOf(sessionKey(contactId, undefined))).set;
  } catch {
    return undefined;
  }
  if (!account.sessions.length) return undefined;
  try {
    const out = await decryptWith({ identity: ctx.identity, crypto: ctx.crypto, pool: batch.currentPool }, account, sender, inner);
    ctx.metrics.inc('devices.account_session_moved');
    return { set: promote(deviceSet, out.set.sessions[0]!), plaintext: out.plaintext };
  } catch {
    return undefined;
  }
}

async function openFromOwnDevice(ctx: MessengerContext, batch: BatchDraft, sender: Uint8Array, senderDevice: Uint8Array | undefined, inner: Uint8Array): Promise<Opened> {
  if (!senderDevice) {
    ctx.metrics.inc('devices.unknown_sender_device', { own: 'true' });
    return { kind: 'undecryptable', reason: 'unknown_own_device' };
  }
  if (!(await ctx.devices?.names(sender, senderDevice))) return refusedDevice(ctx, sender, senderDevice, 'unknown_own_device');
  const device = toHex(senderDevice);
  const key = sessionKey(toHex(sender), device);
  const { set } = await batch.sessionsOf(key);
  try {
    const result = await decryptWith({ identity: ctx.identity, crypto: ctx.crypto, pool: batch.currentPool }, set, sender, inner);
    return { kind: 'own_device', device, result };
  } catch (err) {
    if (err instanceof ReplayedSessionStartError) return { kind: 'replayed_session_start' };
    // Our other device still has what it sent (a transcript): it is asked again like a contact (§12.8).
    const reason = err instanceof CryptoError || err instanceof MessengerError ? err.kind : 'no_session';
    return { kind: 'undecryptable', reason, from: { contact: ownAccountContact(ctx.identity.publicKey), device } };
  }
}
