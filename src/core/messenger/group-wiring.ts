/**
 * Groups wired into the running core (docs/PROTOCOL.md §17.6): the ports of groups.ts over
 * the messenger's own machinery.
 *
 *   sendPairwise  a `group` content over the member device's Double Ratchet session,
 *                 committed with the advanced session into the outbox (the outbox worker
 *                 delivers and retries it). A member who is not our contact gets a contact
 *                 row listed nowhere (`listing: 'removed'`: not in the list, not a request),
 *                 and a session is started with it like with any contact (its bundle from
 *                 the relay). Without a session yet the frame is queued durably as a
 *                 `pending_session` job, which the session starter encrypts once the session
 *                 starts: nothing here waits for a session (a group operation holds the
 *                 group lane, and a slow bundle fetch must not hold every send behind it).
 *                 Group state (log frames), receipts and key requests go this way.
 *   sendOverSession  the same over the session as it is now: without one, a session is
 *                 started and it rejects at once (NoSessionError). Our sender chain goes
 *                 this way: a distribution is never queued, the device is recorded as owed
 *                 it instead (group-send.ts) and is handed it when the session has started
 *                 (`Groups.handOwed`, from the session starter's `started`).
 *   sendMulti     the relay's `send.multi`, to each member device's mailbox.
 *   envelopes     a relay envelope whose body is a `group.sealed` goes to the group parts (and is
 *                 acknowledged after their commit); every other goes to the receive pipeline.
 *   inbox         pairwise group frames, committed into the group inbox with their envelope
 *                 by the receive pipeline, are taken from there (`groupInboxTaker`).
 */
import { fromHex, toHex } from '../bytes.ts';
import type { ContactRecord, PetrelStore } from '../store/index.ts';
import { sessionKey } from '../store/session-key.ts';
import type { IncomingEnvelope } from '../transport/index.ts';
import { decodeGroupFrame } from '../wire/group-content.ts';
import { deviceMailboxAddress, encodeContent, mailboxAddress } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { ownAccountContact } from './contact-directory.ts';
import { KeyChangeUnacknowledgedError, NoSessionError, UnknownContactError } from './errors.ts';
import { SINGLE_DEVICE, type GroupPorts, type MemberDevice } from './group-ports.ts';
import { Groups } from './groups.ts';
import { sendBlocked } from './key-change.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet } from './session-set.ts';

/** How often the held messages' key requests and expiry are checked. */
export const GROUP_TICK_MS = 60_000;

export interface GroupWiringDeps {
  readonly ctx: MessengerContext;
  readonly relay: {
    isOnline(): boolean;
    sendMulti(id: Uint8Array, to: readonly Uint8Array[], body: Uint8Array): Promise<unknown>;
  };
  /** Starts a session with a contact (session-starter.ts). */
  readonly ensureSession: (contactId: string) => void;
  readonly queued: () => void;
  readonly ownName: () => string;
}

const mailboxOf = (d: MemberDevice): Uint8Array => (d.device === SINGLE_DEVICE ? mailboxAddress(fromHex(d.account)) : deviceMailboxAddress(fromHex(d.account), fromHex(d.device)));

