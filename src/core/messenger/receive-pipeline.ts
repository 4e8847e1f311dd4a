/**
 * ingress → validate → dedup → unseal → decrypt → commit → ack → view.
 *
 * Envelopes from every transport queue here. The pipeline drains them in batches: the
 * ingress guard drops replays of committed envelopes without touching storage, the
 * store's dedup marks catch the rest, then (on the serial lane) each envelope is
 * unsealed and decrypted against a working copy of its contact's sessions. The whole
 * batch — dedup marks, message rows, receipt status moves, at most one session update
 * per contact, the prekey pool, new contacts and the delivery receipts we owe — commits
 * in ONE transaction. Only then are the envelopes acknowledged to the relay or peer.
 *
 * An envelope that can never be decrypted (tampered, replay of a consumed key, unknown
 * prekey, garbage) is recorded as processed, counted as `crypto.failure{reason}` and
 * acknowledged, so it is not redelivered forever. A storage failure acknowledges
 * nothing: the envelope comes again and is decrypted again from the unchanged session.
 */
import { bytesEqual, toHex } from '../bytes.ts';
import { CorruptStateError, CryptoError, messageType, serializePreKeyPool, unseal, type PreKeyPool } from '../crypto/index.ts';
import type { ContactRecord, IncomingCommit, IncomingResult, NewOutboxEntry, StatusUpdate } from '../store/index.ts';
import type { IngressGuard, IncomingEnvelope } from '../transport/index.ts';
import { decodeContent, encodeContent, isWireError, mailboxAddress, MAX_ACK_IDS, type Content } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { MalformedSessionSetError, MessengerError, ReplayedSessionStartError } from './errors.ts';
import { claimedContact } from './key-change.ts';
import { decryptWith, encryptFor } from './session-cipher.ts';
import { decodeSessionSet, EMPTY_SESSION_SET, encodeSessionSet, type SessionSet } from './session-set.ts';

/** Envelopes committed together at most (one IndexedDB transaction). */
export const RECEIVE_BATCH_MAX = 128;
/**
 * Batches one lane turn processes, pipelined (decrypting the next while the last commits),
 * before it lets a send or another lane user in: a send during a long catch-up waits for
 * at most this many commits, and each turn loses the overlap of one commit.
 */
export const RECEIVE_TURN_BATCHES = 4;
/** A batch that failed to commit (storage trouble) is tried again after this long. */
export const RECEIVE_RETRY_DELAY_MS = 1_000;

export const UNKNOWN_CONTACT_NAME = 'Unknown contact';

interface Pending {
  readonly incoming: IncomingEnvelope;
  settle(result: 'committed' | 'duplicate' | 'failed'): void;
}

interface SessionWork {
  readonly contactId: string;
  /** The stored version the batch's session update expects (as of the previous commit of this run). */
  readonly version: number | null;
  set: SessionSet;
  dirty: boolean;
  /** Message ids to acknowledge with a delivery receipt. */
  readonly delivered: Uint8Array[];
}

/**
 * What one lane turn carries from a batch to the next while the earlier batch's commit
 * is still in flight: the sessions, prekey pool and new contacts as that commit will
 * leave them. Dropped at the end of the turn (the store is the truth again) and whenever
 * a commit fails.
 */
interface Carry {
  readonly sessions: Map<string, { readonly version: number | null; readonly set: SessionSet }>;
  pool: PreKeyPool;
  readonly contacts: Map<string, ContactRecord>;
}

/** A decrypted batch whose commit is ready to issue. */
interface Prepared {
  readonly batch: Pending[];
  readonly commits: IncomingCommit[];
  readonly rtc: Array<[string, Extract<Content, { t: 'rtc' }>]>;
  readonly messages: number;
  readonly receipts: number;
  readonly pool: PreKeyPool | undefined;
  readonly contacts: readonly ContactRecord[];
}

interface InFlight {
  readonly prepared: Prepared;
  readonly commit: Promise<IncomingResult[]>;
}

type Unsealed = { readonly sender: Uint8Array; readonly inner: Uint8Array } | { readonly error: unknown };

