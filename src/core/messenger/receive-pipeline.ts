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
import { toHex } from '../bytes.ts';
import {
  acceptSession,
  CryptoError,
  decrypt,
  DuplicateMessageError,
  encrypt,
  findPreKeys,
  messageType,
  parseMessage,
  removeOneTimePreKeys,
  seal,
  serializePreKeyPool,
  unseal,
  type SessionState,
} from '../crypto/index.ts';
import type { ContactRecord, IncomingCommit, NewOutboxEntry, StatusUpdate } from '../store/index.ts';
import type { IngressGuard, IncomingEnvelope } from '../transport/index.ts';
import { decodeContent, encodeContent, isWireError, mailboxAddress, MAX_ACK_IDS, type Content } from '../wire/index.ts';
import type { MessengerContext } from './context.ts';
import { decodeSessionSet, encodeSessionSet, promote } from './session-set.ts';

/** Envelopes committed together at most (one IndexedDB transaction). */
export const RECEIVE_BATCH_MAX = 128;
/** A batch that failed to commit (storage trouble) is tried again after this long. */
export const RECEIVE_RETRY_DELAY_MS = 1_000;

export const UNKNOWN_CONTACT_NAME = 'Unknown contact';

interface Pending {
  readonly incoming: IncomingEnvelope;
  settle(result: 'committed' | 'duplicate' | 'failed'): void;
}

interface SessionWork {
  readonly contactId: string;
  readonly version: number | null;
  sessions: SessionState[];
  dirty: boolean;
  /** Message ids to acknowledge with a delivery receipt. */
  readonly delivered: Uint8Array[];
}

export interface ReceiveHooks {
  /** After each committed batch (refresh the view, kick the outbox for receipts). */
  committed(summary: { readonly messages: number; readonly receipts: number }): void;
  /** A decrypted WebRTC signaling payload from a contact (after its commit). */
  rtc?(contactId: string, content: Extract<Content, { t: 'rtc' }>): void;
}

export class ReceivePipeline {
  private queue: Pending[] = [];
  private draining = false;
  private cancelRetry: (() => void) | undefined;

  constructor(
    private readonly ctx: MessengerContext,
    private readonly guard: IngressGuard<unknown>,
    private readonly hooks: ReceiveHooks,
  ) {}

