/**
 * `commitFanOut` (docs/STORAGE.md, PROTOCOL.md §13.5): one message to several devices of a
 * contact is all its copies or none. A session that moved between two targets (what a
 * concurrent ratchet step or a crash-and-restart leaves), an envelope id already taken, or
 * a store write that fails in the middle writes nothing: no row, no copy, no session moved.
 * `dropOutboxEntry` removes one copy and fails the message only when it was its last one.
 */
import { describe, expect, it } from 'vitest';
import { createMemoryStore, ConcurrentModificationError, InvalidStoreInputError, MemoryBackend, BackendPetrelStore, type FanOutCommit, type PetrelStore } from '../../src/core/store/index.ts';
import { FaultBackend } from './fault-backend.ts';
import { bytes, contact, contactId, MAILBOX, newId } from './fixtures.ts';

const DEV_A = 'a'.repeat(32);
const DEV_B = 'b'.repeat(32);
const DEV_C = 'c'.repeat(32);

async function withTwoDeviceSessions(store: PetrelStore) {
  await store.putContact(contact(1));
  const cid = contactId(1);
  for (const d of [DEV_A, DEV_B]) await store.commitSession({ contactId: cid + d, expectedVersion: null, state: bytes(1) });
  return cid;
}

function fanOut(cid: string, versions: { a: number | null; b: number | null }): FanOutCommit & { ids: string[] } {
  const id = newId();
  const ids = [id, newId(), newId()];
  return {
    ids,
    message: { id, contactId: cid, body: 'to every device', sentAt: 5_000 },
    sessionUpdates: [
      { contactId: cid + DEV_A, expectedVersion: versions.a, state: bytes(2) },
      { contactId: cid + DEV_B, expectedVersion: versions.b, state: bytes(2) },
    ],
    ready: [
      { envelopeId: ids[0]!, contactId: cid, device: DEV_A, mailbox: MAILBOX, envelope: bytes(9) },
      { envelopeId: ids[1]!, contactId: cid, device: DEV_B, mailbox: MAILBOX, envelope: bytes(9) },
    ],
    pending: [{ envelopeId: ids[2]!, device: DEV_C, mailbox: MAILBOX, plaintext: bytes(7) }],
  };
}

async function snapshot(store: PetrelStore, cid: string) {
  return {
    messages: (await store.pageMessages(cid, { limit: 10 })).messages.length,
    queue: await store.queueDepth(),
    a: (await store.getSession(cid + DEV_A))?.version,
    b: (await store.getSession(cid + DEV_B))?.version,
  };
}

