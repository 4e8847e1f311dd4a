/**
 * Composing one message for a contact with linked devices (docs/PROTOCOL.md §13.5): one
 * encryption per fan-out target with that target's own session (keyed by contact and
 * device, session-key.ts), and ONE commit of the message row, every advanced session,
 * one outbox entry per target, and a pending job for each target without a session yet
 * (SessionStarter starts that device's session and encrypts the job).
 *
 * Our own other devices get a "sent transcript" (`sent{to, content}`) with the session of
 * that device (keyed by our own account and the device), queued under our own account
 * and without the message id: it never moves the message's status.
 *
 * Runs inside the serial lane (compose.ts): the session reads and the commit are not
 * interleaved with another ratchet step.
 */
import { toHex } from '../bytes.ts';
import type { Random } from '../random.ts';
import type { FanOutTarget } from '../devices/fan-out.ts';
import type { FanOutActionCommit, FanOutCommit, NewOutboxEntry, NewOutgoingMessage, SessionUpdate } from '../store/index.ts';
import type { MessageAction } from '../store/message-actions.ts';
import { sessionKey } from '../store/session-key.ts';
import { encodeContent } from '../wire/index.ts';
import type { ComposeDeps, OutgoingMessage } from './compose.ts';
import { targetDevice } from './device-routing.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

export async function enqueueFannedOut(deps: ComposeDeps & { readonly random: Random }, m: OutgoingMessage, message: NewOutgoingMessage, targets: readonly FanOutTarget[]): Promise<{ readonly pending: boolean }> {
  const sessionUpdates: SessionUpdate[] = [];
  const ready: NewOutboxEntry[] = [];
  const pending: FanOutCommit['pending'][number][] = [];
  const ownAccount = toHex(deps.identity.publicKey);
  // Our own other devices get a "sent transcript": the same content, and the contact it went to.
  const transcript = encodeContent({ t: 'sent', to: m.contactKey, content: m.content });
  const stamp = await listStamps(deps, m.contactKey, targets);
  // The first copy's envelope id is the message id (as for a single copy); the others get fresh ones.
  let first = true;
  for (const t of targets) {
    const envelopeId = first ? m.id : toHex(deps.random.bytes(16));
    first = false;
    const device = targetDevice(t);
    const owner = t.own ? ownAccount : m.contactId;
    const key = sessionKey(owner, device);
    const content = t.own ? transcript : m.content;
    const row = await deps.store.getSession(key);
    if (!row) {
      pending.push({ envelopeId, ...(device ? { device } : {}), ...(t.own ? { own: true as const } : {}), mailbox: t.mailbox, plaintext: content, ...stamp(t) });
      continue;
    }
    const { set, envelope } = await encryptFor(deps, decodeSessionSet(row.state), t.own ? deps.identity.publicKey : m.contactKey, content);
    sessionUpdates.push({ contactId: key, expectedVersion: row.version, state: encodeSessionSet(set) });
    ready.push({ envelopeId, contactId: owner, ...(device ? { device } : {}), mailbox: t.mailbox, envelope, ...stamp(t) });
  }
  await deps.store.commitFanOut({ message, ownAccount, sessionUpdates, ready, pending, retain: m.content, retainOwn: transcript });
  return { pending: pending.length > 0 };
}

/**
 * Our edit, delete or reaction where either side has linked devices: one copy per device of
 * the contact, and to each of our own other devices an action transcript
 * (`sent{to, content}`, the same action content), committed with the target row's change.
 * Returns whether a copy waits for its device's session.
 */
export async function enqueueActionFannedOut(
  deps: ComposeDeps & { readonly random: Random },
  contact: { readonly id: string; readonly identityKey: Uint8Array },
  action: MessageAction,
  content: Uint8Array,
  targets: readonly FanOutTarget[],
): Promise<boolean> {
  const sessionUpdates: SessionUpdate[] = [];
  const ready: NewOutboxEntry[] = [];
  const pending: FanOutActionCommit['pending'][number][] = [];
  const ownAccount = toHex(deps.identity.publicKey);
  const transcript = encodeContent({ t: 'sent', to: contact.identityKey, content });
  const stamp = await listStamps(deps, contact.identityKey, targets);
  // The contact's copies first: the first of them carries the action id as its envelope id.
  const ordered = [...targets.filter((t) => !t.own), ...targets.filter((t) => t.own)];
  let first = true;
  for (const t of ordered) {
    const envelopeId = first && !t.own ? action.id : toHex(deps.random.bytes(16));
    first = false;
    const device = targetDevice(t);
    const owner = t.own ? ownAccount : contact.id;
    const key = sessionKey(owner, device);
    const plaintext = t.own ? transcript : content;
    const row = await deps.store.getSession(key);
    if (!row) {
      pending.push({ envelopeId, ...(device ? { device } : {}), ...(t.own ? { own: true as const } : {}), mailbox: t.mailbox, plaintext, ...stamp(t) });
      continue;
    }
    const { set, envelope } = await encryptFor(deps, decodeSessionSet(row.state), t.own ? deps.identity.publicKey : contact.identityKey, plaintext);
    sessionUpdates.push({ contactId: key, expectedVersion: row.version, state: encodeSessionSet(set) });
    ready.push({ envelopeId, contactId: owner, ...(device ? { device } : {}), mailbox: t.mailbox, envelope, ...stamp(t) });
  }
  await deps.store.commitFanOutAction({ contactId: contact.id, action, ownAccount, sessionUpdates, ready, pending, retain: content, retainOwn: transcript });
  return pending.some((j) => !j.own);
}

/**
 * The list each copy of one fan-out follows (§13.5, "A send to a stale device set"): a copy
 * to one of the contact's devices names the version of the contact's list, a copy to one
 * of our own other devices the version of our own list, a copy to the account mailbox of
 * a contact without a list version 0; the relay refuses it when that list moved on, and
 * the sender covers the devices it added (stale-device-cover.ts).
 */
async function listStamps(deps: ComposeDeps, contactKey: Uint8Array, targets: readonly FanOutTarget[]): Promise<(t: FanOutTarget) => { readonly listVersion?: number }> {
  const theirs = targets.some((t) => !t.own && t.deviceId) ? await deps.devices?.listVersion(contactKey) : undefined;
  const ours = targets.some((t) => t.own && t.deviceId) ? await deps.devices?.listVersion(deps.identity.publicKey) : undefined;
  return (t) => {
    // The account mailbox of a contact without a list: version 0.
    if (!t.deviceId) return t.own ? {} : { listVersion: 0 };
    const v = t.own ? ours : theirs;
    return v !== undefined && v > 0 ? { listVersion: v } : {};
  };
}
