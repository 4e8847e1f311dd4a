/**
 * First contact: messages written to someone we have no session with wait in the outbox
 * as `pending_session` jobs (plaintext, on this device only). When the relay is reachable
 * the starter fetches the contact's prekey bundle, verifies its signatures against the
 * identity key we already trust for that contact, runs PQXDH, and — on the serial lane,
 * in one transaction — stores the new session and turns every pending job, in compose
 * order, into its encrypted envelope. The first of them carry the PQXDH prekey data.
 *
 * After MAX_BUNDLE_FETCH_FAILURES the waiting messages fail (the user may retry them) and
 * protocol jobs are dropped — except group frames, which are parked (OutboxRecord.keep):
 * they hold nobody back, are tried again every PARKED_RETRY_MS, and go with the next
 * session with their device, whoever starts it.
 */
import { bytesEqual, fromHex, toHex } from '../bytes.ts';
import { CryptoError, initiateSession, verifyFetchedBundle, type SessionState } from '../crypto/index.ts';
import { Backoff, RETRY_BACKOFF } from '../transport/index.ts';
import { deviceMailboxAddress, encodeContent, mailboxAddress, type FetchedBundle } from '../wire/index.ts';
import type { ContactRecord, OutboxRecord } from '../store/index.ts';
import { sessionKey } from '../store/session-key.ts';
import { targetDevice } from './device-routing.ts';
import { ownAccountContact } from './contact-directory.ts';
import type { MessengerContext } from './context.ts';
import { MissingJobContentError } from './errors.ts';
import { outgoingContent } from './message-content.ts';
import { sendBlocked } from './key-change.ts';
import { encryptFor } from './session-cipher.ts';
import { decodeSessionSet, encodeSessionSet, promote, sessionSetOf } from './session-set.ts';

/** Bundle fetches for one contact before its waiting messages are marked failed. */
export const MAX_BUNDLE_FETCH_FAILURES = 8;

/**
 * How long after giving up a target with parked group frames (OutboxRecord.keep) the
 * starter tries it again (another MAX_BUNDLE_FETCH_FAILURES fetches on the backoff), for
 * as long as they are parked: a member who publishes keys late still gets the group's
 * changes, at a cost of a few fetches an hour.
 */
export const PARKED_RETRY_MS = 30 * 60_000;

/**
 * How long copies for a contact's device whose bundle is `not_found` wait for it: a device
 * just linked publishes its keys only once the link's transfer is done, and its contacts
 * may hear of it (its list) before. After that its copies are dropped, and the device's
 * further copies are dropped at once for UNPUBLISHED_DEVICE_MEMORY_MS.
 */
export const UNPUBLISHED_DEVICE_WAIT_MS = 60_000;
export const UNPUBLISHED_DEVICE_MEMORY_MS = 10 * 60_000;

export interface BundleSource {
  isOnline(): boolean;
  /** A contact's bundle; with `deviceId`, that device's (prekeys.fetch{ik, dev}). */
  fetchPrekeys(identityKey: Uint8Array, deviceId?: Uint8Array): Promise<FetchedBundle>;
}

