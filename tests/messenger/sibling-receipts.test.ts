/**
 * Delivery receipts to the other devices of a multi-device contact (issue 16, PROTOCOL.md
 * §13.5): they are written in the receive commit itself (`IncomingCommit.siblingReceipts`,
 * each with the session we hold with that device), so a crash between that commit and any
 * send loses none. On the real relay: Ada on two devices, Bo on one whose core "crashes"
 * right after committing the message from Ada's second device.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.ts';
import { createMemoryStore, type IncomingCommit, type PetrelStore } from '../../src/core/store/index.ts';
import { sessionKey } from '../../src/core/store/session-key.ts';
import { adaOnTwoDevices } from './ada-on-two-devices.ts';
import { device, expectEventually, testWorld, until } from './harness.ts';

const world = testWorld();

/**
 * A memory store whose batch commit, once `crash.armed`, commits the batch carrying `body`
 * and then never returns: the core that called it is stuck between the commit and anything
 * after it (no ack, no hook, no send), as if the tab died there.
 */
function crashingStore(): { store: PetrelStore; inner: PetrelStore; crash: { armed: boolean; body: string; hit: boolean } } {
  const inner = createMemoryStore({ now: () => Date.now() });
  const crash = { armed: false, body: '', hit: false };
  const store = Object.create(inner) as PetrelStore;
  store.commitIncomingBatch = async (commits: readonly IncomingCommit[]) => {
    const results = await inner.commitIncomingBatch(commits);
    if (crash.armed && commits.some((c) => c.transcript === undefined && c.message?.body === crash.body)) {
      crash.hit = true;
      return new Promise(() => {});
    }
    return results;
  };
  return { store, inner, crash };
}

async function statusOf(store: PetrelStore, contactId: string, body: string): Promise<string | undefined> {
  return (await store.pageMessages(contactId, { limit: 50 })).messages.find((m) => m.body === body)?.status;
}

describe('delivery receipts to a contact’s other devices', () => {
  it('are in the receive commit: a crash right after it loses none, and Ada’s first device shows her second one’s message delivered', { timeout: 60_000 }, async () => {
    const { store, inner, crash } = crashingStore();
    const { r, ada1, ada2, bo, aSeesB, bSeesA, one } = await adaOnTwoDevices(world, store);
    // Bo writes first: he then has a session with each of Ada's devices (a device without one gets no sibling receipt).
    await bo.messenger.send(bSeesA, 'hello both');
    await until(ada1, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await until(ada2, (s) => s.contacts.find((c) => c.id === aSeesB)?.unread === 1);
    await expectEventually(async () => (await bo.store.queueDepth()) === 0);
    // And Bo has both devices' delivery receipts for it: each one he opens advances his session with that device.
    await expectEventually(async () => {
      const sent = (await bo.store.pageMessages(bSeesA, { limit: 50 })).messages.find((m) => m.body === 'hello both');
      return Object.keys(sent?.deviceReceipts ?? {}).length === 2;
    });
    const firstDevice = sessionKey(bSeesA, toHex(one.id));
    const sessionBefore = (await inner.getSession(firstDevice))!.version;

    crash.armed = true;
    crash.body = 'from my laptop';
    await ada2.messenger.send(aSeesB, 'from my laptop');
    await expectEventually(async () => crash.hit);
    // Committed with the message: the receipt to Ada's first device, in the outbox, and the
    // session with that device advanced by encrypting it, in the same transaction.
    const queued = (await inner.dueOutbox(Number.MAX_SAFE_INTEGER, 100)).filter((e) => e.device === toHex(one.id));
    expect(queued).toHaveLength(1);
    expect((await inner.getSession(firstDevice))!.version).toBe(sessionBefore + 1);
    // Ada's first device has the transcript (it travels beside the copy to Bo), still `sent`: no receipt left Bo.
    await expectEventually(async () => (await statusOf(ada1.store, aSeesB, 'from my laptop')) !== undefined);
    expect(await statusOf(ada1.store, aSeesB, 'from my laptop')).toBe('sent');

    // The crash: that core is gone (its stop may never finish: it is stuck in the commit); a new one opens the same storage.
    crash.armed = false;
    await Promise.race([bo.stop(), new Promise((resolve) => setTimeout(resolve, 1_000))]);
    const bo2 = world.track(device(r.url, inner));
    await bo2.messenger.start();
    await expectEventually(async () => (await statusOf(ada1.store, aSeesB, 'from my laptop')) === 'delivered', 20_000);
    await expectEventually(async () => (await statusOf(ada2.store, aSeesB, 'from my laptop')) === 'delivered');
    // Shown once at Bo's (the envelope the crashed core never acknowledged came again: a duplicate).
    expect((await inner.pageMessages(bSeesA, { limit: 50 })).messages.filter((m) => m.body === 'from my laptop')).toHaveLength(1);
    await expectEventually(async () => (await inner.queueDepth()) === 0);
  });

  it('the store refuses sibling receipts for another contact, a device-less session or a session updated twice, and writes nothing', async () => {
    const store = createMemoryStore({ now: () => Date.now() });
    const contact = 'a1'.repeat(32);
    const other = 'b2'.repeat(32);
    const dev = 'c3'.repeat(16);
    const entry = { envelopeId: 'd4'.repeat(16), contactId: contact, device: dev, mailbox: new Uint8Array(32), envelope: new Uint8Array([1]) };
    const base = { envelopeId: 'e5'.repeat(16), from: contact, receivedAt: 1 };
    const update = (key: string) => ({ contactId: key, expectedVersion: null, state: new Uint8Array([2]) });
    const bad: IncomingCommit[] = [
      { ...base, siblingReceipts: [{ sessionUpdate: update(sessionKey(other, dev)), outboxEntries: [{ ...entry, contactId: other }] }] },
      { ...base, siblingReceipts: [{ sessionUpdate: update(contact), outboxEntries: [{ ...entry, device: undefined }] }] },
      { ...base, siblingReceipts: [{ sessionUpdate: update(sessionKey(contact, dev)), outboxEntries: [{ ...entry, device: 'f6'.repeat(16) }] }] },
      { ...base, sessionUpdate: update(sessionKey(contact, dev)), siblingReceipts: [{ sessionUpdate: update(sessionKey(contact, dev)), outboxEntries: [entry] }] },
      { envelopeId: base.envelopeId, receivedAt: 1, siblingReceipts: [{ sessionUpdate: update(sessionKey(contact, dev)), outboxEntries: [entry] }] },
    ];
    for (const c of bad) await expect(store.commitIncoming(c)).rejects.toMatchObject({ name: 'InvalidStoreInputError' });
    expect(await store.queueDepth()).toBe(0);
    expect(await store.getSession(sessionKey(contact, dev))).toBeUndefined();
    // The same, well formed: committed, its session and outbox entry written together.
    expect(await store.commitIncoming({ ...base, siblingReceipts: [{ sessionUpdate: update(sessionKey(contact, dev)), outboxEntries: [entry] }] })).toBe('committed');
    expect((await store.getSession(sessionKey(contact, dev)))?.version).toBe(1);
    expect((await store.dueOutbox(Number.MAX_SAFE_INTEGER, 10)).map((e) => e.envelopeId)).toEqual([entry.envelopeId]);
  });
});