  /** Entry point for every transport's incoming envelopes. */
  accept(incoming: IncomingEnvelope): void {
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

  stop(): void {
    this.cancelRetry?.();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, RECEIVE_BATCH_MAX);
        const ok = await this.processBatch(batch);
        if (!ok) {
          // Storage trouble: keep the envelopes (unacknowledged) and try again shortly.
          this.queue.unshift(...batch);
          this.cancelRetry?.();
          this.cancelRetry = this.ctx.clock.setTimeout(() => void this.drain(), RECEIVE_RETRY_DELAY_MS);
          return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** False when the batch could not be committed (nothing was acknowledged). */
  private async processBatch(batch: Pending[]): Promise<boolean> {
    const { store, log } = this.ctx;
    let fresh = batch;
    try {
      const seen = await store.processedEnvelopes(batch.map((p) => toHex(p.incoming.envelope.id)));
      if (seen.size) {
        fresh = [];
        for (const p of batch) {
          if (seen.has(toHex(p.incoming.envelope.id))) p.settle('duplicate');
          else fresh.push(p);
        }
      }
      if (!fresh.length) return true;
      const outcome = await this.ctx.lane.run(() => this.decryptAndCommit(fresh));
      fresh.forEach((p, i) => p.settle(outcome.results[i]!));
      for (const [contactId, content] of outcome.rtc) this.hooks.rtc?.(contactId, content);
      this.hooks.committed({ messages: outcome.messages, receipts: outcome.receipts });
      return true;
    } catch (err) {
      log.error('receive batch not committed; will retry', { envelopes: fresh.length, error: err instanceof Error ? err.name : 'unknown' });
      this.ctx.metrics.inc('receive.commit_failure');
      return false;
    }
  }

  private async decryptAndCommit(batch: Pending[]) {
    const ctx = this.ctx;
    const now = ctx.clock.now();
    const work = new Map<string, SessionWork>();
    const changedContacts = new Map<string, ContactRecord>();
    const commits: IncomingCommit[] = [];
    const lastCommitOf = new Map<string, number>();
    const rtc: Array<[string, Extract<Content, { t: 'rtc' }>]> = [];
    let pool = ctx.pool;
    let poolChanged = false;
    let messages = 0;
    let receipts = 0;

    const sessionsOf = async (contactId: string): Promise<SessionWork> => {
      let w = work.get(contactId);
      if (!w) {
        const row = await ctx.store.getSession(contactId);
        w = { contactId, version: row?.version ?? null, sessions: row ? decodeSessionSet(row.state) : [], dirty: false, delivered: [] };
        work.set(contactId, w);
      }
      return w;
    };

    for (const p of batch) {
      const env = p.incoming.envelope;
      const envelopeId = toHex(env.id);
      const commit: { -readonly [K in keyof IncomingCommit]: IncomingCommit[K] } = { envelopeId, receivedAt: now };
      commits.push(commit);
      const failed = (reason: string) => {
        ctx.metrics.inc('crypto.failure', { reason });
        ctx.log.warn('undecryptable envelope recorded and dropped', { id: envelopeId, reason, transport: p.incoming.transport });
      };

      let sender: Uint8Array;
      let inner: Uint8Array;
      try {
        ({ senderIdentityPublic: sender, inner } = await unseal(ctx.identity, env.body));
      } catch (err) {
        failed(err instanceof CryptoError ? err.kind : 'sealed_sender_failed');
        continue;
      }
      const type = messageType(inner);
      if (!type) {
        failed('malformed_message');
        continue;
      }

      let contact = changedContacts.get(toHex(sender)) ?? ctx.contacts.byKey(sender);
      const w = contact ? await sessionsOf(contact.id) : undefined;
      let plaintext: Uint8Array | undefined;
      let lastError: unknown;
      if (w) {
        for (const s of w.sessions) {
          try {
            const out = await decrypt(s, inner);
            w.sessions = promote(w.sessions, out.state, s);
            plaintext = out.plaintext;
            break;
          } catch (err) {
            lastError = err;
            if (err instanceof DuplicateMessageError) break;
          }
        }
      }
      if (!plaintext && type === 'prekey' && !(lastError instanceof DuplicateMessageError)) {
        try {
          const parsed = parseMessage(inner);
          if (parsed.type !== 'prekey') throw new Error('unreachable');
          const accepted = await acceptSession(ctx.identity, findPreKeys(pool, parsed), parsed, { expectedSender: sender });
          pool = removeOneTimePreKeys(pool, accepted.usedOneTimePreKeys);
          poolChanged = true;
          if (!contact) {
            contact = { id: toHex(sender), displayName: UNKNOWN_CONTACT_NAME, identityKey: sender.slice(), verification: 'unverified', addedAt: now };
            changedContacts.set(contact.id, contact);
            commit.contactUpdate = contact;
          }
          const target = w ?? (await sessionsOf(contact.id));
          target.sessions = promote(target.sessions, accepted.state);
          plaintext = accepted.plaintext;
        } catch (err) {
          lastError = err;
        }
      }
      if (!plaintext || !contact) {
        failed(lastError instanceof CryptoError ? lastError.kind : 'no_session');
        continue;
      }
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
        case 'profile':
          // Only names a contact we had no name for: a name the user saw in an invite stays.
          if (contact.displayName === UNKNOWN_CONTACT_NAME && content.name.trim()) {
            contact = { ...contact, displayName: content.name.trim() };
            changedContacts.set(contact.id, contact);
            commit.contactUpdate = contact;
          }
          break;
      }
    }

    // The delivery receipts we owe, encrypted with the advanced sessions, go out with the commit.
    for (const w of work.values()) {
      if (!w.delivered.length) continue;
      const contact = changedContacts.get(w.contactId) ?? ctx.contacts.byId(w.contactId)!;
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
      c.sessionUpdate = { contactId: w.contactId, expectedVersion: w.version, state: encodeSessionSet(w.sessions) };
    }
    if (poolChanged && commits.length) {
      (commits[commits.length - 1] as { preKeyPool?: Uint8Array }).preKeyPool = serializePreKeyPool(pool);
    }

    const results = await ctx.store.commitIncomingBatch(commits);
    if (poolChanged) ctx.pool = pool;
    for (const c of changedContacts.values()) ctx.contacts.remember(c);
    ctx.metrics.inc('receive.envelopes', undefined, batch.length);
    return { results, rtc, messages, receipts };
  }

  /** Encrypts protocol content (a receipt) with the contact's current session into an outbox entry. */
  private async encryptProtocolMessage(w: SessionWork, contact: ContactRecord, content: Uint8Array): Promise<NewOutboxEntry> {
    const current = w.sessions[0]!;
    const { state, message } = await encrypt(current, content, this.ctx.random);
    w.sessions = promote(w.sessions, state, current);
    w.dirty = true;
    const body = await seal(this.ctx.identity, contact.identityKey, message, this.ctx.random);
    const id = this.ctx.random.bytes(16);
    return { envelopeId: toHex(id), contactId: contact.id, mailbox: mailboxAddress(contact.identityKey), envelope: body };
  }
}