describe('commitFanOut', () => {
  it('copies to our own devices (transcripts) queue in compose order, whatever their envelope ids', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    await store.putContact(contact(1));
    const cid = contactId(1);
    const own = contactId(2);
    // Envelope ids chosen so that envelope-id order is the reverse of compose order.
    const copies = ['f'.repeat(32), 'e'.repeat(32), 'd'.repeat(32)];
    for (const [k, ownCopy] of copies.entries()) {
      const id = newId();
      await store.commitFanOut({
        message: { id, contactId: cid, body: `message ${k}`, sentAt: 5_000 + k },
        ownAccount: own,
        sessionUpdates: [],
        ready: [
          { envelopeId: id, contactId: cid, mailbox: MAILBOX, envelope: bytes(9) },
          { envelopeId: ownCopy, contactId: own, device: DEV_A, mailbox: MAILBOX, envelope: bytes(9) },
        ],
        pending: [],
      });
    }
    const sent: string[] = [];
    for (let k = 0; k < copies.length; k++) {
      const head = (await store.outboxHeads(10)).find((e) => e.contactId === own)!;
      sent.push(head.envelopeId);
      await store.markSent(head.envelopeId, { at: 2_000 });
    }
    expect(sent).toEqual(copies);
  });

  it('commits the row, every advanced device session and one entry per device (pending for the one without a session) together', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    const cid = await withTwoDeviceSessions(store);
    const c = fanOut(cid, { a: 1, b: 1 });
    await store.commitFanOut(c);
    expect(await snapshot(store, cid)).toEqual({ messages: 1, queue: 3, a: 2, b: 2 });
    const heads = await store.outboxHeads(10);
    // The ready copy is the contact's head, not the copy waiting for its device's session.
    expect(heads).toHaveLength(1);
    expect(heads[0]!.state).toBe('ready');
    expect((await store.pendingJobs(cid)).map((j) => j.device)).toEqual([DEV_C]);
    expect((await store.getMessage(c.message.id))!.status).toBe('queued');
  });

  it('a session that moved between two targets writes nothing at all', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    const cid = await withTwoDeviceSessions(store);
    const before = await snapshot(store, cid);
    // The second device's session is not at the version the copy was encrypted from.
    await expect(store.commitFanOut(fanOut(cid, { a: 1, b: 7 }))).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect(await snapshot(store, cid)).toEqual(before);
  });

  it('a store write failing after any of the copies leaves no half-state', async () => {
    // 2 sessions + row + conversation + 3 entries = 7 writes: cut after each of the first 6.
    for (let afterWrite = 1; afterWrite <= 6; afterWrite++) {
      const faults = new FaultBackend(new MemoryBackend(), (tx) => tx.abort());
      const store = new BackendPetrelStore(faults, { now: () => 1_000 });
      const cid = await withTwoDeviceSessions(store);
      const before = await snapshot(store, cid);
      const c = fanOut(cid, { a: 1, b: 1 });
      faults.arm({ afterWrite, kind: 'throw' });
      await expect(store.commitFanOut(c)).rejects.toThrow();
      expect(faults.fired).toBe(true);
      faults.arm(undefined);
      expect(await snapshot(store, cid)).toEqual(before);
      expect(await store.getMessage(c.message.id)).toBeUndefined();
    }
  });

  it('refuses a commit whose parts name another contact, or repeat an id, before writing', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    const cid = await withTwoDeviceSessions(store);
    const c = fanOut(cid, { a: 1, b: 1 });
    await expect(store.commitFanOut({ ...c, ready: [{ ...c.ready[0]!, contactId: contactId(2) }] })).rejects.toBeInstanceOf(InvalidStoreInputError);
    await expect(store.commitFanOut({ ...c, pending: [{ ...c.pending[0]!, envelopeId: c.ids[0]! }] })).rejects.toBeInstanceOf(InvalidStoreInputError);
    await expect(store.commitFanOut({ ...c, ready: [], pending: [] })).rejects.toBeInstanceOf(InvalidStoreInputError);
    expect(await snapshot(store, cid)).toEqual({ messages: 0, queue: 0, a: 1, b: 1 });
  });
});

describe('dropOutboxEntry', () => {
  it('drops one copy while others remain; the last copy of a message none of whose copies went out fails it', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    const cid = await withTwoDeviceSessions(store);
    const c = fanOut(cid, { a: 1, b: 1 });
    await store.commitFanOut(c);
    expect(await store.dropOutboxEntry(c.ids[2]!, 'no keys')).toBe('dropped');
    expect(await store.dropOutboxEntry(c.ids[1]!, 'unlinked')).toBe('dropped');
    expect(await store.dropOutboxEntry(c.ids[0]!, 'unlinked')).toBe('failed');
    expect(await store.getMessage(c.message.id)).toMatchObject({ status: 'failed', failure: 'unlinked' });
    expect(await store.dropOutboxEntry(newId(), 'x')).toBe('gone');
    // A retry sends the failed copy again.
    await store.retry(c.message.id, 2_000);
    expect(await store.getMessage(c.message.id)).toMatchObject({ status: 'queued' });
    expect(await store.queueDepth()).toBe(1);
  });

  it('after one copy went out, dropping the others leaves the message sent', async () => {
    const store = createMemoryStore({ now: () => 1_000 });
    const cid = await withTwoDeviceSessions(store);
    const c = fanOut(cid, { a: 1, b: 1 });
    await store.commitFanOut(c);
    await store.markSent(c.ids[0]!, { at: 1_500, via: 'relay' });
    expect(await store.dropOutboxEntry(c.ids[1]!, 'unlinked')).toBe('dropped');
    expect(await store.dropOutboxEntry(c.ids[2]!, 'no keys')).toBe('dropped');
    expect(await store.getMessage(c.message.id)).toMatchObject({ status: 'sent' });
    expect(await store.queueDepth()).toBe(0);
  });
});
