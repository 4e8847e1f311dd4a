/**
 * Composing one outgoing message: encrypt once, then one commit of the advanced session,
 * the message row and the outbox entry (the entry carries the sealed envelope, resent
 * as it is on every retry). Without a session yet, the plaintext waits in the outbox as
 * a pending job (SessionStarter encrypts it once the session exists).
 *
 * Runs inside the core's serial lane, so the session read and its commit are not
 * interleaved with another ratchet step. The store the running messenger passes is the
 * session-caching one: the read is a memory lookup, not a transaction.
 */
import type { CryptoRuntime, Identity } from '../crypto/index.ts';
import type { Random } from '../random.ts';
import type { AttachmentRef, OutboxRecord, PetrelStore, Quote } from '../store/index.ts';
import type { DeviceRouting } from './device-routing.ts';
import { isAccountTarget } from './device-routing.ts';
import { enqueueFannedOut } from './fan-out-compose.ts';
import type { SerialLane } from './serial-lane.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

export interface ComposeDeps {
  readonly store: PetrelStore;
  readonly lane: SerialLane;
  readonly identity: Identity;
  readonly crypto: CryptoRuntime;
  /** Needed with `devices` (fresh envelope ids for the further copies). */
  readonly random?: Random;
  readonly devices?: DeviceRouting;
}

export interface OutgoingMessage {
  readonly contactId: string;
  readonly contactKey: Uint8Array;
  readonly mailbox: Uint8Array;
  /** Hex of the message id, also the envelope id. */
  readonly id: string;
  readonly body: string;
  readonly sentAt: number;
  /** The encoded `msg` (or `file`) content. */
  readonly content: Uint8Array;
  /** The uploaded file a `file` content describes, kept on the row so the sender's own view shows it. */
  readonly attachment?: AttachmentRef;
  /** The message a `reply` quotes. */
  readonly quote?: Quote;
}

/** What `enqueueOutgoing` did. */
export interface Enqueued {
  /** Waits for a session. */
  readonly pending: boolean;
  /** Its outbox entry, when it is its contact's head of line: the outbox may send it at once (OutboxWorker.offer). */
  readonly head?: OutboxRecord;
}

/** Queues `m` durably; returns `pending` when it waits for a session. */
export function enqueueOutgoing(deps: ComposeDeps, m: OutgoingMessage): Promise<Enqueued> {
  const { store } = deps;
  const message = { id: m.id, contactId: m.contactId, body: m.body, sentAt: m.sentAt, ...(m.attachment ? { attachment: m.attachment } : {}), ...(m.quote ? { quote: m.quote } : {}) };
  return deps.lane.run(async () => {
    // A contact with a device list (or our own other devices): one copy per device (fan-out-compose.ts).
    const targets = deps.devices ? await deps.devices.targets(m.contactKey) : [];
    if (deps.random && targets.some((t) => !isAccountTarget(t))) return enqueueFannedOut({ ...deps, random: deps.random }, m, message, targets);
    const row = await store.getSession(m.contactId);
    if (!row) {
      await store.commitPendingOutgoing({ message, job: { envelopeId: m.id, mailbox: m.mailbox, plaintext: m.content } });
      return { pending: true };
    }
    const { set, envelope } = await encryptFor(deps, decodeSessionSet(row.state), m.contactKey, m.content);
    const { head } = await store.commitOutgoing({
      sessionUpdate: { contactId: m.contactId, expectedVersion: row.version, state: encodeSessionSet(set) },
      message,
      outboxEntry: { envelopeId: m.id, contactId: m.contactId, mailbox: m.mailbox, envelope },
      retain: m.content,
    });
    return { pending: false, ...(head ? { head } : {}) };
  });
}