export class SessionStarter {
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private readonly failures = new Map<string, Backoff>();
  private readonly timers = new Map<string, () => void>();
  /** Per session key of a contact's device: when its bundle was first `not_found` (waiting), or when waiting gave up (`gaveUpAt`). */
  private readonly unpublished = new Map<string, { readonly since: number; gaveUpAt?: number }>();
  private stopped = false;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly relay: BundleSource,
    /** After a start's commit (`contactId`: the session with one of its devices is there now), or after jobs were given up (no argument). */
    private readonly started: (contactId?: string) => void,
    private readonly displayName: () => string,
    private readonly unpublishedWaitMs: number = UNPUBLISHED_DEVICE_WAIT_MS,
  ) {}

  /** Starts a session with every contact that has pending jobs (at boot and when the relay comes online). */
  async resumeAll(): Promise<void> {
    for (const c of [...this.ctx.contacts.all(), ownAccountContact(this.ctx.identity.publicKey)]) {
      if ((await this.ctx.store.jobsAwaitingSession(c.id)).length) this.ensure(c.id);
    }
    // A listed device keeps a session with each of our other devices (transcripts, read marks).
    if (this.ctx.devices?.sealDevice) this.ensure(ownAccountContact(this.ctx.identity.publicKey).id);
  }

  /**
   * Our own account as the "contact" that copies to our other devices (sent transcripts)
   * are queued under: its sessions are keyed by our account and each device.
   */
  private contactOf(contactId: string): ContactRecord | undefined {
    return this.ctx.contacts.byId(contactId) ?? (contactId === toHex(this.ctx.identity.publicKey) ? ownAccountContact(this.ctx.identity.publicKey) : undefined);
  }

  ensure(contactId: string): void {
    if (!this.relay.isOnline()) return;
    // Jobs queued while a start runs (a retry request) get a pass of their own after it.
    if (this.running.has(contactId)) {
      this.again.add(contactId);
      return;
    }
    // A key change waiting for acknowledgement: nothing is encrypted for the new key yet.
    const contact = this.contactOf(contactId);
    if (!contact || sendBlocked(contact)) return;
    this.running.add(contactId);
    void this.start(contactId)
      .catch((err: unknown) => this.ctx.log.warn('session start failed', { contact: contactId.slice(0, 8), error: err instanceof Error ? err.name : 'unknown' }))
      .finally(() => {
        this.running.delete(contactId);
        if (this.again.delete(contactId) && !this.stopped) this.ensure(contactId);
      });
  }

  stop(): void {
    // A start still fetching its bundle must not commit once the core stopped: a next core
    // may already be running on the same store, with its own view of the session's version.
    this.stopped = true;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  /**
   * Starts what is missing for `contactId`: the session with its account (a single-device
   * contact), or with each of its devices that has waiting jobs or no session yet.
   */
  private async start(contactId: string): Promise<void> {
    const contact = this.contactOf(contactId);
    if (!contact) return;
    const own = contactId === toHex(this.ctx.identity.publicKey);
    const jobs = await this.ctx.store.jobsAwaitingSession(contactId);
    const devices = new Set<string | undefined>(jobs.map((j) => j.device));
    // Our own other devices are the "contact" targets of a message to ourselves (fanOutTargets skips this device).
    const targets = this.ctx.devices ? (await this.ctx.devices.targets(contact.identityKey)).filter((t) => !t.own && (!own || t.deviceId)) : [];
    for (const t of targets) devices.add(targetDevice(t));
    if (!devices.size && !own) devices.add(undefined);
    for (const device of devices) {
      if (this.stopped) return;
      const hasJobs = jobs.some((j) => j.device === device);
      if (!hasJobs && (await this.ctx.store.getSession(sessionKey(contactId, device)))) continue;
      await this.startOne(contactId, device);
    }
    // Copies of what was just sent, waiting for a session with one of our own devices.
    if (!own && !this.stopped && (await this.ctx.store.pendingJobs(toHex(this.ctx.identity.publicKey))).length) this.ensure(toHex(this.ctx.identity.publicKey));
  }

  private async startOne(contactId: string, device: string | undefined): Promise<void> {
    const { ctx } = this;
    const contact = this.contactOf(contactId);
    if (!contact) return;
    const key = sessionKey(contactId, device);
    let session: SessionState | undefined;
    const existing = await ctx.store.getSession(key);
    // A retry request (session-repair.ts) goes under a fresh session: the one we hold is what
    // failed. Not when the current one is our own start still waiting for its first answer.
    const repair = (await ctx.store.pendingJobs(contactId)).some((j) => j.device === device && j.repair);
    const fresh = repair && existing !== undefined && !decodeSessionSet(existing.state).sessions[0]?.awaitingFirstReply;
    if (!existing || fresh) {
      try {
        const fetched = await this.relay.fetchPrekeys(contact.identityKey, device === undefined ? undefined : fromHex(device));
        const bundle = await verifyFetchedBundle(fetched, contact.identityKey);
        session = (await initiateSession(ctx.identity, bundle, ctx.crypto)).state;
      } catch (err) {
        await this.fetchFailed(contactId, device, err);
        return;
      }
    }
    this.failures.delete(key);
    this.unpublished.delete(key);
    const done = await ctx.lane.run(async () => {
      if (this.stopped) return false;
      // The contact may have changed key (and lost its session) while the bundle was fetched.
      const now = this.contactOf(contactId);
      if (!now || sendBlocked(now) || !bytesEqual(now.identityKey, contact.identityKey)) return false;
      const row = await ctx.store.getSession(key);
      if (!row && !session) return false;
      // A fresh session for repair becomes current; the ones held stay as previous (messages in flight under them still open).
      let set = row ? (session ? promote(decodeSessionSet(row.state), session) : decodeSessionSet(row.state)) : sessionSetOf(session!);
      const jobs = (await ctx.store.jobsAwaitingSession(contactId)).filter((j) => j.device === device);
      if (!jobs.length && row) return true;
      const encrypted: { envelopeId: string; envelope: Uint8Array }[] = [];
      for (const job of jobs) {
        const out = await encryptFor(ctx, set, contact.identityKey, job.plaintext ?? (await this.rebuiltContent(job)));
        set = out.set;
        encrypted.push({ envelopeId: job.envelopeId, envelope: out.envelope });
      }
      await ctx.store.commitSessionStart({ sessionUpdate: { contactId: key, expectedVersion: row?.version ?? null, state: encodeSessionSet(set) }, encrypted });
      ctx.log.info('session started', { contact: contactId.slice(0, 8), ...(device ? { device: device.slice(0, 8) } : {}), messages: jobs.length, new: !row || session !== undefined });
      const unparked = jobs.filter((j) => j.state === 'failed').length;
      if (unparked) ctx.metrics.inc('sessions.jobs_unparked', {}, unparked);
      if (row && session) ctx.metrics.inc('repair.session_started');
      if (!row && !bytesEqual(contact.identityKey, ctx.identity.publicKey)) await this.introduce(contactId, contact.identityKey, device);
      return true;
    });
    if (this.stopped) return;
    if (done) this.started(contactId);
    // The session went (a key change) between the check and the lane: start over from the store.
    else {
      const latest = this.contactOf(contactId);
      if (latest && !sendBlocked(latest)) this.retryLater(contactId, 0);
    }
  }

  /**
   * The content of a message job put back to `pending_session` by a key change (its
   * old-session envelope was dropped, its plaintext never kept): the same `msg` (or
   * `file`) content the command encoded, rebuilt from the message row.
   */
  private async rebuiltContent(job: OutboxRecord): Promise<Uint8Array> {
    const m = job.messageId ? await this.ctx.store.getMessage(job.messageId) : undefined;
    if (!m) throw new MissingJobContentError(job.envelopeId);
    return outgoingContent(m);
  }

  /**
   * Tells a new contact our display name (they learn our identity from the session, but
   * not what to call us). Protocol content without a message row of its own.
   */
  private async introduce(contactId: string, identityKey: Uint8Array, device: string | undefined): Promise<void> {
    const { ctx } = this;
    const key = sessionKey(contactId, device);
    const row = (await ctx.store.getSession(key))!;
    const content = encodeContent({ t: 'profile', name: this.displayName() });
    const out = await encryptFor(ctx, decodeSessionSet(row.state), identityKey, content);
    const id = ctx.random.bytes(16);
    await ctx.store.commitOutgoing({
      sessionUpdate: { contactId: key, expectedVersion: row.version, state: encodeSessionSet(out.set) },
      outboxEntry: {
        envelopeId: toHex(id),
        contactId,
        ...(device ? { device } : {}),
        mailbox: device ? deviceMailboxAddress(identityKey, fromHex(device)) : mailboxAddress(identityKey),
        envelope: out.envelope,
      },
    });
  }

  private async fetchFailed(contactId: string, device: string | undefined, err: unknown): Promise<void> {
    const { ctx } = this;
    const code = err instanceof CryptoError ? err.kind : ((err as { code?: string } | null)?.code ?? (err instanceof Error ? err.name : 'unknown'));
    if (err instanceof CryptoError) ctx.metrics.inc('crypto.failure', { reason: err.kind });
    ctx.log.warn('prekey bundle fetch failed', { contact: contactId.slice(0, 8), code });
    const key = sessionKey(contactId, device);
    // A device without keys yet (just linked: it publishes them once its link's transfer is
    // done) is waited for, with backoff, up to unpublishedWaitMs; then, and at once for an
    // unlinked one, its copies are dropped (the message stands on its other copies) and an
    // unlinked one's list is fetched again. (One of our own devices is always waited for.)
    const now = ctx.clock.now();
    const waiting = code === 'not_found' && device !== undefined && contactId !== ownAccountContact(this.ctx.identity.publicKey).id ? this.unpublished.get(key) : undefined;
    if (code === 'not_found' && device !== undefined && contactId !== ownAccountContact(this.ctx.identity.publicKey).id) {
      if (!waiting || (waiting.gaveUpAt !== undefined && now - waiting.gaveUpAt > UNPUBLISHED_DEVICE_MEMORY_MS)) this.unpublished.set(key, { since: now });
      const w = this.unpublished.get(key)!;
      if (w.gaveUpAt === undefined && now - w.since < this.unpublishedWaitMs) {
        ctx.metrics.inc('devices.copy_waiting_keys');
        let backoff = this.failures.get(key);
        if (!backoff) this.failures.set(key, (backoff = new Backoff(RETRY_BACKOFF, ctx.random)));
        this.retryLater(contactId, Math.min(backoff.next(), Math.max(0, w.since + this.unpublishedWaitMs - now)));
        return;
      }
      w.gaveUpAt ??= now;
    }
    if (device !== undefined && contactId !== ownAccountContact(this.ctx.identity.publicKey).id && (code === 'not_found' || code === 'device_unlinked')) {
      this.failures.delete(key);
      ctx.metrics.inc('devices.copy_dropped', { reason: code });
      const contact = this.contactOf(contactId);
      if (code === 'device_unlinked' && contact) ctx.devices?.refetch(contact.identityKey);
      await this.giveUp(contactId, device, code === 'not_found' ? 'The contact’s device has no keys on the relay' : "The contact's device was unlinked", code === 'not_found');
      return;
    }
    let backoff = this.failures.get(key);
    if (!backoff) this.failures.set(key, (backoff = new Backoff(RETRY_BACKOFF, ctx.random)));
    if (backoff.attempts >= MAX_BUNDLE_FETCH_FAILURES) {
      this.failures.delete(key);
      const reason =
        code === 'not_found'
          ? 'This contact has not published keys to the relay yet'
          : err instanceof CryptoError
            ? "The contact's keys failed verification"
            : 'Could not reach the contact’s keys on the relay';
      await this.giveUp(contactId, device, reason, true);
      return;
    }
    this.retryLater(contactId, backoff.next());
  }

  /**
   * The waiting jobs for this target fail; a device's copy of a message is dropped instead
   * while the message has other copies. Group frames are parked when the device may still
   * come (`park`: tried again after PARKED_RETRY_MS), dropped for an unlinked device.
   */
  private async giveUp(contactId: string, device: string | undefined, reason: string, park: boolean): Promise<void> {
    const { ctx } = this;
    let parked = 0;
    for (const job of await ctx.store.jobsAwaitingSession(contactId)) {
      if (job.device !== device || (park && job.state === 'failed')) continue;
      if (job.keep && !park) {
        await ctx.store.dropOutboxEntry(job.envelopeId, reason);
        ctx.metrics.inc('sessions.jobs_dropped', { reason: 'device_unlinked' });
      } else if (device !== undefined && job.messageId !== undefined) await ctx.store.dropOutboxEntry(job.envelopeId, reason);
      else {
        await ctx.store.markFailed(job.envelopeId, reason);
        if (job.keep) parked++;
      }
    }
    if (parked) {
      ctx.metrics.inc('sessions.jobs_parked', {}, parked);
      ctx.log.warn('group frames parked until a session starts', { contact: contactId.slice(0, 8), ...(device ? { device: device.slice(0, 8) } : {}), frames: parked, reason });
    }
    // Parked frames (these or earlier ones) for this target: tried again later, while they
    // wait. A retry already due for the contact (another device's backoff) tries them too.
    if (park && !this.timers.has(contactId) && (await ctx.store.jobsAwaitingSession(contactId)).some((j) => j.device === device && j.state === 'failed')) this.retryLater(contactId, PARKED_RETRY_MS);
    this.started();
  }

  private retryLater(contactId: string, delay: number): void {
    if (this.stopped) return;
    this.timers.get(contactId)?.();
    this.timers.set(
      contactId,
      this.ctx.clock.setTimeout(() => {
        this.timers.delete(contactId);
        this.ensure(contactId);
      }, delay),
    );
  }
}
