/**
 * Composing one message for a contact with linked devices (docs/PROTOCOL.md §13.5): one
 * encryption per fan-out target with that target's own session (keyed by contact and
 * device, session-key.ts), and ONE commit of the message row, every advanced session,
 * one outbox entry per target, and a pending job for each target without a session yet
 * (SessionStarter starts that device's session and encrypts the job).
 *
 * Copies to our own other devices are not sent yet: they need the "sent transcript"
 * content, which is not built (§13.5 "Not built yet"); they are left out, never sent as an
 * ordinary message (which our own devices would take for one from a stranger).
 *
 * Runs inside the serial lane (compose.ts): the session reads and the commit are not
 * interleaved with another ratchet step.
 */
import { toHex } from '../bytes.ts';
import type { Random } from '../random.ts';
import type { FanOutTarget } from '../devices/fan-out.ts';
import type { FanOutCommit, NewOutboxEntry, NewOutgoingMessage, SessionUpdate } from '../store/index.ts';
import { sessionKey } from '../store/session-key.ts';
import type { ComposeDeps, OutgoingMessage } from './compose.ts';
import { targetDevice } from './device-routing.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

export async function enqueueFannedOut(deps: ComposeDeps & { readonly random: Random }, m: OutgoingMessage, message: NewOutgoingMessage, targets: readonly FanOutTarget[]): Promise<{ readonly pending: boolean }> {
  const sessionUpdates: SessionUpdate[] = [];
  const ready: NewOutboxEntry[] = [];
  const pending: FanOutCommit['pending'][number][] = [];
  // The first copy's envelope id is the message id (as for a single copy); the others get fresh ones.
  let first = true;
  for (const t of targets) {
    if (t.own) continue;
    const envelopeId = first ? m.id : toHex(deps.random.bytes(16));
    first = false;
    const device = targetDevice(t);
    const key = sessionKey(m.contactId, device);
    const row = await deps.store.getSession(key);
    if (!row) {
      pending.push({ envelopeId, ...(device ? { device } : {}), mailbox: t.mailbox, plaintext: m.content });
      continue;
    }
    const { set, envelope } = await encryptFor(deps, decodeSessionSet(row.state), m.contactKey, m.content);
    sessionUpdates.push({ contactId: key, expectedVersion: row.version, state: encodeSessionSet(set) });
    ready.push({ envelopeId, contactId: m.contactId, ...(device ? { device } : {}), mailbox: t.mailbox, envelope });
  }
  await deps.store.commitFanOut({ message, sessionUpdates, ready, pending });
  return { pending: pending.length > 0 };
}