export function wireGroups(deps: GroupWiringDeps): Groups {
  const { ctx } = deps;
  const me = toHex(ctx.identity.publicKey);

  const memberContact = async (account: string): Promise<ContactRecord> => {
    // Our own other devices: our account, never a contact row (its sessions are keyed by it, as for sent transcripts).
    if (account === me) return ownAccountContact(ctx.identity.publicKey);
    const known = ctx.contacts.byId(account);
    if (known) return known;
    const contact: ContactRecord = { id: account, displayName: '', unnamed: true, identityKey: fromHex(account), verification: 'unverified', addedAt: ctx.clock.now(), listing: 'removed' };
    await ctx.store.putContact(contact);
    ctx.contacts.remember(contact);
    ctx.metrics.inc('groups.member_contact.added');
    return contact;
  };

  /** The member device's contact and session key; rejects for a blocked member or one whose key change waits. */
  const pairwiseTarget = async (to: MemberDevice): Promise<{ contact: ContactRecord; key: string; device: string | undefined }> => {
    const contact = await memberContact(to.account);
    if (contact.blocked) throw new UnknownContactError('blocked');
    // As in 1:1: nothing is encrypted for a changed key before the user acknowledged it.
    if (sendBlocked(contact)) throw new KeyChangeUnacknowledgedError('the member device waits for its key change to be acknowledged');
    const device = to.device === SINGLE_DEVICE ? undefined : to.device;
    return { contact, key: sessionKey(contact.id, device), device };
  };

  /** `frame` encrypted under the session `key` and committed with it into the outbox; false when there is no session. */
  const encryptAndQueue = async (to: MemberDevice, contact: ContactRecord, key: string, device: string | undefined, content: Uint8Array): Promise<boolean> => {
    const row = await ctx.store.getSession(key);
    if (!row) return false;
    const { set, envelope } = await encryptFor(ctx, decodeSessionSet(row.state), contact.identityKey, content);
    await ctx.store.commitOutgoing({
      sessionUpdate: { contactId: key, expectedVersion: row.version, state: encodeSessionSet(set) },
      outboxEntry: { envelopeId: toHex(ctx.random.bytes(16)), contactId: contact.id, ...(device ? { device } : {}), mailbox: mailboxOf(to), envelope },
    });
    return true;
  };

  const ports: GroupPorts = {
    thisDevice: ctx.devices?.sealDevice ? toHex(ctx.devices.sealDevice) : SINGLE_DEVICE,
    devicesOf: async (account) => {
      // Our own account: the other devices our verified list names (this one is skipped by
      // the caller); none while this device is not listed (a single-device account).
      if (account === me) {
        if (!ctx.devices?.sealDevice) return [];
        const own = await ctx.devices.targets(ctx.identity.publicKey);
        return own.filter((t) => !t.own && t.deviceId).map((t) => toHex(t.deviceId!));
      }
      if (!ctx.devices) return [SINGLE_DEVICE];
      const targets = (await ctx.devices.targets(fromHex(account))).filter((t) => !t.own);
      return targets.length ? targets.map((t) => (t.deviceId ? toHex(t.deviceId) : SINGLE_DEVICE)) : [SINGLE_DEVICE];
    },
    sendPairwise: async (to, frame) => {
      const { contact, key, device } = await pairwiseTarget(to);
      const content = encodeContent({ t: 'group', frame });
      // The session check and the job are on the messenger's lane, as the starter's commit
      // is: a session that starts meanwhile either takes the job or is found here.
      const sent = await ctx.lane.run(async () => {
        if (await encryptAndQueue(to, contact, key, device, content)) return true;
        await ctx.store.commitPendingProtocol({ envelopeId: toHex(ctx.random.bytes(16)), contactId: contact.id, ...(device ? { device } : {}), mailbox: mailboxOf(to), plaintext: content, keep: true });
        return false;
      });
      if (!sent) {
        ctx.metrics.inc('groups.pairwise.waiting_session');
        deps.ensureSession(contact.id);
      }
      deps.queued();
    },
    sendOverSession: async (to, frame) => {
      const { contact, key, device } = await pairwiseTarget(to);
      if (!(await ctx.lane.run(() => encryptAndQueue(to, contact, key, device, encodeContent({ t: 'group', frame }))))) {
        deps.ensureSession(contact.id);
        throw new NoSessionError('no session with the member device yet (one is being started)');
      }
      deps.queued();
    },
    sendMulti: async (id, to, body) => {
      await deps.relay.sendMulti(id, to.map(mailboxOf), body);
    },
    contactName: (account) => {
      const c = ctx.contacts.byId(account);
      return c ? c.localName || c.displayName || undefined : undefined;
    },
    profileName: (account) => ctx.contacts.byId(account)?.displayName || undefined,
    isContact: (account) => {
      const c = ctx.contacts.byId(account);
      return !!c && c.listing === undefined && !c.blocked;
    },
    ownName: deps.ownName,
    keyChanges: () => {
      const out = new Map<string, number>();
      for (const c of ctx.contacts.all()) {
        if (!sendBlocked(c)) continue;
        out.set(c.id, c.possibleKeyChangeOf && !c.possibleKeyChangeOf.acknowledged ? c.possibleKeyChangeOf.detectedAt : (c.keyChange?.detectedAt ?? 0));
      }
      return out;
    },
  };
  return new Groups({ store: ctx.store.groups, identity: ctx.identity, crypto: ctx.crypto, random: ctx.random, clock: ctx.clock, metrics: ctx.metrics, log: ctx.log.child('groups'), ports });
}

/** Is this envelope body a group message (`group.sealed`)? */
export function isGroupEnvelope(body: Uint8Array): boolean {
  try {
    return decodeGroupFrame(body, ['group.sealed']).t === 'group.sealed';
  } catch {
    return false;
  }
}

/** Hands a group envelope to the group parts; acknowledged once its outcome is durable. */
export function acceptGroupEnvelope(groups: Groups, incoming: IncomingEnvelope, changed: () => void): void {
  void groups.receiveEnvelope(incoming.envelope.id, incoming.envelope.body).then(
    () => {
      incoming.ack();
      changed();
    },
    // Storage trouble: not acknowledged, the relay delivers it again.
    () => undefined,
  );
}

/**
 * Takes the group inbox (store/group-inbox.ts): each frame to the group parts, then its row
 * removed. Handling is idempotent (a log resolves to the same state, a distribution never
 * moves a chain back, a receipt only moves forward, a key request is answered again), so
 * a crash after handling and before removal is harmless. A storage failure leaves the row
 * for the next take (the next batch, the minute tick, the next start). Returns the trigger.
 */
export function groupInboxTaker(store: Pick<PetrelStore, 'groupInbox' | 'deleteMeta'>, groups: Groups, changed: () => void): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  // Only an import writes group histories, before the core starts: the first take that
  // gets through them is the last one that looks.
  let histories = true;
  const takeAll = async (): Promise<void> => {
    do {
      again = false;
      for (const row of await store.groupInbox()) {
        await groups.receiveControl(memberOfSessionKey(row.sessionKey), row.frame);
        await store.deleteMeta(row.key);
      }
      // A link's group histories, now that the logs made their groups (group-history.ts).
      if (histories) {
        await groups.takeImportedHistory();
        histories = false;
      }
      // A member who writes first may have claimed another's name with its profile (key-change.ts).
      await groups.noteKeyChanges();
      changed();
    } while (again);
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = takeAll()
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}

/** The member device a pairwise group frame came from (its session key: account, then device). */
export function memberOfSessionKey(key: string): MemberDevice {
  return { account: key.slice(0, 64), device: key.length > 64 ? key.slice(64) : SINGLE_DEVICE };
}
