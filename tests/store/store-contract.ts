/**
 * The store contract, written once and run against every implementation (in-memory,
 * IndexedDB under fake-indexeddb). Each case asserts the stored outcome, including that
 * a refused operation left every store exactly as it was.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConcurrentModificationError,
  InvalidStoreInputError,
  InvalidTransitionError,
  RecordNotFoundError,
  StorageClosedError,
  StoreError,
  groupHistoryKey,
  type PetrelStore,
  type PetrelStoreOptions,
} from '../../src/core/store/index.ts';
import { bytes, contact, contactId, incoming, MAILBOX, newId, outgoing, pending } from './fixtures.ts';
import { snapshot } from './snapshot.ts';
import { ME } from '../../src/core/store/message-actions.ts';

export interface StoreHarness {
  readonly store: PetrelStore;
  /** Closes and opens the same database again (durable implementations only). */
  readonly reopen?: () => Promise<PetrelStore>;
}

export type StoreFactory = (options?: Partial<PetrelStoreOptions>) => Promise<StoreHarness>;

const NOW = 20_000;

export function storeContract(name: string, factory: StoreFactory): void {
  const open = async (options?: Partial<PetrelStoreOptions>) => (await factory(options)).store;

  describe(`${name}: identity, prekeys, contacts, meta, metrics`, () => {
    it('keeps the identity and replaces the prekey pool', async () => {
      const store = await open();
      expect(await store.loadIdentity()).toBeUndefined();
      await expect(store.savePreKeyPool(bytes(1))).rejects.toBeInstanceOf(RecordNotFoundError);
      const seed = new Uint8Array(32).fill(3);
      await store.saveIdentity({ id: 'self', seed, displayName: 'Ada', createdAt: 1, nextPreKeyId: 1 });
      seed.fill(0); // the caller's buffer is not the stored one
      await store.savePreKeyPool(bytes(7, 7));
      const id = await store.loadIdentity();
      expect(id?.seed).toEqual(new Uint8Array(32).fill(3));
      expect(id?.preKeyPool).toEqual(bytes(7, 7));
      expect(id?.displayName).toBe('Ada');
      expect(id?.signedPreKeysRotatedAt).toBeUndefined();
      // A rotation stores its time with the pool; a later replenishment keeps it.
      await store.savePreKeyPool(bytes(8), { signedPreKeysRotatedAt: 500 });
      await store.savePreKeyPool(bytes(9));
      expect(await store.loadIdentity()).toMatchObject({ preKeyPool: bytes(9), signedPreKeysRotatedAt: 500 });
      await expect(store.savePreKeyPool(bytes(10), { signedPreKeysRotatedAt: -1 })).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect((await store.loadIdentity())?.preKeyPool).toEqual(bytes(9));
      // A new display name keeps the rest of the row; an empty one changes nothing.
      await store.setOwnDisplayName('Ada L.');
      expect(await store.loadIdentity()).toMatchObject({ displayName: 'Ada L.', preKeyPool: bytes(9), signedPreKeysRotatedAt: 500 });
      await expect(store.setOwnDisplayName(' ')).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect((await store.loadIdentity())?.displayName).toBe('Ada L.');
    });

    it('keeps contacts, verification and key-change acknowledgement', async () => {
      const store = await open();
      await store.putContact({ ...contact(1), keyChange: { previousIdentityKey: new Uint8Array(32).fill(9), detectedAt: 5, acknowledged: false } });
      await store.setVerification(contactId(1), 'verified');
      expect((await store.getContact(contactId(1)))?.keyChange?.acknowledged).toBe(false);
      await store.acknowledgeKeyChange(contactId(1));
      const c = await store.getContact(contactId(1));
      expect(c?.verification).toBe('verified');
      expect(c?.keyChange?.acknowledged).toBe(true);
      await expect(store.setVerification(contactId(2), 'verified')).rejects.toBeInstanceOf(RecordNotFoundError);
      await expect(store.putContact({ ...contact(3), identityKey: bytes(1) })).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect((await store.listContacts()).map((x) => x.id)).toEqual([contactId(1)]);
    });

    it('changes a contact (local name, blocked, listing; null clears) and refuses bad input or an unknown contact without a change (issue 20)', async () => {
      const store = await open();
      // A row as written before these fields existed: it reads as accepted, unblocked, with no local name.
      await store.putContact(contact(1, 'Bob'));
      const old = await store.getContact(contactId(1));
      expect(old?.localName).toBeUndefined();
      expect(old?.blocked).toBeUndefined();
      expect(old?.listing).toBeUndefined();
      expect(await store.changeContact(contactId(1), { localName: 'Bobby', blocked: true, listing: 'request' })).toMatchObject({ displayName: 'Bob', localName: 'Bobby', blocked: true, listing: 'request' });
      const cleared = await store.changeContact(contactId(1), { localName: null, blocked: false, listing: null });
      expect(cleared).toEqual(contact(1, 'Bob'));
      expect(await store.getContact(contactId(1))).toEqual(contact(1, 'Bob'));
      const before = await snapshot(store, [1]);
      for (const bad of [{ localName: '' }, { localName: ' padded ' }, { localName: 'x'.repeat(65) }, { blocked: 'yes' }, { listing: 'hidden' }]) {
        await expect(store.changeContact(contactId(1), bad as never)).rejects.toBeInstanceOf(InvalidStoreInputError);
      }
      await expect(store.changeContact(contactId(2), { blocked: true })).rejects.toBeInstanceOf(RecordNotFoundError);
      await expect(store.putContact({ ...contact(3), listing: 'elsewhere' as never })).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect(await snapshot(store, [1])).toEqual(before);
    });

    it('deletes a conversation: its messages, outbox entries and row go, the contact is removed and keeps its session; others untouched (issue 20)', async () => {
      const store = await open();
      await store.putContact({ ...contact(1, 'Bob'), localName: 'Bobby' });
      await store.putContact(contact(2, 'Carol'));
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null, body: 'out 1' }));
      await store.commitIncoming(incoming({ contact: 1, expectedVersion: 1, body: 'in 1' }));
      await store.commitPendingOutgoing(pending(1, 'waiting'));
      await store.commitOutgoing(outgoing({ contact: 2, expectedVersion: null, body: 'to Carol' }));
      const carol = (await snapshot(store, [2])).perContact;
      expect(await store.deleteConversation(contactId(1))).toEqual({ messages: 3, outboxEntries: 2 });
      expect((await store.pageMessages(contactId(1), { limit: 10 })).messages).toEqual([]);
      expect(await store.getConversation(contactId(1))).toBeUndefined();
      expect(await store.pendingJobs(contactId(1))).toEqual([]);
      expect(await store.queueDepth()).toBe(1);
      expect(await store.getSession(contactId(1))).toBeDefined();
      const removed = await store.getContact(contactId(1));
      expect(removed).toMatchObject({ displayName: 'Bob', listing: 'removed' });
      expect(removed?.localName).toBeUndefined();
      expect((await snapshot(store, [2])).perContact).toEqual(carol);
      await expect(store.deleteConversation(contactId(9))).rejects.toBeInstanceOf(RecordNotFoundError);
      await expect(store.deleteConversation('not hex')).rejects.toBeInstanceOf(InvalidStoreInputError);
    });

    it('round-trips metrics counters and meta values', async () => {
      const store = await open();
      await store.saveCounters({ 'send.success{transport="relay"}': 3, 'packet.replay': 1 });
      await store.saveCounters({ 'packet.replay': 2 });
      expect(await store.loadCounters()).toEqual({ 'send.success{transport="relay"}': 3, 'packet.replay': 2 });
      await store.setMeta('persisted', true);
      await store.setMeta('blob', bytes(1, 2));
      expect(await store.getMeta('persisted')).toBe(true);
      expect(await store.getMeta('blob')).toEqual(bytes(1, 2));
      expect(await store.getMeta('missing')).toBeUndefined();
      await store.deleteMeta('blob');
      await store.deleteMeta('missing');
      expect(await store.getMeta('blob')).toBeUndefined();
      expect(await store.getMeta('persisted')).toBe(true);
      await expect(store.saveCounters({ x: Number.NaN })).rejects.toBeInstanceOf(InvalidStoreInputError);
    });
  });

  describe(`${name}: commitOutgoing (encrypt once)`, () => {
    it('writes the message, the advanced session and the outbox entry together', async () => {
      const store = await open({ now: () => NOW });
      const c = outgoing({ contact: 1, expectedVersion: null, body: 'first', state: bytes(1), envelope: bytes(0xe1) });
      const first = await store.commitOutgoing(c);
      expect(first.sessionVersion).toBe(1);
      // Nothing else of the contact queued: the new entry is its head of line, as stored.
      expect([first.head]).toEqual(await store.outboxHeads(10));
      const m = await store.getMessage(c.messageId);
      expect(m).toMatchObject({ direction: 'out', status: 'queued', body: 'first', order: 0, envelopeId: c.envelopeId });
      expect(await store.getSession(contactId(1))).toMatchObject({ version: 1, state: bytes(1) });
      const due = await store.dueOutbox(NOW, 10);
      expect(due).toHaveLength(1);
      expect(due[0]).toMatchObject({ envelopeId: c.envelopeId, messageId: c.messageId, state: 'ready', attempts: 0, envelope: bytes(0xe1), mailbox: MAILBOX });
      expect(await store.getConversation(contactId(1))).toMatchObject({ unread: 0, nextOrder: 1, lastMessage: { text: 'first', direction: 'out' } });

      const c2 = outgoing({ contact: 1, expectedVersion: 1, state: bytes(2) });
      // The first still queued ahead of it: not the head (the outbox's round decides).
      expect(await store.commitOutgoing(c2)).toEqual({ sessionVersion: 2 });
      expect((await store.getMessage(c2.messageId))?.order).toBe(1);
      expect(await store.queueDepth()).toBe(2);
    });

    it('an outgoing file keeps its descriptor on the row (and a pending one too); a malformed descriptor changes nothing', async () => {
      const store = await open({ now: () => NOW });
      const attachment = { blobId: 'ab'.repeat(16), key: new Uint8Array(32).fill(1), digest: new Uint8Array(32).fill(2), size: 3_000, mime: 'image/png', name: 'cat.png' };
      const c = outgoing({ contact: 1, expectedVersion: null, body: '' });
      await store.commitOutgoing({ ...c, message: { ...c.message!, attachment } });
      expect(await store.getMessage(c.messageId)).toMatchObject({ direction: 'out', status: 'queued', body: '', attachment });
      const p = pending(2, '');
      await store.commitPendingOutgoing({ ...p, message: { ...p.message!, attachment } });
      expect(await store.getMessage(p.messageId)).toMatchObject({ attachment });

      const before = await snapshot(store, [1, 3]);
      const bad = outgoing({ contact: 3, expectedVersion: null });
      const err = await store.commitOutgoing({ ...bad, message: { ...bad.message!, attachment: { ...attachment, key: new Uint8Array(5) } } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidStoreInputError);
      expect(await snapshot(store, [1, 3])).toEqual(before);
    });

    it('a stale session version aborts everything with ConcurrentModificationError', async () => {
      const store = await open();
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
      const before = await snapshot(store, [1]);
      const stale = outgoing({ contact: 1, expectedVersion: null, state: bytes(0xff) });
      const err = await store.commitOutgoing(stale).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConcurrentModificationError);
      expect(err).toMatchObject({ expectedVersion: null, actualVersion: 1 });
      expect(await snapshot(store, [1])).toEqual(before);
      expect(await store.getMessage(stale.messageId)).toBeUndefined();
    });

    it('discardCorruptSession removes the row only at the version read; a new session then starts from none (issue 17)', async () => {
      const store = await open();
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: 1 }));
      expect(await store.discardCorruptSession(contactId(1), 1)).toBe(false);
      expect((await store.getSession(contactId(1)))?.version).toBe(2);
      expect(await store.discardCorruptSession(contactId(2), 1)).toBe(false);
      await expect(store.discardCorruptSession(contactId(1), 0)).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect(await store.discardCorruptSession(contactId(1), 2)).toBe(true);
      expect(await store.getSession(contactId(1))).toBeUndefined();
      // The messages and outbox entries of the contact stay; only the session went.
      expect(await store.queueDepth()).toBe(2);
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
      expect((await store.getSession(contactId(1)))?.version).toBe(1);
    });

    it('two writers from the same version: exactly one wins', async () => {
      const store = await open();
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
      const results = await Promise.allSettled([
        store.commitOutgoing(outgoing({ contact: 1, expectedVersion: 1 })),
        store.commitOutgoing(outgoing({ contact: 1, expectedVersion: 1 })),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.find((r) => r.status === 'rejected');
      expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(ConcurrentModificationError);
      expect((await store.getSession(contactId(1)))?.version).toBe(2);
      expect(await store.queueDepth()).toBe(2);
    });

    it('refuses a reused envelope id or message id and writes nothing', async () => {
      const store = await open();
      const c = outgoing({ contact: 1, expectedVersion: null });
      await store.commitOutgoing(c);
      const before = await snapshot(store, [1]);
      const sameEnvelope = { ...outgoing({ contact: 1, expectedVersion: 1 }), outboxEntry: c.outboxEntry };
      await expect(store.commitOutgoing(sameEnvelope)).rejects.toBeInstanceOf(InvalidStoreInputError);
      const sameMessage = outgoing({ contact: 1, expectedVersion: 1 });
      await expect(store.commitOutgoing({ ...sameMessage, message: { ...sameMessage.message!, id: c.messageId } })).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect(await snapshot(store, [1])).toEqual(before);
    });

    it('a protocol message (no row) advances the session and queues its envelope', async () => {
      const store = await open();
      const c = outgoing({ contact: 1, expectedVersion: null, withMessage: false });
      await store.commitOutgoing(c);
      expect(await store.getConversation(contactId(1))).toBeUndefined();
      expect(await store.markSent(c.envelopeId, { at: 1 })).toMatchObject({ removed: true });
      expect(await store.queueDepth()).toBe(0);
    });
  });

  describe(`${name}: outbox`, () => {
    it('due entries by time; attempt failures push them back; markSent completes once', async () => {
      let now = 1_000;
      const store = await open({ now: () => now });
      const a = outgoing({ contact: 1, expectedVersion: null });
      await store.commitOutgoing(a);
      now = 2_000;
      const b = outgoing({ contact: 1, expectedVersion: 1 });
      await store.commitOutgoing(b);
      expect((await store.dueOutbox(1_500, 10)).map((e) => e.envelopeId)).toEqual([a.envelopeId]);
      expect((await store.dueOutbox(2_000, 10)).map((e) => e.envelopeId)).toEqual([a.envelopeId, b.envelopeId]);
      expect((await store.dueOutbox(2_000, 1)).map((e) => e.envelopeId)).toEqual([a.envelopeId]);

      await store.recordAttemptFailure(a.envelopeId, 9_000, 'relay unreachable');
      expect((await store.dueOutbox(5_000, 10)).map((e) => e.envelopeId)).toEqual([b.envelopeId]);
      expect(await store.nextDueAt()).toBe(2_000);
      const [retried] = await store.dueOutbox(9_000, 1);
      expect(retried).toMatchObject({ envelopeId: b.envelopeId });
      const aEntry = (await store.dueOutbox(9_000, 10)).find((e) => e.envelopeId === a.envelopeId);
      expect(aEntry).toMatchObject({ attempts: 1, nextAttemptAt: 9_000, lastError: 'relay unreachable' });

      expect(await store.markSent(a.envelopeId, { at: 9_100, via: 'relay' })).toMatchObject({ removed: true });
      expect(await store.markSent(a.envelopeId, { at: 9_200 })).toEqual({ removed: false });
      expect(await store.getMessage(a.messageId)).toMatchObject({ status: 'sent', via: 'relay', updatedAt: 9_100 });
      expect(await store.queueDepth()).toBe(1);
      await expect(store.recordAttemptFailure(a.envelopeId, 1, 'x')).rejects.toBeInstanceOf(RecordNotFoundError);
    });

    it('a pending job that fails goes back to pending on retry', async () => {
      const store = await open({ now: () => 1 });
      const job = pending(5, 'no bundle yet');
      await store.commitPendingOutgoing(job);
      await store.markFailed(job.envelopeId, 'No prekeys for this contact');
      expect(await store.pendingJobs(contactId(5))).toEqual([]);
      expect(await store.queueDepth()).toBe(0);
      await store.retry(job.messageId, 9);
      expect((await store.pendingJobs(contactId(5))).map((j) => j.envelopeId)).toEqual([job.envelopeId]);
      expect(await store.getMessage(job.messageId)).toMatchObject({ status: 'queued' });
    });

    it('failed after the budget, then a manual retry resends the same bytes', async () => {
      const store = await open({ now: () => 1_000 });
      const a = outgoing({ contact: 1, expectedVersion: null, envelope: bytes(0xaa, 0xbb) });
      await store.commitOutgoing(a);
      // Nothing failed yet: a retry changes nothing.
      const queued = await snapshot(store, [1]);
      expect(await store.retry(a.messageId, 2_000)).toBe(0);
      expect(await snapshot(store, [1])).toEqual(queued);
      await store.markFailed(a.envelopeId, 'No route to the contact');
      expect(await store.getMessage(a.messageId)).toMatchObject({ status: 'failed', failure: 'No route to the contact' });
      expect(await store.dueOutbox(1e12, 10)).toEqual([]);
      expect(await store.queueDepth()).toBe(0);

      await store.retry(a.messageId, 5_000);
      const m = await store.getMessage(a.messageId);
      expect(m?.status).toBe('queued');
      expect(m?.failure).toBeUndefined();
      const [entry] = await store.dueOutbox(5_000, 10);
      // A whole new budget: attempts and the age both count from the retry; createdAt stays the compose time.
      expect(entry).toMatchObject({ envelopeId: a.envelopeId, attempts: 0, nextAttemptAt: 5_000, firstAttemptAt: 5_000, createdAt: 1_000, envelope: bytes(0xaa, 0xbb) });
      await expect(store.retry(newId(), 1)).rejects.toBeInstanceOf(RecordNotFoundError);
    });

    it('outboxHeads: per contact its lowest seq still to send; failed messages hold nobody back; a failed receipt is dropped', async () => {
      const store = await open({ now: () => NOW });
      // Contact 1: more given-up messages than one scan page, then two still queued.
      let v: number | null = null;
      for (let i = 0; i < 40; i++) {
        const c = outgoing({ contact: 1, expectedVersion: v });
        await store.commitOutgoing(c);
        v = (v ?? 0) + 1;
        await store.markFailed(c.envelopeId, 'gave up');
      }
      const head1 = outgoing({ contact: 1, expectedVersion: v });
      await store.commitOutgoing(head1);
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: v! + 1 }));
      // Contact 2: its head waits for a session (it still holds the queue).
      const job = pending(2);
      await store.commitPendingOutgoing(job);
      // Contact 3: only a failed message. Contact 4: a receipt whose budget was spent.
      const f3 = outgoing({ contact: 3, expectedVersion: null });
      await store.commitOutgoing(f3);
      await store.markFailed(f3.envelopeId, 'gave up');
      const r4 = outgoing({ contact: 4, expectedVersion: null, withMessage: false });
      await store.commitOutgoing(r4);
      await store.markFailed(r4.envelopeId, 'gave up');

      expect((await store.outboxHeads(500)).map((h) => [h.contactId, h.envelopeId, h.state])).toEqual([
        [contactId(1), head1.envelopeId, 'ready'],
        [contactId(2), job.envelopeId, 'pending_session'],
      ]);
      expect((await store.outboxHeads(1)).map((h) => h.envelopeId)).toEqual([head1.envelopeId]);
      expect(await store.pendingJobs(contactId(4))).toEqual([]);
      expect((await store.dueOutbox(1e12, 500)).some((e) => e.envelopeId === r4.envelopeId)).toBe(false);
      await expect(store.outboxHeads(-1)).rejects.toBeInstanceOf(InvalidStoreInputError);
    });

    it('a contact without a session: pending jobs in compose order, then one session start makes them ready', async () => {
      const store = await open({ now: () => 3_000 });
      const jobs = [pending(2, 'one'), pending(2, 'two'), pending(2, 'three')];
      for (const j of jobs) await store.commitPendingOutgoing(j);
      await store.commitPendingOutgoing(pending(3, 'other contact'));
      expect((await store.pendingJobs(contactId(2))).map((j) => new TextDecoder().decode(j.plaintext))).toEqual(['one', 'two', 'three']);
      expect(await store.dueOutbox(1e12, 10)).toEqual([]);
      expect(await store.queueDepth()).toBe(4);

      // A job of another contact cannot ride on this session: nothing changes.
      const wrong = { sessionUpdate: { contactId: contactId(2), expectedVersion: null, state: bytes(1) }, encrypted: [{ envelopeId: (await store.pendingJobs(contactId(3)))[0]!.envelopeId, envelope: bytes(1) }] };
      await expect(store.commitSessionStart(wrong)).rejects.toBeInstanceOf(InvalidTransitionError);
      expect(await store.getSession(contactId(2))).toBeUndefined();

      const res = await store.commitSessionStart({
        sessionUpdate: { contactId: contactId(2), expectedVersion: null, state: bytes(0x51) },
        encrypted: jobs.map((j, i) => ({ envelopeId: j.envelopeId, envelope: bytes(0xe0 + i) })),
      });
      expect(res.sessionVersion).toBe(1);
      expect(await store.pendingJobs(contactId(2))).toEqual([]);
      const due = await store.dueOutbox(1e12, 10);
      expect(due.map((e) => [e.envelopeId, e.envelope, e.plaintext])).toEqual(jobs.map((j, i) => [j.envelopeId, bytes(0xe0 + i), undefined]));
      expect(await store.queueDepth()).toBe(4);
    });
  });

  describe(`${name}: protocol content waiting for a session (commitPendingProtocol)`, () => {
    it('queued as pending_session jobs ahead of the messages, in order; an id again changes nothing; a session start makes them ready', async () => {
      const store = await open({ now: () => 4_000 });
      const message = pending(6, 'a message');
      await store.commitPendingOutgoing(message);
      const device = 'cd'.repeat(16);
      const first = { envelopeId: newId(), contactId: contactId(6), device, mailbox: MAILBOX, plaintext: bytes(1) };
      const second = { envelopeId: newId(), contactId: contactId(6), device, mailbox: MAILBOX, plaintext: bytes(2) };
      await store.commitPendingProtocol(first);
      await store.commitPendingProtocol(second);
      await store.commitPendingProtocol({ ...first, plaintext: bytes(9) });
      const jobs = await store.pendingJobs(contactId(6));
      // In the order queued (the first at seq 0 ties with the conversation's first message: envelope ids decide, protocol-seq.ts).
      const protocol = jobs.filter((j) => j.messageId === undefined);
      expect(protocol.map((j) => [j.envelopeId, j.device, j.plaintext, j.state])).toEqual([
        [first.envelopeId, device, bytes(1), 'pending_session'],
        [second.envelopeId, device, bytes(2), 'pending_session'],
      ]);
      expect(protocol[0]!.seq).toBeLessThan(protocol[1]!.seq);
      expect(protocol[1]!.seq).toBeLessThan(1);
      expect(jobs.map((j) => j.envelopeId)).toContain(message.envelopeId);
      expect(await store.queueDepth()).toBe(3);
      await store.commitSessionStart({
        sessionUpdate: { contactId: contactId(6) + device, expectedVersion: null, state: bytes(0x52) },
        encrypted: [first, second].map((j, i) => ({ envelopeId: j.envelopeId, envelope: bytes(0xf0 + i) })),
      });
      expect((await store.pendingJobs(contactId(6))).map((j) => j.envelopeId)).toEqual([message.envelopeId]);
      expect((await store.dueOutbox(1e12, 10)).map((e) => [e.envelopeId, e.envelope])).toEqual([
        [first.envelopeId, bytes(0xf0)],
        [second.envelopeId, bytes(0xf1)],
      ]);
    });

    it('a job to keep (a group frame) is parked when given up, not dropped: it holds nobody back and a session start sends it first', async () => {
      const store = await open({ now: () => 4_000 });
      const kept = { envelopeId: newId(), contactId: contactId(8), mailbox: MAILBOX, plaintext: bytes(1), keep: true as const };
      const plain = { envelopeId: newId(), contactId: contactId(8), mailbox: MAILBOX, plaintext: bytes(2) };
      await store.commitPendingProtocol(kept);
      await store.commitPendingProtocol(plain);
      for (const j of [kept, plain]) expect(await store.markFailed(j.envelopeId, 'no keys')).toBeUndefined();
      // The plain protocol job is gone; the kept one is parked: failed, its plaintext kept, no one's head.
      expect(await store.pendingJobs(contactId(8))).toEqual([]);
      expect((await store.jobsAwaitingSession(contactId(8))).map((j) => [j.envelopeId, j.state, j.plaintext, j.keep, j.lastError])).toEqual([[kept.envelopeId, 'failed', bytes(1), true, 'no keys']]);
      expect(await store.queueDepth()).toBe(0);
      const message = pending(8, 'after the frame');
      await store.commitPendingOutgoing(message);
      expect((await store.outboxHeads(10)).map((h) => h.envelopeId)).toEqual([message.envelopeId]);
      // The session starts: the parked frame, then the message, ready and ordinary (nothing left of the parking).
      await store.commitSessionStart({
        sessionUpdate: { contactId: contactId(8), expectedVersion: null, state: bytes(0x52) },
        encrypted: [kept.envelopeId, message.envelopeId].map((envelopeId, i) => ({ envelopeId, envelope: bytes(0xf0 + i) })),
      });
      expect(await store.jobsAwaitingSession(contactId(8))).toEqual([]);
      const due = await store.dueOutbox(1e12, 10);
      expect(due.map((e) => [e.envelopeId, e.state, e.envelope, e.plaintext, e.keep, e.lastError])).toEqual([
        [kept.envelopeId, 'ready', bytes(0xf0), undefined, undefined, undefined],
        [message.envelopeId, 'ready', bytes(0xf1), undefined, undefined, undefined],
      ]);
      // A ready entry's budget spent: dropped like any protocol entry (its plaintext is gone).
      expect(await store.markFailed(kept.envelopeId, 'budget')).toBeUndefined();
      expect((await store.dueOutbox(1e12, 10)).map((e) => e.envelopeId)).toEqual([message.envelopeId]);
    });

    it('bad input is refused with a typed error and changes nothing', async () => {
      const store = await open({ now: () => 4_000 });
      const good = { envelopeId: newId(), contactId: contactId(7), mailbox: MAILBOX, plaintext: bytes(1) };
      for (const bad of [
        { ...good, envelopeId: 'not hex' },
        { ...good, contactId: 'short' },
        { ...good, device: 'xyz' },
        { ...good, mailbox: bytes(1, 2) },
        { ...good, plaintext: 'text' as unknown as Uint8Array },
        { ...good, keep: 'yes' as unknown as true },
      ]) {
        await expect(store.commitPendingProtocol(bad)).rejects.toBeInstanceOf(InvalidStoreInputError);
      }
      expect(await store.pendingJobs(contactId(7))).toEqual([]);
      expect(await store.queueDepth()).toBe(0);
    });
  });

  describe(`${name}: key-change acknowledgement`, () => {
    it('acknowledging clears both a key change and a claimed name', async () => {
      const store = await open();
      await store.putContact({ ...contact(4), possibleKeyChangeOf: { contactId: contactId(1), detectedAt: 3, acknowledged: false } });
      await expect(store.putContact({ ...contact(5), possibleKeyChangeOf: { contactId: contactId(5), detectedAt: 3, acknowledged: false } })).rejects.toBeInstanceOf(InvalidStoreInputError);
      await store.acknowledgeKeyChange(contactId(4));
      expect(await store.getContact(contactId(4))).toMatchObject({ possibleKeyChangeOf: { contactId: contactId(1), acknowledged: true } });
      expect((await store.getContact(contactId(4)))?.keyChange).toBeUndefined();
    });
  });

  describe(`${name}: commitIncoming (receive atomically, exactly once)`, () => {
    it('commits once; the same envelope again is a duplicate that changes nothing', async () => {
      const store = await open();
      const c = incoming({ contact: 1, expectedVersion: null, body: 'hey' });
      expect(await store.commitIncoming(c)).toBe('committed');
      const before = await snapshot(store, [1]);
      expect(await store.commitIncoming({ ...c, sessionUpdate: { ...c.sessionUpdate!, state: bytes(0xff) } })).toBe('duplicate');
      expect(await snapshot(store, [1])).toEqual(before);
      expect(await store.getMessage(c.messageId)).toMatchObject({ direction: 'in', status: 'delivered', body: 'hey', receivedAt: 10_000 });
      expect(await store.getConversation(contactId(1))).toMatchObject({ unread: 1, lastMessage: { direction: 'in', text: 'hey' } });
      expect(await store.processedEnvelopes([c.envelopeId, newId()])).toEqual(new Set([c.envelopeId]));
    });

    it('a stale session version rejects and marks nothing as processed', async () => {
      const store = await open();
      await store.commitIncoming(incoming({ contact: 1, expectedVersion: null }));
      const before = await snapshot(store, [1]);
      const c = incoming({ contact: 1, expectedVersion: 7 });
      await expect(store.commitIncoming(c)).rejects.toBeInstanceOf(ConcurrentModificationError);
      expect(await snapshot(store, [1])).toEqual(before);
      expect((await store.processedEnvelopes([c.envelopeId])).size).toBe(0);
    });

    it('an initial message replaces the pool and adds the contact', async () => {
      const store = await open();
      await store.saveIdentity({ id: 'self', seed: new Uint8Array(32), displayName: 'me', createdAt: 1, nextPreKeyId: 10, preKeyPool: bytes(1, 1) });
      const c = incoming({ contact: 4, expectedVersion: null, preKeyPool: bytes(2, 2), contactUpdate: contact(4, 'Bob') });
      expect(await store.commitIncoming(c)).toBe('committed');
      expect((await store.loadIdentity())?.preKeyPool).toEqual(bytes(2, 2));
      expect((await store.getContact(contactId(4)))?.displayName).toBe('Bob');
    });

    it('receipts move our messages forward only', async () => {
      const store = await open();
      const out = outgoing({ contact: 1, expectedVersion: null });
      await store.commitOutgoing(out);
      const inbound = incoming({ contact: 1, expectedVersion: 1 });
      await store.commitIncoming(inbound);
      const receipt = (status: 'sent' | 'delivered' | 'read', messageId = out.messageId) =>
        incoming({ contact: 1, withMessage: false, statusUpdates: [{ messageId, status }] });
      await store.commitIncoming(receipt('read'));
      expect((await store.getMessage(out.messageId))?.status).toBe('read');
      await store.commitIncoming(receipt('delivered'));
      expect((await store.getMessage(out.messageId))?.status).toBe('read');
      // A receipt naming an incoming message or an unknown id changes nothing.
      await store.commitIncoming(receipt('read', inbound.messageId));
      expect((await store.getMessage(inbound.messageId))?.status).toBe('delivered');
      expect(await store.commitIncoming(receipt('read', newId()))).toBe('committed');
      // Another contact cannot move our message to contact 1.
      const out2 = outgoing({ contact: 1, expectedVersion: 2 });
      await store.commitOutgoing(out2);
      await store.commitIncoming(incoming({ contact: 2, withMessage: false, statusUpdates: [{ messageId: out2.messageId, status: 'read' }] }));
      expect((await store.getMessage(out2.messageId))?.status).toBe('queued');
      // The receipt ended its outbox entry; a late transport ack changes nothing.
      expect(await store.markSent(out.envelopeId, { at: 1 })).toEqual({ removed: false });
      expect((await store.getMessage(out.messageId))?.status).toBe('read');
    });

    it("keeps each device's receipt on the message, forward only, with its time; the status is the best of them", async () => {
      const store = await open();
      const out = outgoing({ contact: 1, expectedVersion: null });
      await store.commitOutgoing(out);
      const one = 'a1'.repeat(16);
      const two = 'b2'.repeat(16);
      const receipt = (status: 'sent' | 'delivered' | 'read', device: string | undefined, receivedAt: number) =>
        incoming({ contact: 1, withMessage: false, receivedAt, statusUpdates: [{ messageId: out.messageId, status, ...(device ? { device } : {}) }] });
      await store.commitIncoming(receipt('delivered', one, 20_000));
      expect(await store.getMessage(out.messageId)).toMatchObject({ status: 'delivered', deviceReceipts: { [one]: { status: 'delivered', at: 20_000 } } });
      // The second device reads it: the message is read (the best), each device keeps its own state.
      await store.commitIncoming(receipt('read', two, 21_000));
      // The first device's delivered comes after: the best state stays read, but the device's own state is kept.
      await store.commitIncoming(receipt('delivered', one, 22_000));
      await store.commitIncoming(receipt('delivered', two, 23_000));
      let row = await store.getMessage(out.messageId);
      expect(row?.status).toBe('read');
      expect(row?.deviceReceipts).toEqual({ [one]: { status: 'delivered', at: 20_000 }, [two]: { status: 'read', at: 21_000 } });
      // Read on the first device too, later: its state moves forward even though the message's cannot.
      await store.commitIncoming(receipt('read', one, 24_000));
      row = await store.getMessage(out.messageId);
      expect(row?.deviceReceipts?.[one]).toEqual({ status: 'read', at: 24_000 });
      // A receipt without a device (a single-device contact) moves the status as before and names no device.
      const plain = outgoing({ contact: 1, expectedVersion: 1 });
      await store.commitOutgoing(plain);
      await store.commitIncoming(incoming({ contact: 1, withMessage: false, statusUpdates: [{ messageId: plain.messageId, status: 'delivered' }] }));
      expect((await store.getMessage(plain.messageId))?.deviceReceipts).toBeUndefined();
      expect((await store.getMessage(plain.messageId))?.status).toBe('delivered');
      // A device that is not 32 hex characters is refused whole, changing nothing.
      const before = await store.getMessage(out.messageId);
      await expect(store.commitIncoming(receipt('read', 'not-a-device', 25_000))).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect(await store.getMessage(out.messageId)).toEqual(before);
    });

    it('a receipt for a message still queued or failed ends its outbox entry', async () => {
      const store = await open();
      const queued = outgoing({ contact: 1, expectedVersion: null });
      const failed = outgoing({ contact: 1, expectedVersion: 1 });
      await store.commitOutgoing(queued);
      await store.commitOutgoing(failed);
      await store.markFailed(failed.envelopeId, 'gave up');
      await store.commitIncoming(incoming({ contact: 1, withMessage: false, statusUpdates: [{ messageId: queued.messageId, status: 'delivered' }, { messageId: failed.messageId, status: 'read' }] }));
      expect(await store.getMessage(queued.messageId)).toMatchObject({ status: 'delivered' });
      const m = await store.getMessage(failed.messageId);
      expect(m?.status).toBe('read');
      expect(m?.failure).toBeUndefined();
      expect(await store.queueDepth()).toBe(0);
      expect(await store.markSent(queued.envelopeId, { at: 1 })).toEqual({ removed: false });
      // Delivered: nothing is left to retry, and a retry changes nothing.
      expect(await store.retry(failed.messageId, 1)).toBe(0);
      expect((await store.getMessage(failed.messageId))?.status).toBe('read');
    });

    it("a receipt from one device of a contact ends only that device's copy: the copy still waiting for another device stays", async () => {
      const store = await open();
      await store.putContact(contact(1));
      const cid = contactId(1);
      const [devA, devB] = ['a'.repeat(32), 'b'.repeat(32)];
      for (const d of [devA, devB]) await store.commitSession({ contactId: cid + d, expectedVersion: null, state: bytes(1) });
      // The first copy's envelope id is the message id (the row's envelope id) and goes to A;
      // B's copy sorts first, went out (direct: its ack not yet committed) and B answered.
      const id = 'f'.repeat(32);
      const copyB = '0'.repeat(32);
      await store.commitFanOut({
        message: { id, contactId: cid, body: 'to both devices', sentAt: 5_000 },
        ownAccount: contactId(2),
        sessionUpdates: [
          { contactId: cid + devA, expectedVersion: 1, state: bytes(2) },
          { contactId: cid + devB, expectedVersion: 1, state: bytes(2) },
        ],
        ready: [
          { envelopeId: id, contactId: cid, device: devA, mailbox: MAILBOX, envelope: bytes(9) },
          { envelopeId: copyB, contactId: cid, device: devB, mailbox: MAILBOX, envelope: bytes(9) },
        ],
        pending: [],
      });
      expect((await store.outboxHeads(10)).map((e) => e.envelopeId)).toEqual([copyB]);
      await store.commitIncoming(incoming({ contact: 1, withMessage: false, statusUpdates: [{ messageId: id, status: 'read', device: devB }] }));
      expect(await store.getMessage(id)).toMatchObject({ status: 'read' });
      // B's copy is done; A's still goes (it was removed as "the row's entry" before: A never got the message).
      expect((await store.outboxHeads(10)).map((e) => e.envelopeId)).toEqual([id]);
      expect(await store.queueDepth()).toBe(1);
      expect(await store.markSent(copyB, { at: 1 })).toEqual({ removed: false });
      expect(await store.markSent(id, { at: 2 })).toMatchObject({ removed: true });
      expect(await store.getMessage(id)).toMatchObject({ status: 'read' });
    });

    // Issue 16: a copy to one device given up on while another device has the message.
    const fanOutToAB = async (store: PetrelStore) => {
      await store.putContact(contact(1));
      const cid = contactId(1);
      const [devA, devB] = ['a'.repeat(32), 'b'.repeat(32)];
      for (const d of [devA, devB]) await store.commitSession({ contactId: cid + d, expectedVersion: null, state: bytes(1) });
      // The row's envelope id names A's copy (the first of the fan-out).
      const id = newId();
      const copyB = newId();
      await store.commitFanOut({
        message: { id, contactId: cid, body: 'to both devices', sentAt: 5_000 },
        sessionUpdates: [
          { contactId: cid + devA, expectedVersion: 1, state: bytes(2) },
          { contactId: cid + devB, expectedVersion: 1, state: bytes(2) },
        ],
        ready: [
          { envelopeId: id, contactId: cid, device: devA, mailbox: MAILBOX, envelope: bytes(0xa1) },
          { envelopeId: copyB, contactId: cid, device: devB, mailbox: MAILBOX, envelope: bytes(0xb1) },
        ],
        pending: [],
      });
      const receiptFrom = (device: string, status: 'delivered' | 'read', receivedAt: number) =>
        incoming({ contact: 1, withMessage: false, receivedAt, statusUpdates: [{ messageId: id, status, device }] });
      return { cid, devA, devB, id, copyA: id, copyB, receiptFrom };
    };

    it("a copy given up on for one device stays on the row after another device's receipt; retry requeues that copy alone, once", async () => {
      const store = await open({ now: () => 3_000 });
      const { devA, devB, id, copyA, copyB, receiptFrom } = await fanOutToAB(store);
      await store.markFailed(copyA, 'Not delivered after repeated attempts');
      // B's copy may still go: the row stays queued, naming A.
      expect(await store.getMessage(id)).toMatchObject({ status: 'queued', failedDevices: [devA] });
      // B's copy is not the one the row's envelope id names: the move names the row all the same.
      expect(await store.markSent(copyB, { at: 3_100, via: 'relay' })).toEqual({ removed: true, moved: id });
      expect(await store.getMessage(id)).toMatchObject({ status: 'sent', failedDevices: [devA] });
      await store.commitIncoming(receiptFrom(devB, 'delivered', 3_200));
      // Delivered (the best of the devices'), and A still named: it never got the message.
      const delivered = await store.getMessage(id);
      expect(delivered).toMatchObject({ status: 'delivered', failedDevices: [devA], deviceReceipts: { [devB]: { status: 'delivered' } } });
      expect(delivered?.failure).toBeUndefined();
      expect(await store.dueOutbox(1e12, 10)).toEqual([]);

      // One commit: A's copy is due again with a new budget, the same bytes; B's (sent) is not resent.
      expect(await store.retry(id, 9_000)).toBe(1);
      const retried = await store.getMessage(id);
      expect(retried).toMatchObject({ status: 'delivered', updatedAt: 9_000 });
      expect(retried?.failedDevices).toBeUndefined();
      const due = await store.dueOutbox(1e12, 10);
      expect(due.map((e) => e.envelopeId)).toEqual([copyA]);
      expect(due[0]).toMatchObject({ device: devA, state: 'ready', attempts: 0, nextAttemptAt: 9_000, firstAttemptAt: 9_000, envelope: bytes(0xa1) });
      expect((await store.outboxHeads(10)).map((e) => e.envelopeId)).toEqual([copyA]);

      // Idempotent: a second retry finds nothing failed and changes nothing.
      const before = await snapshot(store, [1]);
      expect(await store.retry(id, 9_500)).toBe(0);
      expect(await snapshot(store, [1])).toEqual(before);

      // A's copy goes and A answers: the message stays delivered, with both devices' state.
      expect(await store.markSent(copyA, { at: 9_100 })).toMatchObject({ removed: true });
      await store.commitIncoming(receiptFrom(devA, 'delivered', 9_200));
      expect(await store.getMessage(id)).toMatchObject({ status: 'delivered', deviceReceipts: { [devA]: { status: 'delivered' }, [devB]: { status: 'delivered' } } });
      expect(await store.queueDepth()).toBe(0);
    });

    it('a copy given up on that leaves the outbox another way (its device unlinked) is named no more; a retry then has nothing to do', async () => {
      const store = await open({ now: () => 3_000 });
      const { devA, id, copyA, copyB } = await fanOutToAB(store);
      await store.markFailed(copyA, 'Not delivered after repeated attempts');
      expect(await store.getMessage(id)).toMatchObject({ status: 'queued', failedDevices: [devA] });
      expect(await store.dropOutboxEntry(copyA, "The contact's device was unlinked")).toBe('dropped');
      const row = await store.getMessage(id);
      expect(row).toMatchObject({ status: 'queued', updatedAt: 3_000 });
      expect(row?.failedDevices).toBeUndefined();
      await store.markSent(copyB, { at: 3_100, via: 'relay' });
      const before = await snapshot(store, [1]);
      expect(await store.retry(id, 4_000)).toBe(0);
      expect(await snapshot(store, [1])).toEqual(before);
      expect(await store.queueDepth()).toBe(0);
    });

    it('a copy given up on while another is still queued leaves the row queued, naming it; the row fails with the last copy, and retry requeues them all', async () => {
      const store = await open({ now: () => 3_000 });
      const { devA, devB, id, copyA, copyB } = await fanOutToAB(store);
      expect(await store.markFailed(copyA, 'Not delivered after repeated attempts')).toBe(id);
      const first = await store.getMessage(id);
      expect(first).toMatchObject({ status: 'queued', failedDevices: [devA], updatedAt: 3_000 });
      expect(first?.failure).toBeUndefined();
      // B's copy is the head now: still to go.
      expect((await store.outboxHeads(10)).map((e) => e.envelopeId)).toEqual([copyB]);
      expect(await store.markFailed(copyB, "The recipient's mailbox on the relay is full")).toBe(id);
      expect(await store.getMessage(id)).toMatchObject({ status: 'failed', failure: "The recipient's mailbox on the relay is full", failedDevices: [devA, devB] });
      expect(await store.retry(id, 4_000)).toBe(2);
      const retried = await store.getMessage(id);
      expect(retried).toMatchObject({ status: 'queued' });
      expect(retried?.failedDevices).toBeUndefined();
      expect(retried?.failure).toBeUndefined();
      expect((await store.dueOutbox(1e12, 10)).map((e) => e.envelopeId).sort()).toEqual([copyA, copyB].sort());
    });

    it('a retry while another copy is still queued requeues the failed one and leaves the row queued', async () => {
      const store = await open({ now: () => 3_000 });
      const { id, copyA, copyB } = await fanOutToAB(store);
      await store.markFailed(copyA, 'gave up');
      expect(await store.retry(id, 4_000)).toBe(1);
      const row = await store.getMessage(id);
      expect(row).toMatchObject({ status: 'queued' });
      expect(row?.failedDevices).toBeUndefined();
      expect((await store.dueOutbox(1e12, 10)).map((e) => e.envelopeId).sort()).toEqual([copyA, copyB].sort());
    });

    it('the last copy still to go dropped (its device unlinked) while the others were given up on: the row fails, retry requeues those', async () => {
      const store = await open({ now: () => 3_000 });
      const { devA, id, copyA, copyB } = await fanOutToAB(store);
      await store.markFailed(copyA, 'Not delivered after repeated attempts');
      expect(await store.dropOutboxEntry(copyB, "The contact's device was unlinked")).toBe('dropped');
      expect(await store.getMessage(id)).toMatchObject({ status: 'failed', failure: 'Not delivered after repeated attempts', failedDevices: [devA] });
      expect(await store.retry(id, 4_000)).toBe(1);
      expect((await store.dueOutbox(1e12, 10)).map((e) => e.envelopeId)).toEqual([copyA]);
    });

    // A copy to the contact's account mailbox (no device) beside a copy to one of its devices.
    const fanOutToAccountAndB = async (store: PetrelStore) => {
      await store.putContact(contact(1));
      const cid = contactId(1);
      const devB = 'b'.repeat(32);
      await store.commitSession({ contactId: cid, expectedVersion: null, state: bytes(1) });
      await store.commitSession({ contactId: cid + devB, expectedVersion: null, state: bytes(1) });
      const id = newId();
      const copyB = newId();
      await store.commitFanOut({
        message: { id, contactId: cid, body: 'to the account and a device', sentAt: 5_000 },
        sessionUpdates: [
          { contactId: cid, expectedVersion: 1, state: bytes(2) },
          { contactId: cid + devB, expectedVersion: 1, state: bytes(2) },
        ],
        ready: [
          { envelopeId: id, contactId: cid, mailbox: MAILBOX, envelope: bytes(0xac) },
          { envelopeId: copyB, contactId: cid, device: devB, mailbox: MAILBOX, envelope: bytes(0xb1) },
        ],
        pending: [],
      });
      return { devB, id, copyB };
    };

    it('a copy to the account mailbox given up on while another copy went is named on the row (failedAccountCopy); retry requeues it and clears it', async () => {
      const store = await open({ now: () => 3_000 });
      const { id, copyB } = await fanOutToAccountAndB(store);
      expect(await store.markSent(copyB, { at: 3_100 })).toEqual({ removed: true, moved: id });
      expect(await store.markFailed(id, 'Not delivered after repeated attempts')).toBe(id);
      const row = await store.getMessage(id);
      expect(row).toMatchObject({ status: 'sent', failedAccountCopy: true });
      expect(row?.failedDevices).toBeUndefined();
      expect(await store.retry(id, 4_000)).toBe(1);
      const retried = await store.getMessage(id);
      expect(retried).toMatchObject({ status: 'sent', updatedAt: 4_000 });
      expect(retried?.failedAccountCopy).toBeUndefined();
      expect(await store.dueOutbox(1e12, 10)).toMatchObject([{ envelopeId: id, state: 'ready', attempts: 0, envelope: bytes(0xac) }]);
    });

    it("a receipt naming no device (the account's) ends a failed account-mailbox copy: no longer named, nothing left to retry", async () => {
      const store = await open({ now: () => 3_000 });
      const { id, copyB } = await fanOutToAccountAndB(store);
      await store.markSent(copyB, { at: 3_100 });
      await store.markFailed(id, 'gave up');
      await store.commitIncoming(incoming({ contact: 1, withMessage: false, receivedAt: 3_200, statusUpdates: [{ messageId: id, status: 'delivered' }] }));
      const row = await store.getMessage(id);
      expect(row).toMatchObject({ status: 'delivered' });
      expect(row?.failedAccountCopy).toBeUndefined();
      expect(await store.queueDepth()).toBe(0);
      expect(await store.retry(id, 4_000)).toBe(0);
      expect(await store.dueOutbox(1e12, 10)).toEqual([]);
    });

    it('a copy to the account mailbox given up on while a device copy is still queued: the row stays queued, naming it; then fails with the last copy', async () => {
      const store = await open({ now: () => 3_000 });
      const { devB, id, copyB } = await fanOutToAccountAndB(store);
      await store.markFailed(id, 'gave up');
      expect(await store.getMessage(id)).toMatchObject({ status: 'queued', failedAccountCopy: true });
      await store.markFailed(copyB, 'gave up on B');
      expect(await store.getMessage(id)).toMatchObject({ status: 'failed', failure: 'gave up on B', failedAccountCopy: true, failedDevices: [devB] });
    });

    it("a message's only copy, to an account mailbox, given up on: the row fails and names no copy", async () => {
      const store = await open({ now: () => 3_000 });
      await store.putContact(contact(1));
      const cid = contactId(1);
      const id = newId();
      await store.commitFanOut({ message: { id, contactId: cid, body: 'one copy', sentAt: 5_000 }, sessionUpdates: [], ready: [{ envelopeId: id, contactId: cid, mailbox: MAILBOX, envelope: bytes(0xac) }], pending: [] });
      expect(await store.markFailed(id, 'gave up')).toBe(id);
      const row = await store.getMessage(id);
      expect(row).toMatchObject({ status: 'failed', failure: 'gave up' });
      expect(row?.failedAccountCopy).toBeUndefined();
      expect(row?.failedDevices).toBeUndefined();
    });

    it("every copy given up on, then one device's receipt: delivered, and the other device's failed copy still waits for retry", async () => {
      const store = await open({ now: () => 3_000 });
      const { devA, devB, id, copyA, copyB, receiptFrom } = await fanOutToAB(store);
      await store.markFailed(copyA, 'Not delivered after repeated attempts');
      await store.markFailed(copyB, 'Not delivered after repeated attempts');
      expect(await store.getMessage(id)).toMatchObject({ status: 'failed', failedDevices: [devA, devB] });
      // B got it after all (its deposit's ack was lost): its failed copy is done.
      await store.commitIncoming(receiptFrom(devB, 'read', 4_000));
      expect(await store.getMessage(id)).toMatchObject({ status: 'read', failedDevices: [devA] });
      expect(await store.retry(id, 5_000)).toBe(1);
      expect((await store.dueOutbox(1e12, 10)).map((e) => e.envelopeId)).toEqual([copyA]);
      expect((await store.getMessage(id))?.status).toBe('read');
    });

    it("a failed device's own receipt ends its failed copy, whatever the message's state: nothing is left to retry", async () => {
      const store = await open({ now: () => 3_000 });
      const { devA, devB, id, copyA, copyB, receiptFrom } = await fanOutToAB(store);
      await store.markSent(copyB, { at: 3_100 });
      await store.markFailed(copyA, 'gave up');
      expect(await store.getMessage(id)).toMatchObject({ status: 'sent', failedDevices: [devA] });
      await store.commitIncoming(receiptFrom(devB, 'delivered', 3_200));
      await store.commitIncoming(receiptFrom(devA, 'delivered', 3_300));
      const row = await store.getMessage(id);
      expect(row).toMatchObject({ status: 'delivered', deviceReceipts: { [devA]: { status: 'delivered' } } });
      expect(row?.failedDevices).toBeUndefined();
      expect(await store.retry(id, 4_000)).toBe(0);
      expect(await store.dueOutbox(1e12, 10)).toEqual([]);
    });

    it('retry refuses a message that is not ours, typed, changing nothing', async () => {
      const store = await open();
      const inc = incoming({ contact: 1, expectedVersion: null });
      await store.commitIncoming(inc);
      const before = await snapshot(store, [1]);
      await expect(store.retry(inc.messageId, 5_000)).rejects.toBeInstanceOf(InvalidTransitionError);
      expect(await snapshot(store, [1])).toEqual(before);
    });

    it('queues protocol replies (a delivery receipt) in the same transaction', async () => {
      const store = await open();
      const replyId = newId();
      await store.commitIncoming(incoming({ contact: 1, expectedVersion: null, outboxEntries: [{ envelopeId: replyId, contactId: contactId(1), mailbox: MAILBOX, envelope: bytes(0x77) }] }));
      const [entry] = await store.dueOutbox(1e12, 10);
      expect(entry).toMatchObject({ envelopeId: replyId, state: 'ready', envelope: bytes(0x77) });
      expect(entry?.messageId).toBeUndefined();
    });

    it("a batch reports the receipts it queued that are their contact's head of line, exactly as outboxHeads orders the queues", async () => {
      const store = await open();
      const receipt = (n: number, envelopeId: string) => ({ envelopeId, contactId: contactId(n), mailbox: MAILBOX, envelope: bytes(0x77) });
      // Contact 2 and 3: a message queued at seq 0 (its id starts with ab). Contact 4: one the batch's receipt delivers.
      const m2 = outgoing({ contact: 2, expectedVersion: null });
      const m3 = outgoing({ contact: 3, expectedVersion: null });
      const m4 = outgoing({ contact: 4, expectedVersion: null });
      for (const m of [m2, m3, m4]) await store.commitOutgoing(m);
      const [r1, r2, r3, r4] = [newId(), 'ff'.repeat(16), '00'.repeat(16), 'fe'.repeat(16)];
      const { results, heads } = await store.commitIncomingBatch([
        incoming({ contact: 1, outboxEntries: [receipt(1, r1)] }),
        // Behind the queued message (same seq, higher id): the outbox's round decides.
        incoming({ contact: 2, outboxEntries: [receipt(2, r2)] }),
        // Ahead of it (same seq, lower id).
        incoming({ contact: 3, outboxEntries: [receipt(3, r3)] }),
        // The message ahead of it leaves the queue in the same batch.
        incoming({ contact: 4, withMessage: false, statusUpdates: [{ messageId: m4.messageId, status: 'delivered' }], outboxEntries: [receipt(4, r4)] }),
      ]);
      expect(results).toEqual(['committed', 'committed', 'committed', 'committed']);
      expect(heads.map((h) => h.envelopeId).sort()).toEqual([r1, r3, r4].sort());
      const stored = await store.outboxHeads(10);
      for (const h of heads) expect(stored.find((s) => s.contactId === h.contactId)).toEqual(h);
      expect(stored.find((s) => s.contactId === contactId(2))?.envelopeId).toBe(m2.envelopeId);
      // A duplicate queues nothing, so it reports no head.
      const again = incoming({ contact: 5, outboxEntries: [receipt(5, newId())] });
      await store.commitIncomingBatch([again]);
      expect((await store.commitIncomingBatch([{ ...again, outboxEntries: [receipt(5, newId())] }])).heads).toEqual([]);
    });

    it("a contact's protocol entries (receipts, resent copies, retry requests, a profile) leave in the order they were queued, ahead of its messages", async () => {
      const store = await open({ now: () => NOW });
      const entry = (envelopeId: string) => ({ envelopeId, contactId: contactId(1), mailbox: MAILBOX, envelope: bytes(0x77) });
      // A message at order 1 waits (the one at order 0 went).
      const m0 = outgoing({ contact: 1, expectedVersion: null });
      const m1 = outgoing({ contact: 1, expectedVersion: 1 });
      for (const m of [m0, m1]) await store.commitOutgoing(m);
      expect(await store.markSent(m0.envelopeId, { at: 1 })).toMatchObject({ removed: true });
      // Ids drawn against the queue order: envelope ids must not decide it.
      const [a, b, c, job, profile] = ['ff'.repeat(16), 'ee'.repeat(16), '00'.repeat(16), 'dd'.repeat(16), '01'.repeat(16)];
      const first = await store.commitIncomingBatch([incoming({ contact: 1, withMessage: false, outboxEntries: [entry(a), entry(b)] })]);
      expect(first.heads.map((h) => h.envelopeId)).toEqual([a]);
      const second = await store.commitIncomingBatch([incoming({ contact: 1, withMessage: false, outboxEntries: [entry(c)], repairJobs: [{ envelopeId: job, contactId: contactId(1), mailbox: MAILBOX, plaintext: bytes(1) }] })]);
      expect(second.heads).toEqual([]);
      await store.commitOutgoing({ ...outgoing({ contact: 1, expectedVersion: 2, withMessage: false }), outboxEntry: entry(profile) });
      const order: string[] = [];
      for (let i = 0; i < 10; i++) {
        const head = (await store.outboxHeads(10)).find((h) => h.contactId === contactId(1));
        if (!head) break;
        order.push(head.envelopeId);
        if (head.state === 'pending_session') await store.markFailed(head.envelopeId, 'gave up');
        else expect(await store.markSent(head.envelopeId, { at: 2 })).toMatchObject({ removed: true });
      }
      expect(order).toEqual([a, b, c, job, profile, m1.envelopeId]);
      // An emptied queue starts again at seq 0; a transcript-style next seq stays whole.
      const again = await store.commitIncomingBatch([incoming({ contact: 1, withMessage: false, outboxEntries: [entry(newId())] })]);
      expect(again.heads.map((h) => h.seq)).toEqual([0]);
    });

    it('a batch commits each fresh envelope once, reports duplicates, and chains session versions', async () => {
      const store = await open();
      const first = incoming({ contact: 1, expectedVersion: null });
      await store.commitIncoming(first);
      const a = incoming({ contact: 1, expectedVersion: 1, body: 'a' });
      const b = incoming({ contact: 2, expectedVersion: null, body: 'b' });
      const c = incoming({ contact: 1, expectedVersion: 2, body: 'c' });
      const { results } = await store.commitIncomingBatch([a, { ...first, sessionUpdate: undefined }, b, c, { ...b, sessionUpdate: undefined }]);
      expect(results).toEqual(['committed', 'duplicate', 'committed', 'committed', 'duplicate']);
      expect((await store.getSession(contactId(1)))?.version).toBe(3);
      expect((await store.getSession(contactId(2)))?.version).toBe(1);
      const page = await store.pageMessages(contactId(1), { limit: 10 });
      expect(page.messages.map((m) => m.body)).toEqual(['hi', 'a', 'c']);
      expect(page.messages.map((m) => m.order)).toEqual([0, 1, 2]);
      expect((await store.getConversation(contactId(1)))?.unread).toBe(3);
      expect(await store.commitIncomingBatch([])).toEqual({ results: [], heads: [] });
    });

    it('a batch whose message id is already stored keeps the stored row and commits the rest', async () => {
      const store = await open();
      const old = incoming({ contact: 1, body: 'first' });
      await store.commitIncoming(old);
      const reused = incoming({ contact: 1, body: 'overwrite?' });
      const sameId = { ...reused, message: { ...reused.message!, id: old.messageId } };
      const fresh = incoming({ contact: 1, body: 'new' });
      expect((await store.commitIncomingBatch([sameId, fresh])).results).toEqual(['committed', 'committed']);
      expect((await store.getMessage(old.messageId))?.body).toBe('first');
      const page = await store.pageMessages(contactId(1), { limit: 10 });
      expect(page.messages.map((m) => m.body)).toEqual(['first', 'new']);
      expect((await store.getConversation(contactId(1)))?.unread).toBe(2);
      expect(await store.processedEnvelopes([sameId.envelopeId, fresh.envelopeId])).toEqual(new Set([sameId.envelopeId, fresh.envelopeId]));
    });

    it('a batch with one conflicting session is rejected whole', async () => {
      const store = await open();
      const before = await snapshot(store, [1, 2]);
      const ok = incoming({ contact: 2, expectedVersion: null });
      const bad = incoming({ contact: 1, expectedVersion: 4 });
      await expect(store.commitIncomingBatch([ok, bad])).rejects.toBeInstanceOf(ConcurrentModificationError);
      expect(await snapshot(store, [1, 2])).toEqual(before);
      expect((await store.processedEnvelopes([ok.envelopeId])).size).toBe(0);
    });

    it('dedup marks expire and are bounded in number, oldest first', async () => {
      const store = await open({ dedupRetentionMs: 1_000, dedupMaxEntries: 3 });
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const c = incoming({ contact: 1, withMessage: false, receivedAt: 10_000 + i * 100 });
        ids.push(c.envelopeId);
        await store.commitIncoming(c);
      }
      // At 11,150 the marks at 10,000 and 10,100 are older than 1,000 ms; then 4 remain, one over the cap.
      expect(await store.pruneDedup(11_150)).toBe(3);
      expect(await store.processedEnvelopes(ids)).toEqual(new Set(ids.slice(3)));
      expect(await store.pruneDedup(11_150)).toBe(0);
    });
  });

  describe(`${name}: covering the devices a message missed (coverDevices)`, () => {
    it('a device whose copy already went is covered, even when the refused copy left the outbox and the first copy was sent again under a new id', async () => {
      const store = await open({ now: () => 1_000 });
      await store.putContact(contact(1));
      const cid = contactId(1);
      const [devA, devB, devC] = ['a', 'b', 'c'].map((x) => x.repeat(32)) as [string, string, string];
      const id = newId();
      // Fanned out under list version 1 to A (the first copy: the message's id) and B.
      const copyB = newId();
      await store.commitFanOut({
        message: { id, contactId: cid, body: 'hello', sentAt: 5_000 },
        sessionUpdates: [],
        ready: [],
        pending: [
          { envelopeId: id, device: devA, mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 },
          { envelopeId: copyB, device: devB, mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 },
        ],
        retain: bytes(7),
      });
      for (const [device, envelopeId] of [[devA, id], [devB, copyB]] as const) {
        await store.commitSessionStart({ sessionUpdate: { contactId: cid + device, expectedVersion: null, state: bytes(1) }, encrypted: [{ envelopeId, envelope: bytes(9) }] });
      }
      // A's copy went; A asked for it again: its kept record moves to the resent copy's id.
      expect(await store.markSent(id, { at: 1_100 })).toMatchObject({ removed: true });
      const [keptA] = await store.resendable([id]);
      const resentA = newId();
      await store.commitIncomingBatch([incoming({ contact: 1, withMessage: false, resent: [{ from: id, record: { ...keptA!, envelopeId: resentA, resends: 1 } }] })]);
      // B's copy was refused as stale, and left the outbox before the cover (another path took it).
      expect(await store.markSent(copyB, { at: 1_200 })).toMatchObject({ removed: true });

      const devices = [devA, devB, devC].map((device) => ({ device, mailbox: MAILBOX, envelopeId: newId() }));
      expect(await store.coverDevices({ messageId: id, contactId: cid, listVersion: 2, plaintext: bytes(7), devices, refused: copyB })).toEqual({ added: 1, requeued: 0, dropped: 0 });
      expect((await store.pendingJobs(cid)).map((j) => j.device)).toEqual([devC]);
      // C's copy is kept with the others: a later refusal covers nobody again.
      expect(await store.coverDevices({ messageId: id, contactId: cid, listVersion: 2, plaintext: bytes(7), devices: devices.map((d) => ({ ...d, envelopeId: newId() })), refused: copyB })).toEqual({ added: 0, requeued: 1, dropped: 0 });
    });
  });

  describe(`${name}: covering the devices an action or a copy to our own devices missed (coverCopies)`, () => {
    it("a refused edit copy and a refused transcript cover only the devices their fan-out missed, with the kept content, once", async () => {
      const store = await open({ now: () => 1_000 });
      await store.putContact(contact(1));
      const cid = contactId(1);
      const own = contactId(2);
      const [devA, devB, devC, ownO, ownP] = ['a', 'b', 'c', 'd', 'e'].map((x) => x.repeat(32)) as [string, string, string, string, string];
      const id = newId();
      await store.commitFanOut({ message: { id, contactId: cid, body: 'teh', sentAt: 900 }, sessionUpdates: [], ready: [], pending: [{ envelopeId: id, device: devA, mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 }], retain: bytes(7) });
      // The edit, under the contact's list version 1 (A, B) and our own list version 1 (O).
      const [editA, editB, editO] = [newId(), newId(), newId()];
      await store.commitFanOutAction({
        contactId: cid,
        action: { kind: 'edit', id: newId(), target: id, by: ME, at: 950, text: 'the' },
        ownAccount: own,
        sessionUpdates: [],
        ready: [],
        pending: [
          { envelopeId: editA, device: devA, mailbox: MAILBOX, plaintext: bytes(8), listVersion: 1 },
          { envelopeId: editB, device: devB, mailbox: MAILBOX, plaintext: bytes(8), listVersion: 1 },
          { envelopeId: editO, device: ownO, own: true, mailbox: MAILBOX, plaintext: bytes(9), listVersion: 1 },
        ],
        retain: bytes(8),
        retainOwn: bytes(9),
      });
      for (const [key, envelopeIds] of [[cid + devA, [id, editA]], [cid + devB, [editB]], [own + ownO, [editO]]] as const) {
        await store.commitSessionStart({ sessionUpdate: { contactId: key, expectedVersion: null, state: bytes(1) }, encrypted: envelopeIds.map((envelopeId) => ({ envelopeId, envelope: bytes(9) })) });
      }
      expect(await store.markSent(editA, { at: 1_100 })).toMatchObject({ removed: true });
      expect(await store.pendingJobs(cid)).toEqual([]);

      // B's copy refused under version 2 (A, B, C): C gets the edit, B goes again, A (sent) nothing.
      const devices = [devA, devB, devC].map((device) => ({ device, mailbox: MAILBOX, envelopeId: newId() }));
      expect(await store.coverCopies({ refused: editB, listVersion: 2, devices })).toEqual({ added: 1, requeued: 1, dropped: 0 });
      const [jobC] = await store.pendingJobs(cid);
      expect(jobC).toMatchObject({ device: devC, contactId: cid, plaintext: bytes(8), listVersion: 2, state: 'pending_session' });
      expect(jobC!.messageId).toBeUndefined();
      const [keptC] = await store.resendable([jobC!.envelopeId]);
      expect(keptC).toMatchObject({ messageId: id, action: true, plaintext: bytes(8), device: devC });
      // Refused again: nobody is covered twice.
      expect(await store.coverCopies({ refused: editB, listVersion: 2, devices: devices.map((d) => ({ ...d, envelopeId: newId() })) })).toEqual({ added: 0, requeued: 2, dropped: 0 });
      expect((await store.pendingJobs(cid)).map((j) => j.device)).toEqual([devC]);

      // The transcript to our device O refused under our version 2 (O, P): P gets the transcript.
      const ours = [ownO, ownP].map((device) => ({ device, mailbox: MAILBOX, envelopeId: newId() }));
      expect(await store.coverCopies({ refused: editO, listVersion: 2, devices: ours })).toEqual({ added: 1, requeued: 1, dropped: 0 });
      expect(await store.pendingJobs(own)).toEqual([expect.objectContaining({ device: ownP, contactId: own, plaintext: bytes(9), listVersion: 2 })]);
    });

    it('refuses a message copy and a device named twice, changing nothing; a copy already gone covers nothing', async () => {
      const store = await open({ now: () => 1_000 });
      await store.putContact(contact(1));
      const cid = contactId(1);
      const id = newId();
      await store.commitFanOut({ message: { id, contactId: cid, body: 'hi', sentAt: 900 }, sessionUpdates: [], ready: [], pending: [{ envelopeId: id, device: 'a'.repeat(32), mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 }], retain: bytes(7) });
      const before = await snapshot(store, [1], [id]);
      const dev = { device: 'b'.repeat(32), mailbox: MAILBOX, envelopeId: newId() };
      await expect(store.coverCopies({ refused: id, listVersion: 2, devices: [dev] })).rejects.toBeInstanceOf(InvalidStoreInputError);
      await expect(store.coverCopies({ refused: id, listVersion: 2, devices: [dev, { ...dev, envelopeId: newId() }] })).rejects.toBeInstanceOf(InvalidStoreInputError);
      await expect(store.coverCopies({ refused: id, listVersion: -1, devices: [dev] })).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect(await snapshot(store, [1], [id])).toEqual(before);
      expect(await store.coverCopies({ refused: newId(), listVersion: 2, devices: [dev] })).toEqual({ added: 0, requeued: 0, dropped: 0 });
    });

    it("an action's copy to the account mailbox of a contact without a list gives way to copies for the devices of its first list", async () => {
      const store = await open({ now: () => 1_000 });
      await store.putContact(contact(1));
      const cid = contactId(1);
      const sent = outgoing({ contact: 1, expectedVersion: null, body: 'teh' });
      await store.commitOutgoing(sent);
      const actionCopy = newId();
      await store.commitOutgoing({
        sessionUpdate: { contactId: cid, expectedVersion: 1, state: bytes(2) },
        action: { kind: 'edit', id: newId(), target: sent.messageId, by: ME, at: 5_001, text: 'the' },
        outboxEntry: { envelopeId: actionCopy, contactId: cid, mailbox: MAILBOX, envelope: bytes(9), listVersion: 0 },
        retain: bytes(8),
      });
      expect((await store.dueOutbox(1_000, 10)).find((e) => e.envelopeId === actionCopy)?.listVersion).toBe(0);
      const devices = ['a', 'b'].map((x) => ({ device: x.repeat(32), mailbox: MAILBOX, envelopeId: newId() }));
      expect(await store.coverCopies({ refused: actionCopy, listVersion: 1, devices })).toEqual({ added: 2, requeued: 0, dropped: 1 });
      const jobs = await store.pendingJobs(cid);
      expect(jobs.map((j) => [j.device, j.listVersion, j.plaintext])).toEqual(devices.map((d) => [d.device, 1, bytes(8)]));
      expect((await store.resendable([actionCopy]))[0]).toBeDefined();
    });

    it('a pending job keeps the list version it was queued under; a bad one is refused and changes nothing', async () => {
      const store = await open({ now: () => 1_000 });
      await store.putContact(contact(1));
      const cid = contactId(1);
      const id = newId();
      await store.commitPendingOutgoing({ message: { id, contactId: cid, body: 'hi', sentAt: 900 }, job: { envelopeId: id, mailbox: MAILBOX, plaintext: bytes(7), listVersion: 0 } });
      expect((await store.pendingJobs(cid))[0]?.listVersion).toBe(0);
      const before = await snapshot(store, [1], [id]);
      const other = newId();
      await expect(store.commitPendingOutgoing({ message: { id: other, contactId: cid, body: 'x', sentAt: 901 }, job: { envelopeId: other, mailbox: MAILBOX, plaintext: bytes(7), listVersion: -1 } })).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect(await snapshot(store, [1], [id])).toEqual(before);
    });

    it("a message's new device gets the content as first written, not the row's text after an edit", async () => {
      const store = await open({ now: () => 1_000 });
      await store.putContact(contact(1));
      const cid = contactId(1);
      const id = newId();
      await store.commitFanOut({ message: { id, contactId: cid, body: 'teh', sentAt: 900 }, sessionUpdates: [], ready: [], pending: [{ envelopeId: id, device: 'a'.repeat(32), mailbox: MAILBOX, plaintext: bytes(7), listVersion: 1 }], retain: bytes(7) });
      const devices = ['a', 'b'].map((x) => ({ device: x.repeat(32), mailbox: MAILBOX, envelopeId: newId() }));
      expect(await store.coverDevices({ messageId: id, contactId: cid, listVersion: 2, plaintext: bytes(99), devices, refused: id })).toEqual({ added: 1, requeued: 1, dropped: 0 });
      expect((await store.pendingJobs(cid)).find((j) => j.device === 'b'.repeat(32))?.plaintext).toEqual(bytes(7));
    });
  });

  describe(`${name}: conversations and paging`, () => {
    it('pages a long conversation by order key, newest page first, with no gaps or overlaps', async () => {
      const store = await open();
      const batch = Array.from({ length: 450 }, (_, i) => incoming({ contact: 1, body: `m${i}`, receivedAt: 10_000 + i }));
      await store.commitIncomingBatch(batch);
      const seen: string[] = [];
      let before: number | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.pageMessages(contactId(1), { limit: 200, ...(before !== undefined ? { before } : {}) });
        pages++;
        seen.unshift(...page.messages.map((m) => m.body));
        if (page.olderCursor === undefined) break;
        before = page.olderCursor;
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(batch.map((_, i) => `m${i}`));
      await expect(store.pageMessages(contactId(1), { limit: 100_000 })).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect((await store.pageMessages(contactId(9), { limit: 10 })).messages).toEqual([]);
    });

    it('lists conversations most recent first and marks a conversation read once', async () => {
      const store = await open({ now: () => 1 });
      await store.commitIncoming(incoming({ contact: 1, receivedAt: 100 }));
      const i2 = incoming({ contact: 2, receivedAt: 300 });
      const i3 = incoming({ contact: 2, receivedAt: 301 });
      await store.commitIncomingBatch([i2, i3]);
      await store.commitOutgoing(outgoing({ contact: 3, expectedVersion: null, sentAt: 200 }));
      expect((await store.listConversations()).map((c) => c.contactId)).toEqual([contactId(2), contactId(3), contactId(1)]);

      const readAll = async (at: number) => store.commitRead({ contactId: contactId(2), at, messageIds: await store.unreadIncoming(contactId(2)) });
      expect(await store.unreadIncoming(contactId(2))).toEqual([i2.messageId, i3.messageId]);
      expect(await readAll(500)).toEqual([i2.messageId, i3.messageId]);
      expect((await store.getConversation(contactId(2)))?.unread).toBe(0);
      expect(await store.getMessage(i3.messageId)).toMatchObject({ status: 'read', updatedAt: 500 });
      expect(await store.unreadIncoming(contactId(2))).toEqual([]);
      expect(await readAll(600)).toEqual([]);
      const i4 = incoming({ contact: 2, receivedAt: 700 });
      await store.commitIncoming(i4);
      expect(await readAll(800)).toEqual([i4.messageId]);
      // Ids already read, of another conversation, outgoing or unknown are left alone.
      expect(await store.commitRead({ contactId: contactId(2), at: 900, messageIds: [i4.messageId, newId()] })).toEqual([]);
      expect(await store.getMessage(i4.messageId)).toMatchObject({ status: 'read', updatedAt: 800 });
    });

    it('reads and their receipt commit together: a stale session leaves the messages unread and queues nothing', async () => {
      const store = await open({ now: () => 1 });
      const start = outgoing({ contact: 2, expectedVersion: null });
      await store.commitOutgoing(start);
      const a = incoming({ contact: 2, receivedAt: 300 });
      const b = incoming({ contact: 2, receivedAt: 301 });
      await store.commitIncomingBatch([a, b]);
      const receiptOf = (expectedVersion: number | null) => {
        const r = outgoing({ contact: 2, expectedVersion, withMessage: false });
        return { envelopeId: r.outboxEntry.envelopeId, receipt: { sessionUpdate: r.sessionUpdate, outboxEntries: [r.outboxEntry] } };
      };
      const stale = receiptOf(null); // the session advanced (version 1) since this receipt was encrypted
      await expect(store.commitRead({ contactId: contactId(2), at: 400, messageIds: [a.messageId, b.messageId], receipt: stale.receipt })).rejects.toBeInstanceOf(ConcurrentModificationError);
      expect(await store.unreadIncoming(contactId(2))).toEqual([a.messageId, b.messageId]);
      expect((await store.getConversation(contactId(2)))?.unread).toBe(2);
      const queued = async () => (await store.dueOutbox(10_000, 100)).map((e) => e.envelopeId);
      expect(await queued()).toEqual([start.envelopeId]);

      const fresh = receiptOf(1);
      expect(await store.commitRead({ contactId: contactId(2), at: 500, messageIds: [a.messageId, b.messageId], receipt: fresh.receipt })).toEqual([a.messageId, b.messageId]);
      expect((await store.getConversation(contactId(2)))?.unread).toBe(0);
      expect((await queued()).sort()).toEqual([start.envelopeId, fresh.envelopeId].sort());
      expect((await store.getSession(contactId(2)))?.version).toBe(2);
      // A receipt for another contact's session is refused before anything is written.
      const other = outgoing({ contact: 3, expectedVersion: null, withMessage: false });
      await expect(store.commitRead({ contactId: contactId(2), at: 600, messageIds: [], receipt: { sessionUpdate: other.sessionUpdate, outboxEntries: [other.outboxEntry] } })).rejects.toBeInstanceOf(InvalidStoreInputError);
    });
  });

  describe(`${name}: linked history (device link import)`, () => {
    it('appends a batch after what the conversation holds, in order, with statuses, not unread; a repeated batch adds nothing', async () => {
      const store = await open();
      await store.putContact(contact(1));
      const first = incoming({ contact: 1, body: 'already here', receivedAt: 5 });
      await store.commitIncoming(first);
      const batch = [
        { id: newId(), direction: 'out' as const, body: 'old out', sentAt: 1, status: 'read' as const },
        { id: newId(), direction: 'in' as const, body: 'old in', sentAt: 2, status: 'delivered' as const },
        { id: newId(), direction: 'out' as const, body: 'never sent', sentAt: 3, status: 'failed' as const },
      ];
      expect(await store.importHistory(contactId(1), batch)).toBe(3);
      expect(await store.importHistory(contactId(1), batch)).toBe(0);
      const page = await store.pageMessages(contactId(1), { limit: 10 });
      expect(page.messages.map((m) => [m.body, m.status])).toEqual([
        ['already here', 'delivered'],
        ['old out', 'read'],
        ['old in', 'delivered'],
        ['never sent', 'failed'],
      ]);
      const conv = await store.getConversation(contactId(1));
      expect(conv).toMatchObject({ unread: 1, lastMessage: { text: 'never sent', direction: 'out' } });
    });

    it('a message still queued on the old device is marked queuedElsewhere, never queued to send here, and a receipt moves it on', async () => {
      const store = await open();
      await store.putContact(contact(1));
      const id = newId();
      await store.importHistory(contactId(1), [{ id, direction: 'out', body: 'written offline there', sentAt: 1, status: 'queued' }]);
      expect(await store.getMessage(id)).toMatchObject({ status: 'queued', queuedElsewhere: true });
      expect(await store.queueDepth()).toBe(0);
      await store.commitIncoming(incoming({ contact: 1, withMessage: false, statusUpdates: [{ messageId: id, status: 'read' }] }));
      const row = await store.getMessage(id);
      expect(row?.status).toBe('read');
      expect(row?.queuedElsewhere).toBeUndefined();
    });

    it('refuses a malformed batch whole, and discardImport removes contacts with their history', async () => {
      const store = await open();
      await store.putContact(contact(1));
      await store.putContact(contact(2));
      await expect(store.importHistory(contactId(1), [{ id: 'not-hex', direction: 'in', body: 'x', sentAt: 1, status: 'delivered' }])).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect((await store.pageMessages(contactId(1), { limit: 10 })).messages).toEqual([]);
      await store.importHistory(contactId(1), [{ id: newId(), direction: 'in', body: 'x', sentAt: 1, status: 'delivered' }]);
      await store.discardImport([contactId(1)]);
      expect((await store.listContacts()).map((c) => c.id)).toEqual([contactId(2)]);
      expect((await store.pageMessages(contactId(1), { limit: 10 })).messages).toEqual([]);
      expect(await store.getConversation(contactId(1))).toBeUndefined();
    });
  });

  describe(`${name}: linked group history (device link import)`, () => {
    const G = 'ab'.repeat(16);
    const BO = 'b0'.repeat(32);
    const line = (order: number, sentAt: number, body: string) => ({ id: newId(), contactId: G, direction: 'in' as const, body, sentAt, receivedAt: sentAt, order, status: 'read' as const, updatedAt: 1, system: true as const });
    async function withGroup(store: PetrelStore, rows: ReturnType<typeof line>[]) {
      await store.groups.commit({ groups: [{ id: G, changes: [], applied: [], names: {}, nextOrder: rows.length + 1, lastActivityAt: 10, createdAt: 10 }], messages: rows });
    }
    const shown = async (store: PetrelStore) => (await store.groups.messagesOf(G)).map((m) => [m.order, m.body, m.status]);

    it("merges a record into the group's lines by the authors' clocks, renumbered, not unread; removes its key in the same commit; a repeated record adds nothing", async () => {
      const store = await open();
      await withGroup(store, [line(1, 100, 'Ada created the group'), line(2, 300, 'Ada added Cy')]);
      const key = groupHistoryKey(0);
      await store.setMeta(key, new Uint8Array([1]));
      const batch = [
        { id: newId(), direction: 'out' as const, body: 'first', sentAt: 200, status: 'read' as const },
        { id: newId(), direction: 'in' as const, senderId: BO, body: 'reply', sentAt: 250, status: 'delivered' as const },
        { id: newId(), direction: 'out' as const, body: 'still queued there', sentAt: 400, status: 'queued' as const },
      ];
      expect(await store.groups.importHistory(G, batch, key)).toBe(3);
      expect(await shown(store)).toEqual([
        [1, 'Ada created the group', 'read'],
        [2, 'first', 'read'],
        [3, 'reply', 'read'],
        [4, 'Ada added Cy', 'read'],
        [5, 'still queued there', 'queued'],
      ]);
      expect(await store.getMeta(key)).toBeUndefined();
      expect(await store.groups.pendingHistory()).toEqual([]);
      const group = await store.groups.getGroup(G);
      expect(group).toMatchObject({ nextOrder: 6, lastActivityAt: 400 });
      expect(await store.getMessage(batch[1]!.id)).toMatchObject({ senderId: BO, direction: 'in' });
      expect(await store.getMessage(batch[2]!.id)).toMatchObject({ queuedElsewhere: true });
      expect(await store.queueDepth()).toBe(0);
      // The same record again (a repeated chunk): nothing is added or moved.
      await store.setMeta(key, new Uint8Array([1]));
      expect(await store.groups.importHistory(G, batch, key)).toBe(0);
      expect((await shown(store)).map(([o]) => o)).toEqual([1, 2, 3, 4, 5]);
    });

    it('a record for a group not here writes nothing and keeps its key; one refused as malformed changes nothing; dropHistory removes it', async () => {
      const store = await open();
      const key = groupHistoryKey(3);
      await store.setMeta(key, new Uint8Array([9]));
      expect(await store.groups.importHistory(G, [{ id: newId(), direction: 'out', body: 'x', sentAt: 1, status: 'read' }], key)).toBeUndefined();
      expect(await store.groups.pendingHistory()).toEqual([{ key, bytes: new Uint8Array([9]) }]);
      await withGroup(store, [line(1, 100, 'Ada created the group')]);
      await expect(store.groups.importHistory(G, [{ id: 'not-hex', direction: 'in', senderId: BO, body: 'x', sentAt: 1, status: 'read' }], key)).rejects.toBeInstanceOf(InvalidStoreInputError);
      await expect(store.groups.importHistory(G, [{ id: newId(), direction: 'in', senderId: 'zz', body: 'x', sentAt: 1, status: 'read' }], key)).rejects.toBeInstanceOf(InvalidStoreInputError);
      await expect(store.groups.importHistory(G, [], 'groupInbox:1')).rejects.toBeInstanceOf(InvalidStoreInputError);
      expect(await shown(store)).toEqual([[1, 'Ada created the group', 'read']]);
      expect(await store.groups.pendingHistory()).toHaveLength(1);
      await store.groups.dropHistory(key);
      expect(await store.groups.pendingHistory()).toEqual([]);
    });
  });

  describe(`${name}: bad input and failure states`, () => {
    it('malformed commits are refused with InvalidStoreInputError and change nothing (property)', async () => {
      const store = await open();
      await store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }));
      const before = await snapshot(store, [1]);
      const valid = incoming({ contact: 1, expectedVersion: 1 });
      const junk = fc.oneof(fc.constant(undefined), fc.constant(null), fc.integer({ max: -1 }), fc.string(), fc.uint8Array({ maxLength: 4 }), fc.constant(Number.NaN), fc.constant([1, 'x']));
      const fields = ['envelopeId', 'from', 'receivedAt', 'sessionUpdate', 'message', 'statusUpdates', 'preKeyPool', 'contactUpdate', 'outboxEntries'] as const;
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fields), junk, async (field, value) => {
          const bad = { ...valid, [field]: value };
          const optional = field !== 'envelopeId' && field !== 'receivedAt';
          if (optional && value === undefined) return; // omitting an optional field is valid
          if (field === 'preKeyPool' && value instanceof Uint8Array) return; // any bytes are a valid pool
          const err = await store.commitIncoming(bad as never).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(InvalidStoreInputError);
        }),
        { numRuns: 120 },
      );
      // Parts of one commit that name different contacts are a caller bug, refused whole.
      await expect(store.commitIncoming({ ...valid, from: contactId(2) })).rejects.toBeInstanceOf(InvalidStoreInputError);
      const mixed = outgoing({ contact: 1, expectedVersion: 1 });
      await expect(store.commitOutgoing({ ...mixed, outboxEntry: { ...mixed.outboxEntry, contactId: contactId(2) } })).rejects.toBeInstanceOf(InvalidStoreInputError);
      for (const call of [
        () => store.commitOutgoing(null as never),
        () => store.markSent('nope', { at: 1 }),
        () => store.dueOutbox(-1, 1),
        () => store.commitIncomingBatch('x' as never),
        () => store.getSession('ABC'),
        () => store.setMeta('k', {} as never),
      ]) {
        await expect(call()).rejects.toBeInstanceOf(StoreError);
      }
      expect(await snapshot(store, [1])).toEqual(before);
    });

    it('after close every operation rejects with StorageClosedError and the state is closed', async () => {
      const store = await open();
      const states: string[] = [];
      store.health.subscribe((s) => states.push(s));
      expect(store.health.get()).toBe('ok');
      store.close();
      expect(store.health.get()).toBe('closed');
      expect(states).toEqual(['closed']);
      await expect(store.commitOutgoing(outgoing({ contact: 1, expectedVersion: null }))).rejects.toBeInstanceOf(StorageClosedError);
      await expect(store.queueDepth()).rejects.toBeInstanceOf(StorageClosedError);
    });
  });

  describe(`${name}: durability`, () => {
    it('everything committed is there after reopening', async () => {
      const h = await factory();
      if (!h.reopen) return; // in-memory: nothing to reopen
      const out = outgoing({ contact: 1, expectedVersion: null });
      await h.store.commitOutgoing(out);
      const inc = incoming({ contact: 1, expectedVersion: 1 });
      await h.store.commitIncoming(inc);
      const before = await snapshot(h.store, [1]);
      const again = await h.reopen();
      expect(await snapshot(again, [1])).toEqual(before);
      expect(await again.commitIncoming(inc)).toBe('duplicate');
    });
  });
}