export interface ReceiveHooks {
  /**
   * After each committed batch (refresh the view, kick the outbox for receipts).
   * `delivered`: our messages a delivery receipt of this batch named, with the time the
   * batch committed them (for the delivery latency).
   */
  committed(summary: {
    /** Envelopes newly committed (dedup marks written); duplicates not counted. */
    readonly envelopes: number;
    readonly messages: number;
    readonly receipts: number;
    readonly delivered: readonly { readonly messageId: string; readonly at: number }[];
  }): void;
  /** A decrypted WebRTC signaling payload from a contact (after its commit). */
  rtc?(contactId: string, content: Extract<Content, { t: 'rtc' }>): void;
}

export class ReceivePipeline {
  private queue: Pending[] = [];
  private draining = false;
  /** The drain in progress (what `stop` waits for). */
  private drained: Promise<void> = Promise.resolve();
  private stopped = false;
  private cancelRetry: (() => void) | undefined;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly guard: IngressGuard<unknown>,
    private readonly hooks: ReceiveHooks,
  ) {}

  /** Entry point for every transport's incoming envelopes. */
  accept(incoming: IncomingEnvelope): void {
    if (this.stopped) return; // not acknowledged: the relay delivers it again to the next core
    const admission = this.guard.admit(incoming);
    if (admission.kind !== 'fresh') return;
    this.queue.push({ incoming, settle: admission.settle });
    void this.drain();
  }

  /** Resolves when everything queued so far has been processed (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.draining || this.queue.length) {
      await new Promise<void>((r) => this.ctx.clock.setTimeout(r, 1));
    }
  }

  /**
   * Takes no more envelopes and commits nothing new; resolves once the commit in flight
   * (if any) has settled. Envelopes still queued are dropped unacknowledged: the relay
   * delivers them again to the next core. Without this, a stopped core's retry could
   * commit an older envelope after the next core committed a newer one (out of order).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelRetry?.();
    this.queue = [];
    await this.drained;
  }

  private drain(): Promise<void> {
    if (this.draining || this.stopped) return this.drained;
    this.draining = true;
    this.drained = this.drainLoop().finally(() => {
      this.draining = false;
    });
    return this.drained;
  }

  private async drainLoop(): Promise<void> {
    while (this.queue.length && !this.stopped) {
      // Batches are taken inside the lane turn, so envelopes handed in together form one batch.
      const ok = await this.ctx.lane.run(() => this.turn());
      if (!ok && !this.stopped) {
        // Storage trouble: the envelopes are back in the queue (unacknowledged); try again shortly.
        this.cancelRetry?.();
        this.cancelRetry = this.ctx.clock.setTimeout(() => void this.drain(), RECEIVE_RETRY_DELAY_MS);
        return;
      }
    }
  }

  /**
   * One lane turn: up to RECEIVE_TURN_BATCHES batches, pipelined. Batch N+1 is checked
   * against the dedup marks and decrypted (from the state batch N's commit will leave)
   * while batch N's transaction commits; N+1's commit is issued only after N's succeeded.
   * Each batch is still one transaction and is acknowledged only after it. The turn ends
   * with no commit in flight, so the next lane user reads committed sessions.
   *
   * False when something failed (storage): the batch that failed and every later one taken
   * in this turn go back to the front of the queue, unacknowledged, and their decrypted
   * state is dropped (the next turn starts again from the store).
   */
  private async turn(): Promise<boolean> {
    const carry: Carry = { sessions: new Map(), pool: this.ctx.pool, contacts: new Map() };
    let next = this.take();
    let inflight: InFlight | undefined;
    let batches = 0;
    while (next) {
      const taken = next;
      next = undefined;
      let pending = taken.batch;
      let prepared: Prepared | undefined;
      try {
        pending = this.withoutDuplicates(taken.batch, await taken.seen);
        prepared = pending.length ? await this.prepare(pending, carry) : undefined;
      } catch (err) {
        this.notCommitted(err, pending.length);
        const left = inflight ? await this.finish(inflight) : undefined;
        this.queue.unshift(...(left ?? []), ...pending);
        return false;
      }
      if (inflight) {
        const left = await this.finish(inflight);
        inflight = undefined;
        if (left) {
          this.queue.unshift(...left, ...pending);
          return false;
        }
      }
      // The next batch's dedup read is issued before this batch's commit, so it does not queue behind it.
      if (++batches < RECEIVE_TURN_BATCHES) next = this.take();
      if (prepared?.commits.length) {
        const commit = this.ctx.store.commitIncomingBatch(prepared.commits);
        commit.catch(() => undefined); // awaited by finish(); not unhandled meanwhile
        inflight = { prepared, commit };
      }
    }
    const left = inflight ? await this.finish(inflight) : undefined;
    if (left) this.queue.unshift(...left);
    return !left;
  }

  private take(): { batch: Pending[]; seen: Promise<ReadonlySet<string>> } | undefined {
    if (!this.queue.length || this.stopped) return undefined;
    const batch = this.queue.splice(0, RECEIVE_BATCH_MAX);
    const seen = this.ctx.store.processedEnvelopes(batch.map((p) => toHex(p.incoming.envelope.id)));
    seen.catch(() => undefined); // awaited by turn(); not unhandled meanwhile
    return { batch, seen };
  }

  private withoutDuplicates(batch: Pending[], seen: ReadonlySet<string>): Pending[] {
    if (!seen.size) return batch;
    const fresh: Pending[] = [];
    for (const p of batch) {
      if (seen.has(toHex(p.incoming.envelope.id))) p.settle('duplicate');
      else fresh.push(p);
    }
    return fresh;
  }

  /** Waits for a batch's commit: settles it, or returns its envelopes when the commit failed. */
  private async finish(inflight: InFlight): Promise<Pending[] | undefined> {
    try {
      this.settle(inflight.prepared, await inflight.commit);
      return undefined;
    } catch (err) {
      this.notCommitted(err, inflight.prepared.batch.length);
      return inflight.prepared.batch;
    }
  }

  private notCommitted(err: unknown, envelopes: number): void {
    this.ctx.log.error('receive batch not committed; will retry', { envelopes, error: err instanceof Error ? err.name : 'unknown' });
    this.ctx.metrics.inc('receive.commit_failure');
  }

  /** After a batch's commit: its state becomes the context's, its envelopes are acknowledged. */
  private settle(prepared: Prepared, results: readonly IncomingResult[]): void {
    if (prepared.pool) this.ctx.pool = prepared.pool;
    for (const c of prepared.contacts) this.ctx.contacts.remember(c);
    this.ctx.metrics.inc('receive.envelopes', undefined, prepared.batch.length);
    prepared.batch.forEach((p, i) => p.settle(results[i]!));
    for (const [contactId, content] of prepared.rtc) this.hooks.rtc?.(contactId, content);
    const delivered = prepared.commits.flatMap((c, i) =>
      results[i] === 'committed' ? (c.statusUpdates ?? []).filter((u) => u.status === 'delivered').map((u) => ({ messageId: u.messageId, at: c.receivedAt })) : [],
    );
    this.hooks.committed({ envelopes: results.filter((r) => r === 'committed').length, messages: prepared.messages, receipts: prepared.receipts, delivered });
  }

  /**
   * Unseals (concurrently: independent of any session, and WebCrypto's X25519 runs off the
   * main thread) and decrypts a batch in order against the carried state, producing its
   * commits. Advances `carry` to the state the commit will leave.
   */
  private async prepare(batch: Pending[], carry: Carry): Promise<Prepared> {
    const ctx = this.ctx;
    const now = ctx.clock.now();
    const work = new Map<string, SessionWork>();
    const changedContacts = new Map<string, ContactRecord>();
    const commits: IncomingCommit[] = [];
    const lastCommitOf = new Map<string, number>();
    const rtc: Array<[string, Extract<Content, { t: 'rtc' }>]> = [];
    let pool = carry.pool;
    let poolChanged = false;
    let messages = 0;
    let receipts = 0;
    /** Envelopes of contacts whose stored sessions are corrupt: not part of this commit, not acknowledged. */
    const unusable: Pending[] = [];

    const sessionsOf = async (contactId: string): Promise<SessionWork> => {
      let w = work.get(contactId);
      if (!w) {
        const carried = carry.sessions.get(contactId);
        if (carried) {
          w = { contactId, version: carried.version, set: carried.set, dirty: false, delivered: [] };
        } else {
          const row = await ctx.store.getSession(contactId);
          w = { contactId, version: row?.version ?? null, set: row ? decodeSessionSet(row.state) : EMPTY_SESSION_SET, dirty: false, delivered: [] };
        }
        work.set(contactId, w);
      }
      return w;
    };
    // Contacts as this batch sees them: changed here, or by an earlier batch of the turn, or committed.
    const contactById = (id: string): ContactRecord | undefined => changedContacts.get(id) ?? carry.contacts.get(id) ?? ctx.contacts.byId(id);
    const contactByKey = (key: Uint8Array): ContactRecord | undefined => {
      const c = contactById(ctx.contacts.byKey(key)?.id ?? toHex(key));
      return c && bytesEqual(c.identityKey, key) ? c : undefined;
    };
    const allContacts = (): ContactRecord[] => {
      const all = new Map(ctx.contacts.all().map((c) => [c.id, c]));
      for (const c of [...carry.contacts.values(), ...changedContacts.values()]) all.set(c.id, c);
      return [...all.values()];
    };

    const unsealed = await Promise.all(
      batch.map((p): Promise<Unsealed> =>
        unseal(ctx.identity, p.incoming.envelope.body, ctx.crypto).then(
          ({ senderIdentityPublic, inner }) => ({ sender: senderIdentityPublic, inner }),
          (error: unknown) => ({ error }),
        ),
      ),
    );

    for (const [index, p] of batch.entries()) {
      const env = p.incoming.envelope;
      const envelopeId = toHex(env.id);
      const commit: { -readonly [K in keyof IncomingCommit]: IncomingCommit[K] } = { envelopeId, receivedAt: now };
      commits.push(commit);
      const failed = (reason: string) => {
        ctx.metrics.inc('crypto.failure', { reason });
        ctx.log.warn('undecryptable envelope recorded and dropped', { id: envelopeId, reason, transport: p.incoming.transport });
      };

      const opened = unsealed[index]!;
      if ('error' in opened) {
        failed(opened.error instanceof CryptoError ? opened.error.kind : 'sealed_sender_failed');
        continue;
      }
      const { sender, inner } = opened;
      const type = messageType(inner);
      if (!type) {
        failed('malformed_message');
        continue;
      }

      let contact = contactByKey(sender);
      if (!contact && contactById(toHex(sender))) {
        // The key a contact had before a key change (its id is that first key): the old
        // device still writing. Never a new contact under the same id, nor a session with it.
        failed('superseded_identity');
        continue;
      }
      let w: SessionWork | undefined;
      try {
        w = contact ? await sessionsOf(contact.id) : undefined;
      } catch (err) {
        if (!(err instanceof CorruptStateError || err instanceof MalformedSessionSetError)) throw err;
        // Never decrypt with a damaged state, and never acknowledge what it could not read:
        // the envelope stays at the relay (or with the peer) until the state is repaired.
        commits.pop();
        unusable.push(p);
        ctx.metrics.inc('storage.corrupt_state', { what: 'session' });
        ctx.log.error('stored session state is corrupt: envelope left unacknowledged', { contact: contact!.id.slice(0, 8), id: envelopeId });
        continue;
      }
      let decrypted;
      try {
        decrypted = await decryptWith({ identity: ctx.identity, crypto: ctx.crypto, pool }, w?.set ?? EMPTY_SESSION_SET, sender, inner);
      } catch (err) {
        if (err instanceof ReplayedSessionStartError) {
          // A copy of a first message we already accepted, under a new envelope id: a replay.
          ctx.metrics.inc('packet.replay', { transport: p.incoming.transport, kind: 'session_start' });
          ctx.log.warn('replayed session start dropped', { id: envelopeId, transport: p.incoming.transport });
        } else failed(err instanceof CryptoError || err instanceof MessengerError ? err.kind : 'no_session');
        continue;
      }
      if (decrypted.pool) {
        pool = decrypted.pool;
        poolChanged = true;
      }
      if (!contact) {
        contact = { id: toHex(sender), displayName: UNKNOWN_CONTACT_NAME, identityKey: sender.slice(), verification: 'unverified', addedAt: now };
        changedContacts.set(contact.id, contact);
        commit.contactUpdate = contact;
      }
      (w ?? (await sessionsOf(contact.id))).set = decrypted.set;
      const plaintext = decrypted.plaintext;
      commit.from = contact.id;
      const cw = work.get(contact.id)!;
      cw.dirty = true;
      lastCommitOf.set(contact.id, commits.length - 1);

      let content: Content;
      try {
        content = decodeContent(plaintext, { metrics: ctx.metrics });
      } catch (err) {
        // The session advanced (the key is spent) but the content is unusable: count and drop it.
        ctx.log.warn('undecodable content dropped', { id: envelopeId, reason: isWireError(err) ? err.reason : 'unknown' });
        continue;
      }
      switch (content.t) {
        case 'msg':
          commit.message = { id: toHex(content.id), contactId: contact.id, body: content.text, sentAt: content.ts, via: p.incoming.transport };
          cw.delivered.push(content.id);
          messages++;
          break;
        case 'receipt': {
          const status: StatusUpdate['status'] = content.kind;
          commit.statusUpdates = content.ids.map((id) => ({ messageId: toHex(id), status }));
          receipts++;
          break;
        }
        case 'rtc':
          rtc.push([contact.id, content]);
          break;
        case 'profile': {
          // Only names a contact we had no name for: a name the user saw in an invite stays.
          const name = content.name.trim();
          if (contact.displayName !== UNKNOWN_CONTACT_NAME || !name) break;
          // The name of an existing contact with another key: not silently a second "Bob"
          // (key-change.ts). It stays its own contact, flagged, and sending to it is blocked.
          const claimed = name === UNKNOWN_CONTACT_NAME ? undefined : claimedContact(allContacts(), name, contact.identityKey);
          contact = { ...contact, displayName: name, ...(claimed ? { possibleKeyChangeOf: { contactId: claimed.id, detectedAt: now, acknowledged: false } } : {}) };
          if (claimed) {
            ctx.metrics.inc('contacts.claimed_name');
            ctx.log.warn('new contact claims the name of an existing one with another key', { contact: contact.id.slice(0, 8), claims: claimed.id.slice(0, 8) });
          }
          changedContacts.set(contact.id, contact);
          commit.contactUpdate = contact;
          break;
        }
      }
    }

    // The delivery receipts we owe, encrypted with the advanced sessions, go out with the commit.
    for (const w of work.values()) {
      if (!w.delivered.length) continue;
      const contact = changedContacts.get(w.contactId) ?? carry.contacts.get(w.contactId) ?? ctx.contacts.byId(w.contactId)!;
      const at = lastCommitOf.get(w.contactId)!;
      const entries: NewOutboxEntry[] = [];
      for (let i = 0; i < w.delivered.length; i += MAX_ACK_IDS) {
        const receipt = encodeContent({ t: 'receipt', kind: 'delivered', ids: w.delivered.slice(i, i + MAX_ACK_IDS) });
        entries.push(await this.encryptProtocolMessage(w, contact, receipt));
      }
      const c = commits[at] as { outboxEntries?: readonly NewOutboxEntry[] };
      c.outboxEntries = entries;
    }
    // At most one session update per contact: the final state, on the contact's last commit.
    for (const w of work.values()) {
      if (!w.dirty) continue;
      const c = commits[lastCommitOf.get(w.contactId)!] as { sessionUpdate?: IncomingCommit['sessionUpdate'] };
      c.sessionUpdate = { contactId: w.contactId, expectedVersion: w.version, state: encodeSessionSet(w.set) };
    }
    if (poolChanged && commits.length) {
      (commits[commits.length - 1] as { preKeyPool?: Uint8Array }).preKeyPool = serializePreKeyPool(pool);
    }

    // The state this commit will leave, for the next batch of the turn (versions as the store will number them).
    for (const w of work.values()) carry.sessions.set(w.contactId, { version: w.dirty ? (w.version ?? 0) + 1 : w.version, set: w.set });
    carry.pool = pool;
    for (const c of changedContacts.values()) carry.contacts.set(c.id, c);
    for (const p of unusable) p.settle('failed');
    if (unusable.length) batch = batch.filter((p) => !unusable.includes(p));
    return { batch, commits, rtc, messages, receipts, pool: poolChanged ? pool : undefined, contacts: [...changedContacts.values()] };
  }

  /** Encrypts protocol content (a receipt) with the contact's current session into an outbox entry. */
  private async encryptProtocolMessage(w: SessionWork, contact: ContactRecord, content: Uint8Array): Promise<NewOutboxEntry> {
    const { set, envelope: body } = await encryptFor(this.ctx, w.set, contact.identityKey, content);
    w.set = set;
    w.dirty = true;
    const id = this.ctx.random.bytes(16);
    return { envelopeId: toHex(id), contactId: contact.id, mailbox: mailboxAddress(contact.identityKey), envelope: body };
  }
}
